#!/usr/bin/env python3
"""The two commands of the quickstart, for a machine with only Python >= 3.11 and pip.

    python3 tasks.py up      # the platform: `dg dev` (webserver on 127.0.0.1:3000, daemon, schedules)
    python3 tasks.py test    # the test suite (extra arguments go to pytest, e.g. -m sales)

Both install uv if it is missing, then sync the workspace from uv.lock. `up` then prepares
what the code locations expect (the dbt manifest, day 1 of the simulated sources, the
instance home) and hands over to Dagster's own dev server; extra arguments go to `dg dev`.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent


def uv_command() -> list[str]:
    """uv from PATH, or from this Python (installed with pip on first use)."""
    if shutil.which("uv"):
        return ["uv"]
    if subprocess.run([sys.executable, "-m", "uv", "--version"], capture_output=True).returncode == 0:
        return [sys.executable, "-m", "uv"]
    print("tasks.py: installing uv with pip", flush=True)
    pip = [sys.executable, "-m", "pip", "install", "--quiet", "uv"]
    for extra in ([], ["--user"], ["--user", "--break-system-packages"]):
        if subprocess.run(pip + extra).returncode == 0:
            return [sys.executable, "-m", "uv"]
    sys.exit("tasks.py: could not install uv with pip; install it (https://docs.astral.sh/uv/) and retry")


def serve(dg_dev_args: list[str]) -> None:
    """`up` inside the synced environment: prepare, then become `dg dev`.

    The instance home is .local/dagster_home (PLATFORM_LOCAL_DIR moves it), configured by a fresh
    copy of the repo's dagster.yaml (PLATFORM_DAGSTER_YAML names another) on every start.
    """
    from dataplatform.settings import resolve_settings

    os.chdir(REPO)  # dg dev reads dg.toml and dagster.yaml from here
    bin_dir = Path(sys.executable).parent
    print("tasks.py: preparing the dbt manifest (dbt parse if the project changed)", flush=True)
    subprocess.run([sys.executable, "-m", "dataplatform.dbt_project", "prepare"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([bin_dir / "generate-source-data", "--day", "1", "--skip-landed"], check=True)
    home = resolve_settings().local_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(os.environ.get("PLATFORM_DAGSTER_YAML") or REPO / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    print(f"tasks.py: instance home {home}; starting `dg dev` (Ctrl-C stops everything)", flush=True)
    os.execv(bin_dir / "dg", ["dg", "dev", *dg_dev_args])


def main() -> None:
    commands = {"up": ["python", __file__, "serve"], "test": ["pytest"]}
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    uv = uv_command()
    os.chdir(REPO)
    subprocess.run([*uv, "sync", "--frozen", "--all-packages", "--quiet"], check=True)
    run = [*uv, "run", "--frozen", "--no-sync", *commands[sys.argv[1]], *sys.argv[2:]]
    os.execvp(run[0], run)


if __name__ == "__main__":
    main()
