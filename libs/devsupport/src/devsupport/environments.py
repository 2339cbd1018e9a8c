"""The environments child processes run in: scrubbed of the machine's platform variables, or a
location's own virtual environment."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

from devsupport import REPO

# Variables that point the platform at a warehouse, a landing zone, a dbt project, an instance or
# a cloud account. Every environment a test or a benchmark builds starts without them, so nothing
# of the machine running them leaks into what they run.
MACHINE_VARIABLES = ("PLATFORM_", "DAGSTER_HOME", "DUCKDB_", "LANDING_", "DBT_", "BIGQUERY_", "GOOGLE_", "CLOUDSDK_")


def scrubbed_env(**variables: str) -> dict[str, str]:
    """This process's environment without the machine's platform variables, plus ``variables``
    (for a subprocess)."""
    return {k: v for k, v in os.environ.items() if not k.startswith(MACHINE_VARIABLES)} | variables


def scrub_env(mp, **variables: str) -> None:
    """The same for this process, with a pytest MonkeyPatch (undone after the test)."""
    for name in [k for k in os.environ if k.startswith(MACHINE_VARIABLES)]:
        mp.delenv(name)
    for name, value in variables.items():
        mp.setenv(name, value)


def uv() -> list[str]:
    """The uv command: $UV, uv from PATH, or this Python's uv module."""
    found = os.environ.get("UV") or shutil.which("uv")
    return [found] if found else [sys.executable, "-m", "uv"]


def install_location(package: str, venv: Path, tree: Path = REPO, timeout: float = 900) -> Path:
    """``uv sync --frozen --package <package>`` without the dev groups, from the lock of ``tree``
    (this checkout, or a second working tree) into ``venv``: the location alone, as its image
    installs it (the ingest location without dbt). Returns its bin folder."""
    env = scrubbed_env(UV_PROJECT_ENVIRONMENT=str(venv))
    env.pop("VIRTUAL_ENV", None)
    subprocess.run([*uv(), "sync", "--frozen", "--package", package, "--no-default-groups", "--quiet"],
                   cwd=tree, env=env, check=True, timeout=timeout)
    return venv / "bin"


def copy_checkout(to: Path, tree: Path = REPO) -> Path:
    """What a fresh clone of ``tree`` holds (tracked files and new ones not ignored), copied to
    ``to``, as a git repository of one commit: for running the workspace's commands on a whole
    tree of its own (its own environment, its own ``.local/``)."""
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=tree, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        if (tree / name).is_file():
            (to / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(tree / name, to / name)
    for command in (["init", "-q"], ["add", "-A"], ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone"]):
        subprocess.run(["git", *command], cwd=to, check=True)
    return to
