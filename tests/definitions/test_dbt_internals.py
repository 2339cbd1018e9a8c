"""Contracts on the dbt internals the project's macros use, checked by running them in dbt.

The macros read the invocation through one macro, ``dbt_invocation()`` (dbt/macros/
dbt_invocation.sql): ``flags.WHICH``, ``flags.FULL_REFRESH`` and the ``event_time_start``/``_end``
keys of ``invocation_args_dict``. Publishing (dbt/macros/publishing/) also uses dbt's relation
cache (``adapter.cache_added``/``cache_dropped``), ``selected_resources``, ``graph.nodes`` and
``builtins.ref``. A probe in a scratch copy of the platform's test project (tests/fixtures/
subscriptions) calls each as the macros do, in a real ``dbt run``: if dbt renames or changes one,
this fails by name instead of builds quietly reading all history or publishing what they did not
build.
"""

import json
import os
import subprocess
from pathlib import Path

import pytest
from support import copy_dbt_project

from dataplatform.dbt.project import dbt_executable
from dataplatform.publishing import BLUE_SUFFIX

PROBE_MODEL = "model.warehouse.contract_probe"
PROBE_MACRO = """
{% macro contract_probe() %}
    {%- set referenced = builtins.ref('contract_probe') -%}
    {%- if execute -%}
        {%- set probe = dbt_invocation() -%}
        {%- set node = graph.nodes.get('""" + PROBE_MODEL + """') -%}
        {%- set unbuilt = api.Relation.create(database=node.database, schema=node.schema, identifier='never_built',
                                              type='table') -%}
        {%- do adapter.cache_added(unbuilt) -%}
        {%- set cached = load_cached_relation(unbuilt) is not none -%}
        {%- do adapter.cache_dropped(unbuilt) -%}
        {%- do probe.update({
            'selected': selected_resources | list,
            'graph_node': node.unique_id,
            'cache_added': cached,
            'cache_dropped': load_cached_relation(unbuilt) is none,
            'builtins_ref': referenced.identifier,
        }) -%}
        {%- do log('contract probe: ' ~ tojson(probe), info=true) -%}
    {%- endif -%}
{% endmacro %}
"""


@pytest.fixture(scope="module")
def probe_project(tmp_path_factory, fixture_root):
    project = copy_dbt_project(tmp_path_factory.mktemp("dbt_internals") / "dbt", fixture_root / "dbt")
    (project / "macros" / "contract_probe.sql").write_text(PROBE_MACRO)
    (project / "models" / "billing" / "staging" / "contract_probe.sql").write_text("{{ config(access='public') }}\nselect 1 as id\n")
    settings = project / "dbt_project.yml"
    hooks = 'on-run-start: ["{{ create_missing_sources() }}", "{{ start_blue_from_green() }}"]'
    assert hooks in settings.read_text()
    settings.write_text(settings.read_text().replace(hooks, hooks.replace('[', '["{{ contract_probe() }}", ')))
    installed = subprocess.run([dbt_executable(), "deps", "--project-dir", str(project), "--profiles-dir", str(project)],
                               capture_output=True, text=True, timeout=300)  # its vendored package, offline
    assert installed.returncode == 0, installed.stdout[-3000:]
    return project


def dbt(project, *args: str) -> str:
    """A dbt command on the scratch project, in the test's environment (``platform_env``'s warehouse)."""
    Path(os.environ["DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    result = subprocess.run([dbt_executable(), *args, "--project-dir", str(project), "--profiles-dir", str(project)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return result.stdout


def probe(project, *args: str) -> dict:
    out = dbt(project, "run", "--select", "contract_probe", *args)
    line = next(line for line in out.splitlines() if "contract probe: " in line)
    return json.loads(line.split("contract probe: ", 1)[1])


def test_the_window_and_the_command_read_as_the_macros_expect(probe_project, platform_env):
    seen = probe(probe_project, "--event-time-start", "2026-01-01", "--event-time-end", "2026-01-02")
    assert (seen["command"], seen["builds_models"], seen["full_refresh"]) == ("run", True, False)
    assert (seen["window_start"], seen["window_end"]) == ("2026-01-01 00:00:00", "2026-01-02 00:00:00")


def test_a_full_refresh_without_a_window_reads_as_such(probe_project, platform_env):
    seen = probe(probe_project, "--full-refresh")
    assert (seen["full_refresh"], seen["window_start"], seen["window_end"]) == (True, None, None)


def test_selection_graph_relation_cache_and_builtins_ref_work_as_publishing_uses_them(probe_project, platform_env):
    seen = probe(probe_project)
    assert seen["selected"] == [PROBE_MODEL] and seen["graph_node"] == PROBE_MODEL
    assert (seen["cache_added"], seen["cache_dropped"], seen["builtins_ref"]) == (True, True, "contract_probe")


def test_the_blue_suffix_is_the_one_the_platform_strips(probe_project, platform_env):
    compiled = json.loads(dbt(probe_project, "compile", "--inline", "{{ blue_suffix() }}", "--output", "json", "--quiet"))
    assert compiled["compiled"] == BLUE_SUFFIX
