"""A failed run the instance will retry is not an alert; one it will not retry is, and says why
(its failed step's error). Real runs
on a real (ephemeral) instance with run retries on, as deploy/dagster.yaml sets them."""

import json

import pytest
from dagster import (
    DagsterEventType,
    DagsterInstance,
    DefaultSensorStatus,
    Definitions,
    asset,
    build_run_status_sensor_context,
    build_sensor_context,
    define_asset_job,
)

from dataplatform.automation.alerts import JsonLinesSink, SlackSink, run_failure_alert, run_failure_alerts

RETRIES = {"run_retries": {"enabled": True, "max_retries": 1, "retry_on_asset_or_op_failure": True}}


@asset(owners=["team:platform"])
def flaky() -> None:
    raise RuntimeError("the warehouse went away")


DEFS = Definitions(assets=[flaky], jobs=[define_asset_job("flaky_job", [flaky])])


def failed_run_alert(instance: DagsterInstance, tags: dict):
    result = DEFS.resolve_job_def("flaky_job").execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert not result.success
    [failure] = [e for e in instance.all_logs(result.run_id, of_type=DagsterEventType.RUN_FAILURE)]
    context = build_run_status_sensor_context(
        sensor_name="alert", dagster_event=failure.dagster_event, dagster_instance=instance,
        dagster_run=instance.get_run_by_id(result.run_id), repository_def=DEFS.get_repository_def(),
    ).for_run_failure()
    return run_failure_alert(context)


@pytest.fixture
def instance():
    with DagsterInstance.ephemeral(settings=RETRIES) as instance:
        yield instance


def test_a_run_that_will_be_retried_is_not_an_alert(instance):
    assert failed_run_alert(instance, {}) is None


def test_a_run_with_no_retry_left_is_an_alert_naming_asset_and_owner(instance):
    alert = failed_run_alert(instance, {"dagster/max_retries": "0"})  # as a last retry: the instance retries no more
    assert (alert["kind"], alert["assets"], alert["owners"]) == ("run_failed", ["flaky"], ["team:platform"])
    assert "of flaky_job failed: not built flaky" in alert["summary"]
    # The step's own error, not Dagster's "Execution of run ... failed. Steps failed: [...]".
    assert (alert["step"], alert["cause"]) == ("flaky", "the warehouse went away")
    assert alert["summary"].endswith(". Step flaky failed: the warehouse went away"), alert["summary"]


def test_a_run_that_will_be_retried_does_not_hold_back_the_next_failures_alert(instance, tmp_path):
    """Two failures between two ticks, the first to be retried: the second's alert is delivered at
    the first tick after it, not one later (Dagster ends a tick at a failure its sensor returns
    anything for, a SkipReason included)."""
    sink = JsonLinesSink(tmp_path / "alerts.jsonl")
    sensor = run_failure_alerts("here", sink, DefaultSensorStatus.RUNNING)
    repository = DEFS.get_repository_def()
    cursor = sensor.evaluate_tick(build_sensor_context(instance=instance, repository_def=repository)).cursor  # its start
    run = DEFS.resolve_job_def("flaky_job")
    retried = run.execute_in_process(instance=instance, raise_on_error=False).run_id
    final = run.execute_in_process(instance=instance, tags={"dagster/max_retries": "0"}, raise_on_error=False).run_id
    assert instance.get_run_by_id(retried).tags["dagster/will_retry"] == "true"
    sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor, repository_def=repository))
    delivered = [json.loads(line) for line in sink.path.read_text().splitlines()] if sink.path.exists() else []
    assert [alert["run_id"] for alert in delivered] == [final]


def test_a_failure_alert_slack_cannot_take_fails_its_tick_with_the_alert_and_is_not_sent_again(instance):
    """What the docs say of a Slack outage: the tick fails and carries the alert's text; Dagster's
    run failure sensor moves past the run, so the next tick does not try it again."""
    sink = SlackSink("http://127.0.0.1:9/services/T000/B000/XXXX", retries=0)  # the discard port: nothing listens
    sensor = run_failure_alerts("here", sink, DefaultSensorStatus.RUNNING)
    repository = DEFS.get_repository_def()
    cursor = sensor.evaluate_tick(build_sensor_context(instance=instance, repository_def=repository)).cursor
    run_id = DEFS.resolve_job_def("flaky_job").execute_in_process(
        instance=instance, tags={"dagster/max_retries": "0"}, raise_on_error=False).run_id
    tick = sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=cursor, repository_def=repository))
    [reaction] = tick.dagster_run_reactions
    assert reaction.dagster_run.run_id == run_id
    assert f"not delivered: Run {run_id[:8]} of flaky_job failed" in reaction.error.message
    again = sensor.evaluate_tick(build_sensor_context(instance=instance, cursor=tick.cursor, repository_def=repository))
    assert not again.dagster_run_reactions
