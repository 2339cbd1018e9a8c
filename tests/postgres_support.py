"""A throwaway PostgreSQL cluster for tests: initdb + pg_ctl in a temporary directory.

The server listens on 127.0.0.1 on a free port and requires a password over TCP (scram), like a
production database; a dedicated login role owns the database the Dagster instance uses. Every
step has a timeout and the server is stopped (and its directory removed) at teardown.

initdb refuses to run as root, so as root (CI, this machine) the server runs as the `postgres`
user that Debian's `postgresql` package creates (`nobody` if there is none), through `runuser`.
pytest-postgresql's `postgresql_proc` is not used: it puts the data directory under pytest's
basetemp (mode 0700, owned by root) and the password file in a root-only temporary file, neither
of which that user can read.
"""

import os
import pwd
import re
import secrets
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import pytest
from support import free_port

STEP_TIMEOUT = 120  # seconds, for each of initdb, pg_ctl start/stop and every SQL statement
ADMIN_USER = "postgres"


@dataclass(frozen=True)
class PostgresServer:
    host: str
    port: int
    username: str
    password: str
    db_name: str
    socket_dir: Path
    data_dir: Path
    control: tuple  # (bin_dir, server user, server options, log): what stop() and start() need

    def stop(self) -> None:
        """Stop the server at once, as a crash or a failover does: every connection dropped."""
        bin_dir, user, _options, log = self.control
        _run([str(bin_dir / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "60"], user, log,
             timeout=90)

    def start(self) -> None:
        bin_dir, user, options, log = self.control
        _run([str(bin_dir / "pg_ctl"), "start", "-D", str(self.data_dir), "-l", str(self.data_dir.parent / "server.log"),
              "-w", "-t", str(STEP_TIMEOUT), "-o", options], user, log, timeout=STEP_TIMEOUT + 30)

    def env(self) -> dict[str, str]:
        """What deploy/dagster.yaml reads."""
        return {
            "DAGSTER_PG_HOST": self.host,
            "DAGSTER_PG_PORT": str(self.port),
            "DAGSTER_PG_USERNAME": self.username,
            "DAGSTER_PG_PASSWORD": self.password,
            "DAGSTER_PG_DB": self.db_name,
        }

    def connect(self, **overrides):
        """A psycopg2 connection over TCP as the instance's role (what Dagster does)."""
        params = {"host": self.host, "port": self.port, "user": self.username, "password": self.password,
                  "dbname": self.db_name, "connect_timeout": 10,
                  "options": f"-c statement_timeout={STEP_TIMEOUT * 1000}"}
        return psycopg2.connect(**{**params, **overrides})

    def query(self, sql: str, args=None) -> list[tuple]:
        with self.connect() as con, con.cursor() as cur:
            cur.execute(sql, args)
            rows = cur.fetchall()
        con.close()
        return rows


def find_postgres_bin() -> Path | None:
    """The directory holding initdb and pg_ctl: from PATH, else Debian's /usr/lib/postgresql/<v>/bin."""
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    versions = Path("/usr/lib/postgresql").glob("*/bin")
    candidates += sorted(versions, key=lambda p: [int(n) for n in re.findall(r"\d+", p.parent.name)], reverse=True)
    return next((d for d in candidates if (d / "initdb").exists() and (d / "pg_ctl").exists()), None)


def server_user() -> str | None:
    """The unprivileged user to run the server as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    raise RuntimeError("running as root and there is neither a `postgres` nor a `nobody` user for initdb")


def _run(args: list[str], user: str | None, log: Path, timeout: float = STEP_TIMEOUT) -> None:
    command = ["runuser", "-u", user, "--", *args] if user else args
    with open(log, "ab") as out:
        out.write(f"$ {' '.join(command)}\n".encode())
        out.flush()
        result = subprocess.run(command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                timeout=timeout, env={**os.environ, "LC_ALL": "C.UTF-8", "LANG": "C.UTF-8"})
    if result.returncode != 0:
        raise RuntimeError(f"{args[0]} failed ({result.returncode}):\n{log.read_text()[-4000:]}")


def _kill_postmaster(data_dir: Path) -> None:
    """Last resort when pg_ctl stop did not finish: kill the server this helper started."""
    pid_file = data_dir / "postmaster.pid"
    try:
        os.kill(int(pid_file.read_text().split()[0]), signal.SIGKILL)
    except (OSError, ValueError, IndexError):
        pass


@contextmanager
def postgres_server(db_name: str = "dagster", username: str = "dagster") -> Iterator[PostgresServer]:
    """Start a PostgreSQL server in a temporary directory; yield its connection parameters."""
    bin_dir = find_postgres_bin()
    if bin_dir is None:
        message = "PostgreSQL server binaries (initdb, pg_ctl) not found; .ci/run installs Debian's postgresql"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    user = server_user()
    # Not under pytest's basetemp: that is private to root, and the server user must own this.
    base = Path(tempfile.mkdtemp(prefix="pg-"))
    data_dir, socket_dir = base / "data", base / "socket"
    log, server_log = base / "commands.log", base / "server.log"  # the server user writes server.log
    socket_dir.mkdir()
    if user:
        for path in (base, socket_dir):
            shutil.chown(path, user=user)
    port = free_port()
    started = False
    try:
        _run([str(bin_dir / "initdb"), "-D", str(data_dir), "-U", ADMIN_USER, "--auth=trust",
              "--encoding=UTF8", "--no-locale", "--no-sync"], user, log)
        # Over TCP every role needs its password; the admin uses the socket in our private directory.
        (data_dir / "pg_hba.conf").write_text(
            "local all all trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )
        options = (f"-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={socket_dir}"
                   " -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200")
        started = True
        _run([str(bin_dir / "pg_ctl"), "start", "-D", str(data_dir), "-l", str(server_log), "-w",
              "-t", str(STEP_TIMEOUT), "-o", options], user, log, timeout=STEP_TIMEOUT + 30)
        password = secrets.token_urlsafe(16)
        admin = psycopg2.connect(host=str(socket_dir), port=port, user=ADMIN_USER, dbname="postgres",
                                 connect_timeout=10, options=f"-c statement_timeout={STEP_TIMEOUT * 1000}")
        try:
            admin.autocommit = True
            with admin.cursor() as cur:
                cur.execute(f'CREATE ROLE "{username}" LOGIN PASSWORD %s', (password,))
                cur.execute(f'CREATE DATABASE "{db_name}" OWNER "{username}"')
        finally:
            admin.close()
        yield PostgresServer("127.0.0.1", port, username, password, db_name, socket_dir, data_dir,
                             (bin_dir, user, options, log))
    finally:
        if started:
            try:
                _run([str(bin_dir / "pg_ctl"), "stop", "-D", str(data_dir), "-m", "fast", "-w",
                      "-t", "60"], user, log, timeout=90)
            except (RuntimeError, subprocess.TimeoutExpired):
                _kill_postmaster(data_dir)
        shutil.rmtree(base, ignore_errors=True)

