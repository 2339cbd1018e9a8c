"""Start the real platform (`python3 tasks.py up`: `dg dev`) on a throwaway home, and talk to it."""

import itertools
import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psutil
from dagster import DagsterInstance, DagsterRunStatus
from support import REPO, fixture_pythonpath, free_port, own_process_group, scrubbed_env

from devsupport.platform import Webserver, wait_for_locations
from devsupport.processes import stop_group, wait_until  # noqa: F401 (the platform tests' import)

DONE = {DagsterRunStatus.SUCCESS, DagsterRunStatus.FAILURE, DagsterRunStatus.CANCELED}


@dataclass
class Platform(Webserver):
    """The platform a test started: its webserver (what the UI does, devsupport.platform.Webserver),
    its process and its home."""

    process: subprocess.Popen
    local: Path
    log: Path

    @property
    def warehouse(self) -> Path:
        return self.local / "warehouse.duckdb"

    def instance(self) -> DagsterInstance:
        return DagsterInstance.from_config(str(self.local / "dagster_home"))

    def wait_for_runs(self, run_ids: list[str], timeout: float = 900) -> list:
        deadline = time.monotonic() + timeout
        with self.instance() as instance:
            while time.monotonic() < deadline:
                runs = [instance.get_run_by_id(r) for r in run_ids]
                if all(r.status in DONE for r in runs):
                    return runs
                time.sleep(2)
        raise TimeoutError(f"runs not done after {timeout} s: {[(r.run_id, r.status) for r in runs]}")

    def wait_for_backfill(self, backfill_id: str, timeout: float = 900) -> list:
        deadline = time.monotonic() + timeout
        with self.instance() as instance:
            while time.monotonic() < deadline:
                backfill = instance.get_backfill(backfill_id)
                if backfill.status.value not in ("REQUESTED",):
                    runs = instance.get_runs(filters=_backfill_filter(backfill_id))
                    return backfill, self.wait_for_runs([r.run_id for r in runs])
                time.sleep(2)
        raise TimeoutError(f"backfill {backfill_id} still running after {timeout} s")


def _backfill_filter(backfill_id: str):
    from dagster import RunsFilter
    from dagster._core.storage.tags import BACKFILL_ID_TAG

    return RunsFilter(tags={BACKFILL_ID_TAG: backfill_id})


def assert_snapshot_pools_have_limit_one(platform: "Platform", domains: tuple[str, ...] | None = None) -> None:
    """Every domain's snapshot pool (of ``domains``: the platform's, this checkout's by default) has
    limit 1 from the instance's default, no manual step."""
    from support import DOMAINS

    with platform.instance() as instance:
        assert instance.global_op_concurrency_default_limit == 1
        for domain in domains or DOMAINS:
            info = instance.event_log_storage.get_concurrency_info(f"{domain}_snapshots")
            assert (info.limit, info.using_default_limit) == (1, True), info


def step_windows(instance: DagsterInstance, run_id: str) -> dict[str, tuple[float, float]]:
    """Start and end time of every step of a run, from its event log."""
    starts, ends = {}, {}
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None or event.step_key is None:
            continue
        if event.event_type_value == "STEP_START":
            starts[event.step_key] = record.timestamp
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE"):
            ends[event.step_key] = record.timestamp
    return {step: (starts[step], ends[step]) for step in starts if step in ends}


def run_window(instance: DagsterInstance, run_id: str) -> tuple[float, float]:
    stats = instance.get_run_stats(run_id)
    return stats.start_time, stats.end_time


def materialized_keys(instance: DagsterInstance, run_id: str) -> set[str]:
    return {
        r.dagster_event.asset_key.to_user_string()
        for r in instance.all_logs(run_id)
        if r.dagster_event and r.dagster_event.event_type_value == "ASSET_MATERIALIZATION"
    }


def overlaps(windows: list[tuple[float, float]]) -> bool:
    ordered = sorted(windows)
    return any(later[0] < earlier[1] for earlier, later in itertools.pairwise(ordered))


def dev_instance_home(local: Path) -> Path:
    """``local``/dagster_home with a copy of deploy/dev/dagster.yaml and its storage created, for
    platforms whose processes do not prepare it (`tasks.py up` does): two processes creating a
    fresh SQLite storage at the same moment race on its migration."""
    import shutil

    home = local / "dagster_home"
    home.mkdir(parents=True)
    shutil.copyfile(REPO / "deploy" / "dev" / "dagster.yaml", home / "dagster.yaml")
    with DagsterInstance.from_config(str(home)):
        pass
    return home


def tasks_up(port: int, repo: Path | None = None) -> list[str]:
    """`python3 tasks.py up` after its sync (prepare, then `dg dev`), of the workspace it starts in
    (``repo``: another's tasks.py)."""
    return [sys.executable, str(repo / "tasks.py") if repo else "tasks.py", "serve", "--port", str(port)]


