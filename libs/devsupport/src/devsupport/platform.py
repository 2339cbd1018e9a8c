"""A started platform's webserver, driven over the GraphQL the UI sends: whether it is ready, and
what a person does on its pages (launch a job, switch a sensor or a schedule on, backfill)."""

import itertools
import json
import subprocess
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass
class Webserver:
    url: str

    def graphql(self, query: str, variables: dict | None = None) -> dict:
        return graphql(self.url, query, variables)

    def launch_job(self, location: str, job: str, partition: str | None = None) -> str:
        """Launch a job as the UI's launchpad does; a partitioned job needs its ``partition``."""
        tags = [{"key": "dagster/partition", "value": partition}] if partition else []
        data = self.graphql(
            """mutation($p: ExecutionParams!) { launchRun(executionParams: $p) {
                 __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }""",
            {"p": {"selector": {"repositoryLocationName": location, "repositoryName": "__repository__",
                                "jobName": job}, "mode": "default", "executionMetadata": {"tags": tags}}},
        )["launchRun"]
        assert data["__typename"] == "LaunchRunSuccess", data
        return data["run"]["runId"]

    def set_sensor(self, location: str, name: str, running: bool) -> None:
        """Start or stop a sensor as its toggle on the UI's Automation page does."""
        selector = {"repositoryLocationName": location, "repositoryName": "__repository__", "sensorName": name}
        started = self.graphql(
            """mutation($s: SensorSelector!) { startSensor(sensorSelector: $s) {
                 __typename ... on Sensor { sensorState { id status } } ... on PythonError { message } } }""",
            {"s": selector})["startSensor"]
        assert started["__typename"] == "Sensor", started
        if not running:
            def status() -> str:
                return self.graphql(
                    """query($s: SensorSelector!) { sensorOrError(sensorSelector: $s) { ... on Sensor {
                         sensorState { status } } } }""", {"s": selector})["sensorOrError"]["sensorState"]["status"]

            self._stop("""mutation($id: String!) { stopSensor(id: $id) { __typename ... on PythonError { message } } }""",
                       started["sensorState"]["id"], "StopSensorMutationResult", status)

    def sensor_tick_gaps(self, location: str, name: str, ticks: int = 20) -> list[float]:
        """Seconds between a sensor's newest ``ticks`` ticks, as its page on the UI lists them."""
        data = self.graphql(
            """query($s: SensorSelector!, $n: Int) { sensorOrError(sensorSelector: $s) { ... on Sensor {
                 sensorState { ticks(limit: $n) { timestamp } } } } }""",
            {"s": {"repositoryLocationName": location, "repositoryName": "__repository__", "sensorName": name},
             "n": ticks})
        stamps = sorted(tick["timestamp"] for tick in data["sensorOrError"]["sensorState"]["ticks"])
        return [later - earlier for earlier, later in itertools.pairwise(stamps)]

    def start_schedule(self, location: str, name: str) -> None:
        """Start a schedule as its toggle on the UI's Automation page does."""
        selector = {"repositoryLocationName": location, "repositoryName": "__repository__", "scheduleName": name}
        started = self.graphql(
            """mutation($s: ScheduleSelector!) { startSchedule(scheduleSelector: $s) {
                 __typename ... on ScheduleStateResult { scheduleState { status } } ... on PythonError { message } } }""",
            {"s": selector})["startSchedule"]
        assert started["__typename"] == "ScheduleStateResult", started

    def stop_schedule(self, location: str, name: str) -> None:
        """Stop a schedule as its toggle on the UI's Automation page does."""
        selector = {"repositoryLocationName": location, "repositoryName": "__repository__", "scheduleName": name}

        def state() -> dict:
            return self.graphql(
                """query($s: ScheduleSelector!) { scheduleOrError(scheduleSelector: $s) { ... on Schedule {
                     scheduleState { id status } } } }""", {"s": selector})["scheduleOrError"]["scheduleState"]

        self._stop("""mutation($id: String!) { stopRunningSchedule(id: $id) {
                        __typename ... on PythonError { message } } }""",
                   state()["id"], "ScheduleStateResult", lambda: state()["status"])

    def _stop(self, mutation: str, state_id: str, stopped: str, status, settle: float = 3.0, attempts: int = 5) -> None:
        """Stop an instigator and see it stay stopped. Dagster's daemons write back the state they
        read as a tick began, so one stopped during that tick runs again after it (docs/pitfalls.md):
        it is stopped again until a look ``settle`` seconds later finds it stopped."""
        for _ in range(attempts):
            result = next(iter(self.graphql(mutation, {"id": state_id}).values()))
            assert result["__typename"] == stopped, result
            time.sleep(settle)
            if status() == "STOPPED":
                return
        raise AssertionError(f"{state_id} is running again after {attempts} stops")

    def materialize_all(self, partitions: list[str]) -> str:
        """What "Materialize all" on the global asset graph does, with a range of days picked in its
        partition dialog: one asset backfill of every key, those days of the partitioned ones."""
        return self.materialize(partitions, title="Materialize all")

    def materialize(self, partitions: list[str], prefixes: tuple[str, ...] | None = None, title: str | None = None) -> str:
        """The same backfill of the assets whose key starts with one of ``prefixes`` (a domain's
        name: its assets, selected on the graph), or of every asset."""
        nodes = self.graphql("{ assetNodes { assetKey { path } isMaterializable } }")["assetNodes"]
        keys = [n["assetKey"] for n in nodes if n["isMaterializable"]  # an observed source is not
                and (prefixes is None or n["assetKey"]["path"][0] in prefixes)]
        return self._launch_backfill({"assetSelection": keys, "partitionNames": partitions, "title": title})

    def reexecute_backfill(self, backfill_id: str) -> str:
        """What "Re-execute from failure" on a backfill's page does: a new backfill of what it did
        not build; its id."""
        data = self.graphql(
            """mutation($p: ReexecutionParams!) { reexecutePartitionBackfill(reexecutionParams: $p) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            {"p": {"parentRunId": backfill_id, "strategy": "FROM_FAILURE"}},
        )["reexecutePartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]

    def backfill_job(self, location: str, job: str, partitions: list[str]) -> str:
        """What "Launch backfill" on a job's Partitions page does: a backfill of the job for those days
        (the backfill daemon submits its runs, as the job's backfill policy says)."""
        repository = {"repositoryLocationName": location, "repositoryName": "__repository__"}
        return self._launch_backfill({"selector": {"partitionSetName": f"{job}_partition_set", "repositorySelector": repository},
                                      "partitionNames": partitions})

    def _launch_backfill(self, params: dict) -> str:
        data = self.graphql(
            """mutation($p: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $p) {
                 __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message } } }""",
            {"p": params},
        )["launchPartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]
