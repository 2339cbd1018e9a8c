"""The platform's dbt resource skips two start-up costs of dagster-dbt's (see PlatformDbtCli).

dagster-dbt runs ``dbt --version`` before every dbt command to tell dbt-core from dbt Fusion
(a second dbt start-up per run, with a PyPI query), and loads a dbt adapter in the run process
that only row-count and column metadata use. The e2e tests run real builds through it. Shown on
a copy of the platform's test project (tests/fixtures/subscriptions), its packages installed.
"""

import importlib.metadata
import sys
from functools import cached_property
from pathlib import Path
from typing import ClassVar

import pytest
from dagster._utils import pushd
from packaging.version import Version
from support import copy_dbt_project

from dataplatform.dbt.project import dbt_cli, dbt_executable, get_dbt_project
from dataplatform.patches.dbt_startup import PlatformDbtCli


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory, fixture_root) -> Path:
    """A copy of the test project with its vendored package installed (`dbt deps`, offline)."""
    import subprocess

    project = copy_dbt_project(tmp_path_factory.mktemp("dbt_cli") / "dbt", fixture_root / "dbt")
    installed = subprocess.run([dbt_executable(), "deps", "--project-dir", str(project), "--profiles-dir", str(project)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stdout[-3000:]
    return project


class RecordingDbtCli(PlatformDbtCli):
    """The platform's resource, recording each call dagster-dbt makes into the two hooks."""

    calls: ClassVar[list[str]] = []

    @cached_property
    def _cli_version(self) -> Version:
        self.calls.append("_cli_version")
        return PlatformDbtCli._cli_version.func(self)

    def _initialize_dbt_core_adapter(self, args):
        self.calls.append("_initialize_dbt_core_adapter")
        return super()._initialize_dbt_core_adapter(args)


def test_dagster_dbt_still_calls_the_hooks_the_platform_overrides(project_dir, platform_env):
    """A contract on use, not presence: a real ``cli()`` asks the version and the adapter through
    the hooks the platform overrides, and starts one process, dbt itself (no ``dbt --version``).
    If dagster-dbt renames a hook or stops calling it, this fails."""
    cli = RecordingDbtCli(project_dir=get_dbt_project(project_dir, "dev"), dbt_executable=dbt_executable())
    started = []
    sys.addaudithook(lambda event, args: started.append(args[1]) if event == "subprocess.Popen" and cli.calls else None)
    invocation = cli.cli(["ls", "--select", "invoices", "--quiet"])
    invocation.wait()
    assert cli.calls == ["_cli_version", "_initialize_dbt_core_adapter"]
    assert invocation.adapter is None  # not loaded in the run process
    assert len(started) == 1 and Path(started[0][0]).name == "dbt" and "--version" not in started[0]


def test_the_version_of_the_dbt_beside_python_comes_from_its_package_without_a_subprocess(project_dir):
    started = []
    sys.addaudithook(lambda event, args: started.append(args) if event == "subprocess.Popen" else None)
    cli = dbt_cli(get_dbt_project(project_dir, "dev"))
    assert cli._cli_version == Version(importlib.metadata.version("dbt-core"))
    assert started == []


def test_the_in_process_adapter_is_loaded_only_when_asked_for(project_dir, platform_env):
    project = get_dbt_project(project_dir, "dev")
    assert dbt_cli(project)._initialize_dbt_core_adapter(["build"]) is None
    cli = PlatformDbtCli(project_dir=project, dbt_executable=dbt_executable(), in_process_adapter=True)
    with pushd(str(project_dir)):
        adapter = cli._initialize_dbt_core_adapter(["build"])
    assert adapter.type() == "duckdb"


def test_without_the_patch_dagster_dbt_starts_dbt_twice_per_command(project_dir, platform_env, monkeypatch):
    """Stock dagster-dbt (PLATFORM_PATCHES without dbt_startup gives its own resource): a ``dbt
    --version`` before the command itself."""
    from dagster_dbt import DbtCliResource

    from dataplatform import patches

    monkeypatch.setenv("PLATFORM_PATCHES", "none")
    cli = dbt_cli(get_dbt_project(project_dir, "dev"))
    assert type(cli) is DbtCliResource and not patches.active("dbt_startup")
    started = []
    sys.addaudithook(lambda event, args: started.append([str(a) for a in args[1]]) if event == "subprocess.Popen" else None)
    cli.cli(["ls", "--select", "invoices", "--quiet"]).wait()
    dbt_starts = [args for args in started if Path(args[0]).name == "dbt"]
    assert dbt_starts[0][1:] == ["--version"] and "ls" in dbt_starts[1], dbt_starts