def start_platform(local: Path, instance_config: Path | None = None, timeout: float = 300,
                   extra_env: dict[str, str] | None = None, command=tasks_up, fixed_dates: bool = True,
                   root: Path = REPO, locations: int | None = None) -> Platform:
    """The platform (``command(port)``, by default `python3 tasks.py up`) of the workspace at
    ``root`` on its own port and home: this checkout, or the platform's test project brought into
    a copy of it (``support.fixture_workspace``, whose domain packages run from their folders).

    With ``fixed_dates`` its partitions start where this process's do (``day(1)`` is the
    same day in both); without, it follows the clock as a fresh clone's does (day 1 is yesterday).
    Ready when the webserver lists the workspace's locations as loaded (a location whose code
    failed to load counts as loaded: it shows its error).
    """
    from dataplatform.partitions import PARTITIONS_START_VARIABLE, partitions_start
    from devsupport.workspace import locations as workspace_locations

    port = free_port()
    env = scrubbed_env(**(extra_env or {}), PLATFORM_LOCAL_DIR=str(local), PLATFORM_SCHEDULES="stopped", PLATFORM_ENV="dev")
    if root != REPO:
        env.update(DBT_PROJECT_DIR=str(root / "dbt"), PYTHONPATH=fixture_pythonpath(root))
    if fixed_dates:
        env[PARTITIONS_START_VARIABLE] = partitions_start().isoformat()
    if instance_config:
        env["PLATFORM_DAGSTER_YAML"] = str(instance_config)
    local.mkdir(parents=True, exist_ok=True)
    log = local / "platform.log"
    process = subprocess.Popen(
        command(port), env=env, cwd=root, stdout=open(log, "wb"), stderr=subprocess.STDOUT, preexec_fn=own_process_group,
    )
    platform = Platform(url=f"http://127.0.0.1:{port}", process=process, local=local, log=log)
    try:
        wait_for_locations(platform.url, [process], log, timeout, count=locations or len(workspace_locations(root)))
    except TimeoutError:
        stop_platform(platform)
        raise
    return platform


def fork_servers(platform: Platform, location: str) -> list[str]:
    """The command lines of the fork servers started by ``location``'s code servers: each starts
    one at its first run when its runs are warm (dataplatform.patches.warm_runs), and none otherwise."""
    module, found = f"{location}.definitions", []
    for process in psutil.Process(platform.process.pid).children(recursive=True):
        try:
            command, parent = " ".join(process.cmdline()), " ".join(process.parent().cmdline())
        except (psutil.Error, AttributeError):  # ended meanwhile, or its parent did
            continue
        if "multiprocessing.forkserver import main" in command and module in parent:
            found.append(command)
    return found


def stop_platform(platform: Platform) -> None:
    """SIGTERM to `tasks.py up`, which stops everything it started within 30 s (what a service
    manager does; tasks.supervise); anything left then fails the test, after it is killed."""
    supervised = "tasks.py" in " ".join(map(str, platform.process.args))
    # The stock processes some tests start from a shell are stopped as a group (the shell passes no
    # signal on to the servers it started).
    left = stop_group(platform.process, timeout=30, group=not supervised)
    if supervised:
        assert not left, f"still running 30 s after SIGTERM to tasks.py up: {left}"


SCREENSHOTS = REPO / ".screenshots"


@contextmanager
def browser_page(profile: Path):
    """A page of Debian's headless Chromium, driven by playwright over CDP (playwright's own
    browser download cannot be installed here); the UI's first-visit newsletter prompt skipped."""
    import shutil
    import urllib.error

    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    assert chromium, "Debian's chromium is not installed (.ci/run installs it)"
    port = free_port()
    process = subprocess.Popen([chromium, "--headless", "--no-sandbox", "--disable-gpu", f"--remote-debugging-port={port}",
                                f"--user-data-dir={profile}", "about:blank"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, preexec_fn=own_process_group)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/json/version", timeout=5).close()
                break
            except (urllib.error.URLError, OSError):
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError(f"chromium did not start (exit {process.poll()})") from None
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.connect_over_cdp(f"http://127.0.0.1:{port}")
            page = browser.contexts[0].new_page()
            page.set_viewport_size({"width": 1600, "height": 1000})
            # The prompt may open late, over a slow first load: skip it whenever it is in the way.
            page.add_locator_handler(page.get_by_role("button", name="Skip"), lambda skip: skip.first.click())
            yield page
            browser.close()
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def open_ui(page, url: str) -> None:
    """Go to a page of the UI and wait for it to settle (browser_page skips the first-visit prompt
    whenever it opens)."""
    page.goto(url, wait_until="networkidle")


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def planned_but_unevaluated_checks(instance: DagsterInstance, run_ids: list[str]) -> dict[str, list[str]]:
    """Per run, the checks it planned (its asset check selection) that got no evaluation."""
    missing = {}
    for run_id in run_ids:
        run = instance.get_run_by_id(run_id)
        evaluated = {r.dagster_event.event_specific_data.asset_check_key for r in instance.all_logs(run_id)
                     if r.dagster_event and r.dagster_event.event_type_value == "ASSET_CHECK_EVALUATION"}
        if left := sorted(str(k) for k in (run.asset_check_selection or set()) - evaluated):
            missing[f"{run.job_name} {run_id[:8]}"] = left
    return missing


