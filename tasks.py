#!/usr/bin/env python3
"""The two commands of the quickstart, for a machine with only Python >= 3.11 and pip, and the
workspace's own.

    python3 tasks.py up      # the platform: `dg dev` (webserver on 127.0.0.1:3000, daemon, schedules)
    python3 tasks.py test    # the test suite, on 3 workers (extra arguments go to pytest, e.g. -m "not platform")
    python3 tasks.py new-domain NAME [--remove]   # a domain, registered everywhere (or removed)
    python3 tasks.py remove-example               # the example this repository ships (example.toml)
    python3 tasks.py canary                       # the platform against the newest Dagster and dbt
    python3 tasks.py host [--port N]              # the platform as on a host of its own: a code server per
                                                  # location under supervisord, restarted if it dies

Each installs uv if it is missing, then syncs the workspace from uv.lock. `up` then prepares
what the code locations expect (the dbt manifest, the days the dev sources have landed, the
instance home) and hands over to Dagster's own dev server; extra arguments go to `dg dev`.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent
# The suite's workers (pytest-xdist; tests/conftest.py schedules the tests): three on two cores, as
# most of the platform tier waits on Dagster's ticks. PLATFORM_TEST_WORKERS=0 runs it in one process.
TEST_WORKERS = ["-n", os.environ.get("PLATFORM_TEST_WORKERS", "3")]


def uv_command() -> list[str]:
    """The uv running us (`uv run` sets $UV), uv from PATH, or from this Python (installed with pip
    on first use)."""
    if os.environ.get("UV") and Path(os.environ["UV"]).is_file():
        return [os.environ["UV"]]
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
    """`up` inside the synced environment: prepare, then run `dg dev` until a signal stops it."""
    home = prepare()
    print(f"tasks.py: instance home {home}; starting `dg dev` (Ctrl-C or SIGTERM stops everything); the UI will be "
          f"on http://127.0.0.1:{_port(dg_dev_args)}", flush=True)
    sys.exit(supervise([str(Path(sys.executable).parent / "dg"), "dev", *dg_dev_args]))


def serve_host(args: list[str]) -> None:
    """`host` inside the synced environment: prepare, then supervisord runs a code server per
    location, the webserver and the daemon (devsupport.host) until a signal stops it."""
    from dagster import DagsterInstance

    from dataplatform.settings import resolve_settings
    from devsupport import host

    home = prepare()
    with DagsterInstance.get():  # the storage created once: the webserver and the daemon would race on it
        pass
    port = int(_port(args))
    print(f"tasks.py: instance home {home}; starting supervisord (Ctrl-C or SIGTERM stops everything); the UI will be "
          f"on http://127.0.0.1:{port}", flush=True)
    host.run(REPO, resolve_settings().local_dir, port)


def prepare() -> Path:
    """What the code locations expect, prepared; the instance home.

    The instance home is .local/dagster_home (PLATFORM_LOCAL_DIR moves it), configured by a fresh
    copy of deploy/dev/dagster.yaml (PLATFORM_DAGSTER_YAML names another) on every start. The
    simulated source systems, if any are installed (shared_ingest.dev_sources: the example's), have
    landed every day from the calendar's start (``dev_calendar``) to yesterday.
    """
    from datetime import date, timedelta

    from dataplatform.settings import resolve_settings
    from shared_ingest.dev_sources import dev_sources

    os.chdir(REPO)  # dg dev reads dg.toml from here
    settings = resolve_settings()
    start, days = dev_calendar(settings.local_dir)
    print(f"tasks.py: the dev calendar starts on {start} ({days} day(s) to yesterday)", flush=True)
    print("tasks.py: preparing the dbt manifest (dbt deps and parse if the project changed)", flush=True)
    subprocess.run([sys.executable, "-m", "dataplatform.dbt.project", "prepare"], check=True, stdout=subprocess.DEVNULL)
    if sources := dev_sources():
        print(f"tasks.py: the simulated source systems land day(s) 1..{days} if not landed yet", flush=True)
        for source in sources:
            source.land(settings.landing_root, [date.fromisoformat(start) + timedelta(days=n) for n in range(days)])
    else:
        print(f"tasks.py: no simulated source system is installed: ingest loads what your sources export to "
              f"{settings.landing_root}/<source>/<table>/<YYYY-MM-DD>.csv (docs/adopt.md)", flush=True)
    home = settings.local_dir / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(os.environ.get("PLATFORM_DAGSTER_YAML") or REPO / "deploy" / "dev" / "dagster.yaml", home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


# How long `dg dev` has to stop its webserver, daemon and code servers after the interrupt; then
# what is left of its process group is terminated, and killed STOP_KILL_AFTER seconds later.
STOP_GRACE_SECONDS = 15
STOP_KILL_AFTER = 5


def supervise(command: list[str]) -> int:
    """Run ``command`` (`dg dev`) in a process group of its own, and end that whole group on SIGINT
    or SIGTERM.

    `dg dev` stops its webserver and daemon on an interrupt (KeyboardInterrupt) only: SIGTERM, what
    a service manager or a terminal's close sends, leaves it running, and an interrupt that
    reaches only it leaves its code servers behind. So both signals become one interrupt of the
    whole group (as a terminal's Ctrl-C is), then SIGTERM and SIGKILL for what is still there.
    """
    import signal
    import time

    child = subprocess.Popen(command, start_new_session=True)
    received: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda signum, _frame: received.append(signum))
    while child.poll() is None and not received:
        time.sleep(0.2)
    if received:
        print(f"tasks.py: {signal.Signals(received[0]).name} received: stopping `dg dev` (its webserver, daemon "
              f"and code servers; runs in flight are interrupted)", flush=True)
    for signum, wait in ((signal.SIGINT, STOP_GRACE_SECONDS), (signal.SIGTERM, STOP_KILL_AFTER), (signal.SIGKILL, 0)):
        if not _signal_group(child.pid, signum):
            break
        if signum != signal.SIGINT:
            print(f"tasks.py: processes of `dg dev` still running; sending {signum.name}", flush=True)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and (child.poll() is None or _signal_group(child.pid, 0)):
            time.sleep(0.2)
    child.wait()
    return 0 if received else child.returncode


def _signal_group(pgid: int, signum: int) -> bool:
    """Send ``signum`` to the process group ``pgid``; False if no process is left in it."""
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        return False
    return True


def _port(args: list[str]) -> str:
    """The port the UI is served on (--port, or 3000)."""
    for flag in ("--port", "-p"):
        if flag in args and args.index(flag) + 1 < len(args):
            return args[args.index(flag) + 1]
    return "3000"


def dev_calendar(local_dir: Path) -> tuple[str, int]:
    """The dev sources' first day, and how many days to land (day 1 included).

    By default the day before the platform first started here, kept in
    ``<local dir>/partitions_start`` so that later starts keep their history, and every day from
    it to yesterday (UTC) is landed by the simulated sources, if installed: the partitions offered
    are the days landed, and the dev-only simulation lands each new day at 04:30 as a real export
    would. A start set explicitly (PLATFORM_PARTITIONS_START, as tests with fixed dates do) lands
    day 1 only.
    """
    from datetime import UTC, date, datetime, timedelta

    from dataplatform.partitions import PARTITIONS_START_VARIABLE

    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    if start := os.environ.get(PARTITIONS_START_VARIABLE):
        return start, 1
    recorded = local_dir / "partitions_start"
    if not recorded.is_file():
        local_dir.mkdir(parents=True, exist_ok=True)
        recorded.write_text(yesterday.isoformat() + "\n")
    start = recorded.read_text().strip()
    os.environ[PARTITIONS_START_VARIABLE] = start  # every location, dbt's `begin` and the simulation
    return start, max((yesterday - date.fromisoformat(start)).days + 1, 1)


def main() -> None:
    workspace = ["python", "-m", "devsupport"]
    commands = {"up": ["python", __file__, "serve"], "host": ["python", __file__, "serve-host"],
                "test": ["pytest", *TEST_WORKERS],
                "new-domain": [*workspace, "new-domain"], "remove-example": [*workspace, "remove-example"],
                "canary": ["python", "-m", "devsupport.canary"]}
    if len(sys.argv) >= 2 and sys.argv[1] == "serve":
        serve(sys.argv[2:])
    if len(sys.argv) >= 2 and sys.argv[1] == "serve-host":
        serve_host(sys.argv[2:])
    if len(sys.argv) < 2 or sys.argv[1] not in commands:
        sys.exit(__doc__)
    uv = uv_command()
    os.chdir(REPO)
    subprocess.run([*uv, "sync", "--frozen", "--all-packages", "--quiet"], check=True)
    run = [*uv, "run", "--frozen", "--no-sync", *commands[sys.argv[1]], *sys.argv[2:]]
    os.execvp(run[0], run)


if __name__ == "__main__":
    main()
