"""platform: the whole platform's RSS (webserver, daemon, code servers) once every location is
loaded, under `dg dev` (`tasks.py up`) and as deployed (a code server per location), on this
project and on the generated one. Its starters and samplers serve the organisation and latency
sections too.

(In the package, as ``sections.platform``: it does not shadow the standard library's ``platform``.)"""

import shutil
import subprocess
import sys
import time
from pathlib import Path

import psutil

from devsupport.environments import install_location
from devsupport.platform import wait_for_locations
from devsupport.processes import free_port, own_process_group, stop_group

from .common import REPO, WORK, instance_home, start_code_servers, tree_rss


def start_dg_dev(env: dict, port: int, local: Path, root: Path = REPO) -> list[subprocess.Popen]:
    """`python3 tasks.py up` after its sync: prepare, then `dg dev` (a dev process that starts a
    proxy per location, which starts the location's code server; the webserver; the daemon)."""
    return [subprocess.Popen([sys.executable, str(root / "tasks.py"), "serve", "--port", str(port)], env=env,
                             cwd=root, stdout=open(local / "platform.log", "wb"), stderr=subprocess.STDOUT,
                             preexec_fn=own_process_group)]


def start_one_process_per_location(env: dict, port: int, local: Path, root: Path = REPO,
                                   own_environments: bool = True) -> list[subprocess.Popen]:
    """The deployed shape (the Helm chart's user deployments run `dagster api grpc`): one code
    server process per location, each from its own environment as its image has it (or, with
    ``own_environments`` off, this one: the same modules, so the same memory), and the
    webserver and daemon (the platform image: this environment) reading them over gRPC."""
    from devsupport.workspace import locations

    home = instance_home(local / "dagster_home", (REPO / "deploy" / "dev" / "dagster.yaml").read_text())
    env = {**env, "DAGSTER_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "dataplatform.dbt.project", "prepare"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    bin_dir, log = Path(sys.executable).parent, open(local / "platform.log", "wb")
    workspace = local / "workspace.grpc.yaml"
    bin_dir_of = ((lambda location: install_location(location, WORK / "venvs" / location)) if own_environments
                  else (lambda _location: bin_dir))
    processes = start_code_servers(env, log, workspace, bin_dir_of, [loc.name for loc in locations(root)], cwd=root)
    start = lambda args: subprocess.Popen(args, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT,
                                          preexec_fn=own_process_group)
    processes.append(start([str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)]))
    processes.append(start([str(bin_dir / "dagster-webserver"), "-w", str(workspace), "-h", "127.0.0.1", "-p", str(port)]))
    return processes


def platform_rss(env: dict, start, seconds: float = 20, timeout: float = 900, count: int | None = None) -> dict:
    """Start the platform (``start``), wait until the webserver lists every location as loaded,
    then sample the RSS of every process it runs for ``seconds``."""
    port = free_port()
    local = WORK / "platform"
    shutil.rmtree(local, ignore_errors=True)
    local.mkdir(parents=True)
    env = {**env, "PLATFORM_LOCAL_DIR": str(local), "PLATFORM_SCHEDULES": "stopped"}
    started = time.perf_counter()
    processes = start(env, port, local)
    try:
        wait_for_locations(f"http://127.0.0.1:{port}", processes, local / "platform.log", timeout, errors_count=False,
                           **({"count": count} if count else {}))
        ready = time.perf_counter() - started
        peak, by_role = 0, {}
        until = time.perf_counter() + seconds
        watched = [psutil.Process(p.pid) for p in processes]
        while time.perf_counter() < until:
            total = sum(tree_rss(p) for p in watched)
            if total > peak:
                peak, by_role = total, rss_by_role(watched)
            time.sleep(0.5)
        return {"ready_s": ready, "peak_rss_mb": peak / 2**20, "by_role_mb": by_role}
    finally:
        for process in reversed(processes):
            stop_group(process)


def rss_by_role(processes: list[psutil.Process]) -> dict[str, float]:
    """RSS (MB) of the platform's processes by what they are: dev server, webserver, daemon, code
    server proxies (`code-server start`) and code servers (`api grpc`)."""
    roles: dict[str, float] = {}
    for child in [c for p in processes for c in [p, *p.children(recursive=True)]]:
        try:
            cmdline = " ".join(child.cmdline())
            rss = child.memory_info().rss / 2**20
        except psutil.Error:
            continue
        role = next((name for name in ("dagster_webserver", "dagster-webserver", "dagster._daemon", "dagster-daemon",
                                       "code-server", "api grpc", "dg dev") if name in cmdline), "other")
        roles[role] = roles.get(role, 0) + rss
    return roles


def bench_platform(env: dict, large: Path, models: int) -> dict:
    """The whole platform's RSS once loaded: this project and the generated one of ``models``
    models (at ``large``), each under `dg dev` and as deployed."""
    return {
        f"{project}, {shape}": platform_rss({**env, **project_env}, start)
        for project, project_env in (("this project", {}), (f"{models}-model project", {"DBT_PROJECT_DIR": str(large)}))
        for shape, start in (("dg dev (tasks.py up)", start_dg_dev),
                             ("one process per location (as deployed)", start_one_process_per_location))
    }


def report(results: dict) -> None:
    for name, r in results.get("platform", {}).items():
        roles = ", ".join(f"{role} {mb:.0f}" for role, mb in sorted(r["by_role_mb"].items()))
        print(f"\nwhole platform, {name}: {r['peak_rss_mb']:.0f} MB RSS once loaded ({r['ready_s']:.0f} s to load); MB by role: {roles}")
