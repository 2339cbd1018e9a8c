"""A local BigQuery for the bigquery tier: bqemulator (BigQuery's REST API on DuckDB and sqlglot),
in an environment of its own (emulator-requirements.txt, installed with uv into .local/tools/), so
that its pins never touch the workspace's lock. Where it does not install (no package registry),
the tier is skipped, saying why; every test of the tier runs where it does."""

import hashlib
import shutil
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from support import REPO, free_port, own_process_group, uv

REQUIREMENTS = Path(__file__).with_name("emulator-requirements.txt")
PROJECT = "local-proj"


@dataclass
class Emulator:
    endpoint: str  # http://127.0.0.1:<port>
    project: str

    def client(self):
        """A google-cloud-bigquery client of the emulator: its endpoint, no Google credentials."""
        from google.auth.credentials import AnonymousCredentials
        from google.cloud import bigquery

        return bigquery.Client(project=self.project, credentials=AnonymousCredentials(),
                               client_options={"api_endpoint": self.endpoint})


def emulator_environment() -> Path:
    """The emulator's environment, installed once per version of its requirements."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()[:10]
    root = REPO / ".local" / "tools" / f"bqemulator-{digest}"
    if (root / "bin" / "bqemulator").is_file():
        return root
    shutil.rmtree(root, ignore_errors=True)
    for command in ([*uv(), "venv", "--quiet", "--python", sys.executable, str(root)],
                    [*uv(), "pip", "install", "--quiet", "--python", str(root / "bin" / "python"), "-r", str(REQUIREMENTS)]):
        result = subprocess.run(command, capture_output=True, text=True, timeout=900)
        if result.returncode != 0:
            shutil.rmtree(root, ignore_errors=True)
            pytest.skip(f"bqemulator does not install here ({' '.join(command[-3:])}): {result.stderr.strip()[-500:]}")
    return root


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    """bqemulator serving an empty project on a free port, for the session."""
    root = emulator_environment()
    home = tmp_path_factory.mktemp("bqemulator-home")
    # DuckDB looks for extensions under ~/.duckdb and would download spatial, which it cannot here.
    [spatial] = (root / "lib").glob("python3*/site-packages/duckdb_extension_spatial/extensions/v*/spatial.duckdb_extension")
    extensions = home / ".duckdb" / "extensions" / spatial.parent.name / "linux_amd64"
    extensions.mkdir(parents=True)
    shutil.copyfile(spatial, extensions / spatial.name)
    port, grpc_port = free_port(), free_port()
    log = home / "bqemulator.log"
    process = subprocess.Popen(
        [root / "bin" / "bqemulator", "start", "--rest-port", str(port), "--grpc-port", str(grpc_port),
         "--project", PROJECT, "--log-format", "console"],
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"}, stdout=open(log, "wb"), stderr=subprocess.STDOUT,
        preexec_fn=own_process_group)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{endpoint}/bigquery/v2/projects/{PROJECT}/datasets", timeout=5):
                break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(f"bqemulator did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.5)
    yield Emulator(endpoint, PROJECT)
    process.terminate()
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
