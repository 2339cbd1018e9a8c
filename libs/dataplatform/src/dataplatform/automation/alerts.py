"""Alerts: a run that failed for good, and a mart whose freshness fails, each delivered once to
the environment's sink, naming the assets, the partition and the owners dbt's groups declare.

Each location alerts for its own runs and assets only, so nothing is delivered twice. A failed
blocking check fails its run (Dagster stops the run's downstream steps, dbt exits non-zero), so
it is in that run's alert, which names it. A run the instance will retry (``dagster/will_retry``)
is not an alert: its retry alerts if it fails too, and a retry that succeeds says nothing.

Sinks: a JSON-lines file in dev and tests (``PLATFORM_ALERTS_FILE``, default
``.local/alerts.jsonl``), a Slack incoming webhook in production (``PLATFORM_ALERTS_SLACK_WEBHOOK``),
through Slack's own client, slack_sdk.
"""

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from dagster import (
    AssetKey,
    DagsterEventType,
    DefaultSensorStatus,
    EventRecordsFilter,
    RunFailureSensorContext,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    run_failure_sensor,
    sensor,
)

from dataplatform.partitions import RANGE_END_TAG, RANGE_START_TAG
from dataplatform.patches.internals import PARTITION_NAME_TAG as PARTITION_TAG
from dataplatform.patches.internals import WILL_RETRY_TAG
from dataplatform.settings import Settings

ASSETS_NAMED = 20
CAUSE_LINES, CAUSE_CHARACTERS = 2, 400
# Dagster's wrapper of an exception raised in a step, whose cause is the step's own error.
DAGSTER_WRAPPERS = {"DagsterExecutionStepExecutionError", "DagsterUserCodeExecutionError"}
# Where dagster-dbt lists the errors dbt logged, in its error for a failed dbt command.
DBT_ERRORS = "Errors parsed from dbt logs:"
DBT_HEADERS = {"Encountered an error:"}  # dbt's line before an error that stopped it


class AlertSink(Protocol):
    def deliver(self, alert: Mapping[str, Any]) -> None: ...


@dataclass(frozen=True)
class JsonLinesSink:
    """One JSON object per line, appended (dev and tests read it)."""

    path: Path

    def deliver(self, alert: Mapping[str, Any]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as file:
            file.write(json.dumps(alert, sort_keys=True) + "\n")


@dataclass(frozen=True)
class SlackSink:
    """A Slack incoming webhook. slack_sdk retries a lost connection, a rate limit and a server
    error (``retries`` times each, backing off); a delivery still refused raises with the alert's
    text, so the sensor's tick fails and shows it on the Automation page. Dagster does not run a
    run failure sensor again for the same run (its cursor moves on: a sensor's side effects are
    not repeated), so that tick is where a refused failure alert is read."""

    webhook_url: str
    retries: int = 3

    def deliver(self, alert: Mapping[str, Any]) -> None:
        from slack_sdk.http_retry import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler
        from slack_sdk.http_retry.builtin_handlers import ServerErrorRetryHandler
        from slack_sdk.webhook import WebhookClient

        handlers = [handler(max_retry_count=self.retries)
                    for handler in (ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, ServerErrorRetryHandler)]
        try:
            response = WebhookClient(self.webhook_url, retry_handlers=handlers).send(text=alert["summary"])
        except OSError as error:  # no connection after the retries
            raise RuntimeError(f"Slack could not be reached ({error}); not delivered: {alert['summary']}") from error
        if response.status_code != 200:
            raise RuntimeError(f"Slack refused the alert ({response.status_code}: {response.body}); "
                               f"not delivered: {alert['summary']}")


def alert_sink(settings: Settings) -> AlertSink:
    """The sink the settings name: a Slack webhook if set, else the JSON-lines file."""
    if settings.alerts_slack_webhook:
        return SlackSink(settings.alerts_slack_webhook)
    return JsonLinesSink(settings.alerts_file)


def owners_of(graph, keys: Sequence[AssetKey]) -> list[str]:
    return sorted({owner for key in keys if graph.has(key) for owner in graph.get(key).owners})


def partition_of(tags: Mapping[str, str]) -> str | None:
    if PARTITION_TAG in tags:
        return tags[PARTITION_TAG]
    start, end = tags.get(RANGE_START_TAG), tags.get(RANGE_END_TAG)
    if start and end:
        return start if start == end else f"{start}..{end}"  # a backfill's one day is that day
    return None


def run_failure_alert(context: RunFailureSensorContext) -> dict[str, Any] | None:
    """The alert for a failed run, or None if the instance retries it."""
    instance, run = context.instance, context.dagster_run
    run = instance.get_run_by_id(run.run_id) or run  # the retry tag is set as the failure is stored
    if run.tags.get(WILL_RETRY_TAG) == "true":
        return None
    records = instance.all_logs(run.run_id, of_type={DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
                                                    DagsterEventType.ASSET_MATERIALIZATION,
                                                    DagsterEventType.ASSET_CHECK_EVALUATION,
                                                    DagsterEventType.STEP_FAILURE})
    planned, built, failed_checks, failed_steps = set(), set(), [], []
    for record in records:
        event = record.dagster_event
        if event.event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED:
            planned.add(event.asset_key)
        elif event.event_type == DagsterEventType.ASSET_MATERIALIZATION:
            built.add(event.asset_key)
        elif event.event_type == DagsterEventType.STEP_FAILURE:
            failed_steps.append((event.step_key, cause_of(event.step_failure_data.error)))
        elif not (evaluation := event.asset_check_evaluation_data).passed:
            failed_checks.append(f"{evaluation.asset_key.to_user_string()}:{evaluation.check_name}")
    not_built = sorted(planned - built, key=str)
    graph = context.repository_def.asset_graph
    partition = partition_of(run.tags)
    names = [k.to_user_string() for k in not_built]
    summary = (f"Run {run.run_id[:8]} of {run.job_name} failed"
               + (f" for {partition}" if partition else "")
               + (f": not built {', '.join(names[:ASSETS_NAMED])}" + (" ..." if len(names) > ASSETS_NAMED else "")
                  if names else "")
               + (f"; failed checks {', '.join(failed_checks)}" if failed_checks else ""))
    # The first failed step's own error says why; without one (a run that crashed or was
    # stopped) Dagster's message for the run does.
    step, cause = failed_steps[0] if failed_steps else (None, context.failure_event.message or "")
    summary += (f". Step {step} failed: {cause}" if step else f". {cause}".rstrip())
    return {
        "kind": "run_failed", "run_id": run.run_id, "job": run.job_name, "partition": partition,
        "assets": names, "failed_checks": failed_checks, "owners": owners_of(graph, not_built),
        "step": step, "cause": cause, "summary": summary[:3000],
    }


def cause_of(error) -> str:
    """A failed step's error in a line or two: the user code's exception inside Dagster's wrapper,
    dbt's first error (its model or test and message) out of dagster-dbt's, without class names."""
    while error is not None and error.cause is not None and error.cls_name in DAGSTER_WRAPPERS:
        error = error.cause
    if error is None:
        return ""
    text = re.sub(rf"^[\w.]*\b{re.escape(error.cls_name or '')}: ", "", error.message)  # "module.Class: "
    if DBT_ERRORS in text:
        text = text.split(DBT_ERRORS, 1)[1].strip().split("\n\n", 1)[0]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip() and line.strip() not in DBT_HEADERS]
    cause = ""
    for line in lines[:CAUSE_LINES]:  # "Runtime Error" + "Could not ...": "Runtime Error: Could not ..."
        cause += line if not cause else (" " if cause.endswith(":") else ": ") + line
    return cause[:CAUSE_CHARACTERS]


