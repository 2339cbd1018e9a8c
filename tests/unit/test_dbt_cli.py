"""The platform's dbt resource skips two start-up costs of dagster-dbt's (see PlatformDbtCli).

dagster-dbt runs ``dbt --version`` before every dbt command to tell dbt-core from dbt Fusion
(a second dbt start-up per run, with a PyPI query), and loads a dbt adapter in the run process
that only row-count and column metadata use. The e2e tests run real builds through it.
"""

import importlib.metadata
import sys
from functools import cached_property

from dagster._utils import pushd
from dagster_dbt import DbtCliResource
from packaging.version import Version
from support import REPO

from dataplatform.dbt_project import PlatformDbtCli, dbt_cli, dbt_executable, get_dbt_project


def test_dagster_dbt_still_has_the_hooks_the_platform_overrides():
    assert isinstance(DbtCliResource.__dict__.get("_cli_version"), cached_property)
    assert callable(DbtCliResource.__dict__.get("_initialize_dbt_core_adapter"))


def test_the_version_of_the_dbt_beside_python_comes_from_its_package_without_a_subprocess():
    started = []
    sys.addaudithook(lambda event, args: started.append(args) if event == "subprocess.Popen" else None)
    cli = dbt_cli(get_dbt_project(REPO / "dbt", "dev"))
    assert cli._cli_version == Version(importlib.metadata.version("dbt-core"))
    assert started == []


def test_the_in_process_adapter_is_loaded_only_when_asked_for(platform_env):
    project = get_dbt_project(REPO / "dbt", "dev")
    assert dbt_cli(project)._initialize_dbt_core_adapter(["build"]) is None
    cli = PlatformDbtCli(project_dir=project, dbt_executable=dbt_executable(), in_process_adapter=True)
    with pushd(str(REPO / "dbt")):
        adapter = cli._initialize_dbt_core_adapter(["build"])
    assert adapter.type() == "duckdb"
