"""The one dbt project, and preparing its manifest once for every code location.

Three code locations load at the same time. If each ran ``dbt parse`` (dagster-dbt's
``prepare_if_dev``) they would race on ``target/`` (dagster#33993). Instead the manifest is
rebuilt only when the project's files, or the environment variables they read, changed since
the last parse, under a file lock, so the first location to load parses and the others read its
manifest; the same step cuts each domain's slice of it (``dataplatform.dbt.slices``), which
is all its location reads. A deployment image parses at build; a location started with other values (the real
BigQuery project) parses once more at start, so that its runs can parse partially.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import re
import shutil
import sys
import time
from functools import cache
from pathlib import Path

import yaml
from dagster import get_dagster_logger
from dagster_dbt import DbtCliResource, DbtProject
from filelock import FileLock

from dataplatform.dbt.slices import write_slices

log = get_dagster_logger("dbt_project")

# Files whose change changes the manifest. Anything else (target/, logs/) is ignored.
_PROJECT_FILE_SUFFIXES = {".sql", ".yml", ".yaml", ".md", ".csv", ".py"}
_PROJECT_FOLDERS = ("models", "snapshots", "macros", "data-tests", "seeds", "analyses")
_FINGERPRINT_FILE = "manifest.fingerprint"
# dbt packages: what `dbt deps` reads, and where it installs them (a local package as a link).
_PACKAGE_FILES = ("packages.yml", "dependencies.yml", "package-lock.yml")
_DEPS_FINGERPRINT_FILE = "deps.fingerprint"
_ENV_VAR = re.compile(r"""env_var\(\s*['"]([A-Za-z_][A-Za-z0-9_]*)['"]""")


class ManifestError(RuntimeError):
    """The dbt project could not be parsed; the message carries dbt's own error."""


def dbt_executable() -> str:
    """The dbt installed beside this Python, so a code server need not have the venv on PATH."""
    beside_python = Path(sys.executable).parent / "dbt"
    return str(beside_python) if beside_python.is_file() else shutil.which("dbt") or "dbt"


# dbt's global flags on every command the platform runs. ``--use-fast-test-edges`` (dbt's "fast test
# edges" global config): before its first model, ``dbt build`` makes every test a parent of every
# model downstream of what it tests; at 5,000 models and 10,000 tests that took dbt more than 20
# minutes and 3.5 GB (bench/README.md, an organisation), and the fast path keeps the same order
# with far fewer edges.
DBT_GLOBAL_FLAGS = ("--use-fast-test-edges",)


def dbt_cli(project: DbtProject) -> DbtCliResource:
    """The dbt CLI resource every location and the manifest preparation use: without dagster-dbt's
    per-command start-up costs where the ``dbt_startup`` patch is on (dataplatform.patches)."""
    from dataplatform.patches import active

    resource = DbtCliResource
    if active("dbt_startup"):
        from dataplatform.patches.dbt_startup import PlatformDbtCli

        resource = PlatformDbtCli
    return resource(project_dir=project, dbt_executable=dbt_executable(), global_config_flags=list(DBT_GLOBAL_FLAGS))


@cache
def get_dbt_project(project_dir: Path, target: str) -> DbtProject:
    """The cached DbtProject for a folder and target."""
    return DbtProject(project_dir=project_dir, profiles_dir=project_dir, target=target)


def project_fingerprint(project_dir: Path, target: str) -> str:
    """A hash of what dbt's partial parsing checks: the target, the dbt version, every file that
    shapes the manifest, and the values of the environment variables those files read.

    The variables matter as much as the files: dbt keeps ``partial_parse.msgpack`` only while
    the rendered profile (a DuckDB path, a BigQuery project) and the project's variables are
    unchanged, and dagster-dbt copies that file into every run. One prepared under another
    environment makes every dbt command of every run parse the whole project again.
    """
    digest = hashlib.sha256(f"{target}\0{importlib.metadata.version('dbt-core')}".encode())
    files = [project_dir / "dbt_project.yml", project_dir / "profiles.yml",
             *(project_dir / name for name in _PACKAGE_FILES)]
    for folder in (*_PROJECT_FOLDERS, packages_install_path(project_dir).name):
        for root, _, names in os.walk(project_dir / folder, followlinks=True):  # a local package is a link
            files.extend(Path(root) / n for n in names if Path(n).suffix in _PROJECT_FILE_SUFFIXES)
    variables: set[str] = set()
    for path in sorted(p for p in files if p.is_file()):
        content = path.read_bytes()
        digest.update(str(path.relative_to(project_dir)).encode())
        digest.update(content)
        variables.update(_ENV_VAR.findall(content.decode(errors="replace")))
    for name in sorted(variables):
        digest.update(f"{name}={os.environ.get(name)}\0".encode())
    return digest.hexdigest()


def packages_install_path(project_dir: Path) -> Path:
    """Where `dbt deps` installs the project's packages (``packages-install-path``, dbt_packages)."""
    config = yaml.safe_load((project_dir / "dbt_project.yml").read_text()) or {}
    return project_dir / config.get("packages-install-path", "dbt_packages")


def install_packages(project: DbtProject) -> None:
    """``dbt deps`` when the project declares packages (packages.yml or dependencies.yml) and
    they changed, or were never installed here. A local or vendored package installs offline."""
    project_dir = Path(project.project_dir)
    if not any((project_dir / name).is_file() for name in ("packages.yml", "dependencies.yml")):
        return
    fingerprint_path = Path(project.manifest_path).parent / _DEPS_FINGERPRINT_FILE

    def fingerprint() -> str:
        digest = hashlib.sha256(importlib.metadata.version("dbt-core").encode())
        for path in (project_dir / name for name in _PACKAGE_FILES):
            digest.update(path.read_bytes() if path.is_file() else b"\0")
        return digest.hexdigest()

    if packages_install_path(project_dir).is_dir() and fingerprint_path.is_file() and fingerprint_path.read_text() == fingerprint():
        return
    log.info("dbt packages of %s changed or are not installed: running dbt deps", project_dir)
    error = dbt_cli(project).cli(["deps", "--quiet"], target_path=project.target_path, raise_on_error=False).get_error()
    if error is not None:
        raise ManifestError(f"dbt deps failed in {project_dir}: {error}")
    fingerprint_path.write_text(fingerprint())


def prepare_manifest(project: DbtProject) -> Path:
    """Return an up-to-date manifest.json, running ``dbt deps`` when the project's packages changed
    and ``dbt parse`` only if the project changed; each domain's slice beside it."""
    manifest_path = project.manifest_path
    target_dir = manifest_path.parent
    target_dir.mkdir(parents=True, exist_ok=True)
    fingerprint_path = target_dir / _FINGERPRINT_FILE
    with FileLock(str(target_dir / "manifest.lock"), timeout=600):
        install_packages(project)
        fingerprint = project_fingerprint(project.project_dir, project.target or "")
        if not (
            manifest_path.is_file()
            and fingerprint_path.is_file()
            and fingerprint_path.read_text() == fingerprint
        ):
            started = time.monotonic()
            log.info("dbt project %s or the environment it reads changed: running dbt parse", project.project_dir)
            error = (
                dbt_cli(project)
                .cli(["parse", "--quiet"], target_path=project.target_path, raise_on_error=False)
                .get_error()
            )
            if error is not None:
                raise ManifestError(f"dbt parse failed in {project.project_dir}: {error}")
            fingerprint_path.write_text(fingerprint)
            log.info("dbt parse done in %.1f s", time.monotonic() - started)
        write_slices(manifest_path, fingerprint)
    return manifest_path



def main() -> None:
    """``python -m dataplatform.dbt.project prepare``: parse at image build, not at start.
    ``... env``: the environment dbt reads (the calendar, the warehouse), as ``export`` lines, for
    dbt by hand: ``eval "$(uv run python -m dataplatform.dbt.project env)"``."""
    import argparse
    import shlex

    from dataplatform.settings import resolve_settings

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("command", choices=["prepare", "env"])
    command = parser.parse_args().command
    settings = resolve_settings()
    if command == "env":
        print("\n".join(f"export {name}={shlex.quote(value)}" for name, value in settings.dbt_env().items()))
        return
    settings.export_dbt_env()
    print(prepare_manifest(get_dbt_project(settings.require_dbt_project(), settings.dbt_target)))


if __name__ == "__main__":
    main()
