"""The snapshot pool on its own: with the run queue opened up, two snapshot runs of one domain
start together, and only the pool (limit 1) keeps their snapshot steps apart. Without it they
would write the DuckDB file at the same time and one would fail on its lock."""

import pytest
import yaml
from dagster import DagsterRunStatus
from platform_support import overlaps, run_window, start_platform, step_windows, stop_platform
from support import REPO


@pytest.fixture(scope="module")
def open_queue_platform(tmp_path_factory):
    local = tmp_path_factory.mktemp("pool")
    config = yaml.safe_load((REPO / "dagster.yaml").read_text())
    config["concurrency"]["runs"]["max_concurrent_runs"] = 4
    instance_config = local / "dagster.yaml"
    instance_config.write_text(yaml.safe_dump(config))
    platform = start_platform(local / "home", instance_config)
    # The snapshots read raw tables: load them first.
    assert platform.wait_for_runs([platform.launch_job("shared_ingest", "ingest_sources")])[0].status == DagsterRunStatus.SUCCESS
    yield platform
    stop_platform(platform)


@pytest.mark.sales
def test_two_snapshot_runs_of_one_domain_wait_for_the_pool(open_queue_platform):
    platform = open_queue_platform
    run_ids = [platform.launch_job("sales", "sales_snapshots") for _ in range(2)]
    runs = platform.wait_for_runs(run_ids)
    assert [r.status for r in runs] == [DagsterRunStatus.SUCCESS] * 2
    with platform.instance() as instance:
        runs_overlapped = overlaps([run_window(instance, r) for r in run_ids])
        steps = [step_windows(instance, r)["sales_dbt_snapshots"] for r in run_ids]
    assert runs_overlapped, "the runs did not run side by side, so this test proves nothing"
    assert not overlaps(steps)
