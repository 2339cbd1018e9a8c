#!/usr/bin/env python3
"""The two commands of the quickstart, for a machine with only Python >= 3.11 and pip.

    python3 tasks.py up      # the platform: webserver on 127.0.0.1:3000, daemon, schedules
    python3 tasks.py test    # the test suite (extra arguments go to pytest, e.g. -m sales)

Both install uv if it is missing, then sync the workspace from uv.lock.
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


def main() -> None:
    commands = {
        "up": ["python", "-m", "dataplatform.launcher", "up"],
        "test": ["pytest"],
    }
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    uv = uv_command()
    os.chdir(REPO)
    subprocess.run([*uv, "sync", "--frozen", "--all-packages", "--quiet"], check=True)
    run = [*uv, "run", "--frozen", "--no-sync", *commands[sys.argv[1]], *sys.argv[2:]]
    os.execvp(run[0], run)


if __name__ == "__main__":
    main()
