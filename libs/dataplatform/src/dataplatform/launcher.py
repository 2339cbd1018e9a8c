"""Run the whole platform locally: one set of code servers, the webserver and the daemon.

What ``dagster dev`` does, with the public CLIs and without its deprecation notice, plus the
platform's own start-up: the instance home from the repo's dagster.yaml, one ``dbt parse``
before any code location loads, and day 1 of the simulated sources if nothing has landed.
"""

import argparse
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import yaml

from dataplatform.settings import Settings, find_repo_root, resolve_settings

log = logging.getLogger("platform")


def restore_default_signals() -> None:
    """A child started from a non-interactive shell inherits SIGINT/SIGTERM as ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def start(args: list[str], log_file: Path | None = None) -> subprocess.Popen:
    """Start a child in its own process group, with default signal handling."""
    out = open(log_file, "ab") if log_file else None  # noqa: SIM115 - lives as long as the child
    return subprocess.Popen(
        args, stdout=out, stderr=subprocess.STDOUT if out else None,
        preexec_fn=lambda: (os.setpgid(0, 0), restore_default_signals()),
    )


def stop(process: subprocess.Popen, timeout: float = 20) -> None:
    """Stop a child and everything it started (its process group)."""
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prepare_home(instance_config: Path, home: Path) -> Path:
    """A git-ignored instance home configured by the repo's dagster.yaml (copied on every start).

    The instance's storage is created here, once, before the webserver and the daemon start:
    two processes creating a fresh SQLite storage at once race on its schema migration.
    """
    from dagster import DagsterInstance

    home.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(instance_config, home / "dagster.yaml")
    with DagsterInstance.from_config(str(home)):
        pass
    return home


def locations(workspace: Path) -> list[dict]:
    """The python_module entries of workspace.yaml."""
    entries = yaml.safe_load(workspace.read_text())["load_from"]
    return [entry["python_module"] for entry in entries]


def prepare_data(settings: Settings) -> None:
    """Parse the dbt project once, and land day 1 of the simulated sources if nothing has landed."""
    from dataplatform.dbt_project import get_dbt_project, prepare_manifest

    settings.export_dbt_env()
    log.info("preparing the dbt manifest (dbt parse if the project changed)")
    prepare_manifest(get_dbt_project(settings.require_dbt_project(), settings.dbt_target))
    try:
        from shared_ingest.generator import generate_day, next_day
    except ImportError:
        return  # a domain deployed alone has no generator
    if settings.env == "dev" and next_day(settings.landing_root) == 1:
        log.info("no source data has landed yet: exporting simulated day 1 to %s", settings.landing_root)
        generate_day(settings.landing_root, 1)


def wait_for_code_servers(ports: dict[str, int], processes: list[subprocess.Popen], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    pending = dict(ports)
    while pending:
        for name, port in list(pending.items()):
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    log.info("code location %s is serving on port %s", name, port)
                    del pending[name]
        if any(p.poll() is not None for p in processes):
            raise RuntimeError("a code server exited during start-up: see .local/logs/")
        if time.monotonic() > deadline:
            raise TimeoutError(f"code locations did not start within {timeout:.0f} s: {sorted(pending)}")
        time.sleep(0.5)


def prepare() -> None:
    """The start-up work that imports Dagster and dbt: the instance home, the manifest, day 1."""
    repo = find_repo_root() or Path.cwd()
    settings = resolve_settings()
    instance_config = Path(os.environ.get("PLATFORM_DAGSTER_YAML") or repo / "dagster.yaml")
    prepare_home(instance_config, Path(os.environ["DAGSTER_HOME"]))
    prepare_data(settings)


def up(host: str, port: int) -> int:
    repo = find_repo_root() or Path.cwd()
    settings = resolve_settings()
    local = settings.local_dir
    logs = local / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(local / "dagster_home")
    # In a child process: the launcher only watches its children for as long as the platform
    # runs, and would otherwise hold Dagster and dbt in memory (~200 MB) for nothing.
    if subprocess.run([sys.executable, "-m", "dataplatform.launcher", "prepare"]).returncode != 0:
        log.error("start-up preparation failed (see above): the platform is not started")
        return 1

    children: list[subprocess.Popen] = []
    ports: dict[str, int] = {}
    try:
        for entry in locations(repo / "workspace.yaml"):
            name = entry["location_name"]
            ports[name] = free_port()
            children.append(start(
                [sys.executable, "-m", "dagster", "code-server", "start", "-m", entry["module_name"],
                 "--location-name", name, "-h", "127.0.0.1", "-p", str(ports[name])],
                logs / f"code-server-{name}.log",
            ))
        wait_for_code_servers(ports, children)
        grpc_workspace = local / "workspace.grpc.yaml"
        grpc_workspace.write_text(yaml.safe_dump({"load_from": [
            {"grpc_server": {"host": "127.0.0.1", "port": p, "location_name": n}} for n, p in ports.items()
        ]}))
        children.append(start([str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", str(grpc_workspace)],
                              logs / "daemon.log"))
        children.append(start([sys.executable, "-m", "dagster_webserver", "-w", str(grpc_workspace),
                               "-h", host, "-p", str(port)]))
        log.info("Dagster UI on http://%s:%s (daemon log: %s). Ctrl-C stops everything.", host, port, logs)
        while all(child.poll() is None for child in children):
            time.sleep(1)
        failed = next(child for child in children if child.poll() is not None)
        log.error("%s exited with code %s: stopping the platform", failed.args[2], failed.returncode)
        return 1
    except KeyboardInterrupt:
        log.info("stopping the platform")
        return 0
    finally:
        for child in reversed(children):
            stop(child)


def stop_on_signal(*_) -> None:
    """First Ctrl-C or SIGTERM starts the shutdown; repeats do not interrupt it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGINT, stop_on_signal)
    signal.signal(signal.SIGTERM, stop_on_signal)
    parser = argparse.ArgumentParser(description="Run the data platform locally.")
    parser.add_argument("command", choices=["up", "prepare"])
    parser.add_argument("--host", default=os.environ.get("DAGSTER_WEBSERVER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("DAGSTER_WEBSERVER_PORT", "3000")))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for name in ("platform", "shared_ingest"):
        logging.getLogger(name).setLevel(logging.INFO)
    if args.command == "prepare":
        prepare()
        return
    sys.exit(up(args.host, args.port))


if __name__ == "__main__":
    main()
