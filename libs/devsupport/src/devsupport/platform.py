"""A started platform's webserver, asked over the GraphQL the UI sends whether it is ready."""

import json
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from devsupport import LOCATIONS

LOCATION_ENTRIES = ("{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
                    "locationOrLoadError { __typename } } } } }")


def graphql(url: str, query: str, variables: dict | None = None, timeout: float = 120) -> dict:
    """The data of a GraphQL query to the webserver at ``url``; its errors raise."""
    body = json.dumps({"query": query, "variables": variables or {}}).encode()
    request = urllib.request.Request(f"{url}/graphql", body, {"content-type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        payload = json.load(response)
    assert "errors" not in payload, payload["errors"]
    return payload["data"]


def wait_for_locations(url: str, processes: Sequence[subprocess.Popen], log: Path, timeout: float = 300,
                       count: int = len(LOCATIONS), errors_count: bool = True) -> float:
    """Seconds until the webserver at ``url`` lists ``count`` locations, each loaded. A location
    whose code failed to load counts as loaded (it shows its error) unless ``errors_count`` is
    False (a benchmark of a healthy platform). Raises, with the end of ``log``, if one of
    ``processes`` exits first or ``timeout`` passes."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if exited := [p for p in processes if p.poll() is not None]:
            raise RuntimeError(f"the platform exited with {exited[0].returncode}:\n{log.read_text()[-4000:]}")
        try:
            entries = graphql(url, LOCATION_ENTRIES, timeout=30)["workspaceOrError"]["locationEntries"]
            if len(entries) == count and all(
                    e["loadStatus"] == "LOADED"
                    and (errors_count or e["locationOrLoadError"]["__typename"] == "RepositoryLocation")
                    for e in entries):
                return time.monotonic() - started
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"the platform did not start in {timeout} s:\n{log.read_text()[-4000:]}")