def run_failure_alerts(location: str, sink: AlertSink, status: DefaultSensorStatus) -> SensorDefinition:
    """Alerts for the failed runs of this location's jobs (Dagster keeps the sensor's cursor)."""

    @run_failure_sensor(name=f"{location}_alert_on_run_failure", default_status=status,
                        description="Delivers one alert per run of this location that failed and will not be retried.")
    def _alert(context: RunFailureSensorContext):
        # Return nothing either way: Dagster ends the tick at the first failure for which the
        # sensor returns something (a SkipReason included), and the failures after it (a
        # retry's that failed too, another run's) would wait for the next tick.
        if (alert := run_failure_alert(context)) is None:
            context.log.info(f"run {context.dagster_run.run_id[:8]} will be retried: no alert")
            return
        sink.deliver({**alert, "location": location, "at": datetime.now(UTC).isoformat()})

    return _alert


def freshness_alerts(location: str, sink: AlertSink, status: DefaultSensorStatus,
                     interval_seconds: int = 60) -> SensorDefinition:
    """Alerts for this location's assets whose freshness turned to FAIL (the freshness daemon's
    state changes), from the event log after the sensor's cursor."""

    @sensor(name=f"{location}_alert_on_stale_marts", default_status=status, minimum_interval_seconds=interval_seconds,
            description="Delivers one alert each time a mart of this location fails its freshness policy.")
    def _alert(context: SensorEvaluationContext):
        after = int(context.cursor) if context.cursor else None
        records = context.instance.get_event_records(
            EventRecordsFilter(event_type=DagsterEventType.FRESHNESS_STATE_CHANGE, after_cursor=after),
            ascending=True, limit=500)
        graph = context.repository_def.asset_graph
        for record in records:
            change = record.event_log_entry.dagster_event.asset_freshness_state_change_data
            if graph.has(change.key) and graph.get(change.key).is_materializable and change.new_state.value == "FAIL":
                name = change.key.to_user_string()
                sink.deliver({
                    "kind": "freshness_failed", "assets": [name], "partition": None, "location": location,
                    "owners": owners_of(graph, [change.key]), "at": datetime.now(UTC).isoformat(),
                    "summary": f"{name} fails its freshness policy (was {change.previous_state.value})",
                })
        if records:
            context.update_cursor(str(records[-1].storage_id))
        return SkipReason(f"{len(records)} freshness change(s) read")

    return _alert


def location_alerts(location: str, settings: Settings) -> list[SensorDefinition]:
    """Both alert sensors of a location, delivering to the settings' sink."""
    from dataplatform.automation.status import sensor_status

    sink = alert_sink(settings)
    status = sensor_status(settings)
    return [run_failure_alerts(location, sink, status), freshness_alerts(location, sink, status)]
