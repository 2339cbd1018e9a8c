"""The platform as deployed on one host (`python3 tasks.py host`): each code location's code server
runs once, under supervisord, which restarts one that dies.

`dg dev` (`tasks.py up`) is the dev loop. On a host of its own the platform runs as the Helm chart
runs it: one `dagster api grpc` per location (a deploy restarts it: `supervisorctl restart`), and the
stock `dagster-webserver` and `dagster-daemon run` reading them as ``grpc_server`` entries. Both
share each location's server, so memory counts it once (a plain webserver and daemon over
workspace.yaml's ``python_module`` entries each start their own). A server that dies is started
again on its port; the webserver watches each ``grpc_server`` entry and reloads the location when
its server comes back with a new id, so the UI needs no Reload; runs it launched go on (each is a
process of its own). supervisord (PyPI ``supervisor``) is the supervisor: its configuration and
workspace are written under ``<local dir>/host`` on every start, from dg.toml's locations.
"""

import configparser
import os
import shlex
import sys
import time
from pathlib import Path

import yaml

from devsupport.processes import free_port, listening
from devsupport.workspace import locations

HOST = "127.0.0.1"
# How long a code server may take to load before supervisord counts a start as failed, and how
# many starts in a row may fail before it gives up on that location (the others run on).
START_SECONDS, START_RETRIES = 5, 5
STOP_SECONDS = 10  # after SIGTERM, before SIGKILL: a server, the webserver or the daemon


def grpc_workspace(ports: dict[str, int]) -> dict:
    """The workspace the webserver and the daemon read: each location's code server by its port."""
    return {"load_from": [{"grpc_server": {"host": HOST, "port": port, "location_name": name}}
                          for name, port in ports.items()]}


def supervisord_conf(folder: Path, root: Path, ports: dict[str, int], ui_port: int) -> configparser.ConfigParser:
    """supervisord's configuration: a program per code server, then the webserver and the daemon,
    which start once every code server answers (``wait-for``). All output goes to supervisord's."""
    bin_dir = Path(sys.executable).parent
    workspace = folder / "workspace.yaml"
    conf = configparser.ConfigParser(interpolation=None)
    conf["supervisord"] = {"nodaemon": "true", "logfile": str(folder / "supervisord.log"),
                           "pidfile": str(folder / "supervisord.pid"), "childlogdir": str(folder)}
    conf["unix_http_server"] = {"file": str(folder / "supervisor.sock")}
    conf["rpcinterface:supervisor"] = {"supervisor.rpcinterface_factory": "supervisor.rpcinterface:make_main_rpcinterface"}
    conf["supervisorctl"] = {"serverurl": f"unix://{folder / 'supervisor.sock'}"}
    programs = {f"code-server-{location.name}": [
        str(bin_dir / "dagster"), "api", "grpc", "-m", location.module, "--location-name", location.name,
        "-h", HOST, "-p", str(ports[location.name])] for location in locations(root)}
    wait = [sys.executable, "-m", "devsupport.host", "wait-for", ",".join(map(str, ports.values())), "--"]
    programs["webserver"] = [*wait, str(bin_dir / "dagster-webserver"), "-w", str(workspace), "-h", HOST, "-p", str(ui_port)]
    programs["daemon"] = [*wait, str(bin_dir / "dagster-daemon"), "run", "-w", str(workspace)]
    for name, command in programs.items():
        conf[f"program:{name}"] = {
            "command": shlex.join(command), "directory": str(root), "autorestart": "true",
            "startsecs": str(START_SECONDS), "startretries": str(START_RETRIES),
            "stopasgroup": "true", "killasgroup": "true", "stopwaitsecs": str(STOP_SECONDS),
            "redirect_stderr": "true", "stdout_logfile": "/dev/fd/1", "stdout_logfile_maxbytes": "0",
        }
    return conf


def run(root: Path, local_dir: Path, ui_port: int) -> None:
    """Write the workspace and supervisord's configuration under ``local_dir``/host and run
    supervisord in the foreground until SIGINT or SIGTERM, which stop every program it started."""
    from supervisor import supervisord

    folder = local_dir / "host"
    folder.mkdir(parents=True, exist_ok=True)
    ports = {location.name: free_port() for location in locations(root)}
    (folder / "workspace.yaml").write_text(yaml.safe_dump(grpc_workspace(ports), sort_keys=False))
    with open(folder / "supervisord.conf", "w") as file:
        supervisord_conf(folder, root, ports, ui_port).write(file)
    print(f"tasks.py: supervisord runs {len(ports)} code server(s) on "
          + ", ".join(f"{name} :{port}" for name, port in ports.items())
          + f", the webserver and the daemon ({folder / 'supervisord.conf'}; `uv run supervisorctl -c` it to "
            f"see or restart one)", flush=True)
    supervisord.main(args=["-c", str(folder / "supervisord.conf")])


def wait_for(ports: list[int], command: list[str], timeout: float = 600) -> None:
    """Exec ``command`` once every code server listens on its port (it binds it once its code has
    loaded): the webserver and the daemon then load every location at their start."""
    deadline = time.monotonic() + timeout
    while (waiting := [port for port in ports if not listening(port)]) and time.monotonic() < deadline:
        time.sleep(0.5)
    if waiting:
        print(f"devsupport.host: no code server on port(s) {waiting} after {timeout:.0f} s; starting anyway", flush=True)
    os.execv(command[0], command)


if __name__ == "__main__":
    if sys.argv[1:2] == ["wait-for"] and "--" in sys.argv:
        wait_for([int(port) for port in sys.argv[2].split(",")], sys.argv[sys.argv.index("--") + 1:])
    else:
        sys.exit("usage: python -m devsupport.host wait-for PORT,PORT -- COMMAND...")
