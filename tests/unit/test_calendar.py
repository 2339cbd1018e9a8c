"""The platform's clocks: every time a location declares is a daily cron, or a clear error; and
the day's forms at each edge."""

import re
from datetime import date

import pytest
from pydantic import ValidationError

from dataplatform.components import DbtDomain
from dataplatform.dbt.op import microbatch_window_args
from dataplatform.partitions import daily_cron_time, daily_partitions, partition_day, partition_key
from shared_ingest.components import SourceIngest, declared_ingest


@pytest.mark.parametrize("cron, hour, minute", [("0 5 * * *", 5, 0), ("30 4 * * *", 4, 30), ("59 23 * * *", 23, 59)])
def test_a_daily_cron_is_its_time_of_day(cron, hour, minute):
    assert (daily_cron_time(cron).hour, daily_cron_time(cron).minute) == (hour, minute)


@pytest.mark.parametrize("cron", ["0 7 * * 1", "*/5 * * * *", "0 5,17 * * *", "0 5 1 * *", "0 24 * * *", "60 5 * * *",
                                  "@daily", "0 5 * *"])
def test_anything_but_a_daily_cron_is_refused_by_name(cron):
    with pytest.raises(ValueError) as refused:
        daily_cron_time(cron, "marts_fresh_by")
    assert str(refused.value) == f"marts_fresh_by must be a daily cron 'M H * * *' (UTC, minute and hour), got {cron!r}"


def test_a_domain_refuses_a_weekly_deadline():
    with pytest.raises(ValidationError, match="marts_fresh_by must be a daily cron"):
        DbtDomain(group="sales", marts_fresh_by="0 7 * * 1")


@pytest.mark.parametrize("start, cron, refused", [
    ("cron", None, "start: cron needs a cron"),
    ("both", None, "start: both needs a cron"),
    ("data", "0 6 * * *", "cron '0 6 * * *' is set but start is data"),
    ("cron", "0 6 * *", "cron '0 6 * *' is not a cron schedule"),
    ("cron", "0 25 * * *", "cron '0 25 * * *' is not a cron schedule"),
    ("hourly", "0 6 * * *", "Input should be 'data', 'cron' or 'both'"),
])
def test_a_domains_own_clock_is_refused_unless_start_and_cron_agree(start, cron, refused):
    with pytest.raises(ValidationError, match=re.escape(refused)):
        DbtDomain(group="sales", marts_fresh_by="0 7 * * *", start=start, cron=cron)


@pytest.mark.parametrize("start, cron", [("data", None), ("cron", "0 6 * * *"), ("both", "*/30 5-8 * * 1-5")])
def test_a_domain_starts_by_its_data_its_own_cron_or_both(start, cron):
    domain = DbtDomain(group="sales", marts_fresh_by="0 7 * * *", start=start, cron=cron)
    assert (domain.start, domain.cron) == (start, cron)


def test_ingest_refuses_a_cron_that_runs_every_five_minutes():
    with pytest.raises(ValidationError, match="loads_at must be a daily cron"):
        SourceIngest(loads_at="*/5 * * * *", simulates_at="30 4 * * *")


def test_ingests_times_are_declared_in_its_defs_yaml_and_the_simulation_comes_first():
    declared = declared_ingest()
    assert daily_cron_time(declared.simulates_at) < daily_cron_time(declared.loads_at)


def test_dbt_run_by_hand_starts_its_calendar_where_the_platform_does():
    """dbt read alone (`cd dbt && dbt build`) takes the default the settings own; the platform
    always passes its own value (Settings.dbt_env)."""
    import re

    from support import REPO

    from dataplatform.settings import DEFAULT_PARTITIONS_START, PARTITIONS_START_VARIABLE

    files = [p for p in (REPO / "dbt").rglob("*") if p.suffix in (".sql", ".yml") and "target" not in p.parts]
    reads = re.compile(rf"env_var\(\s*'{PARTITIONS_START_VARIABLE}'\s*(?:,\s*'([^']*)')?\s*\)")
    defaults = [(p.name, m[1]) for p in files for m in reads.finditer(p.read_text())]
    assert defaults and all(default == DEFAULT_PARTITIONS_START.isoformat() for _, default in defaults), defaults


def test_a_day_is_its_partition_key_and_back(monkeypatch):
    monkeypatch.setenv("PLATFORM_PARTITIONS_START", "2026-01-01")
    key = daily_partitions().get_partition_keys()[40]
    assert partition_key(partition_day(key)) == key and partition_day(key) == date(2026, 2, 10)


@pytest.mark.parametrize("first, last, start, end", [
    (date(2026, 1, 2), date(2026, 1, 2), "2026-01-02T00:00:00", "2026-01-03T00:00:00"),  # one day
    (date(2026, 1, 30), date(2026, 2, 1), "2026-01-30T00:00:00", "2026-02-02T00:00:00"),  # a range across a month
    (date(2024, 12, 31), date(2024, 12, 31), "2024-12-31T00:00:00", "2025-01-01T00:00:00"),
])
def test_dbts_microbatch_window_is_whole_days_with_its_end_exclusive(first, last, start, end):
    assert microbatch_window_args(first, last) == ["--event-time-start", start, "--event-time-end", end]
