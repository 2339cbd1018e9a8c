"""The platform's clocks: every time a location declares is a daily cron, or a clear error."""

import re

import pytest
from pydantic import ValidationError

from dataplatform.components import DbtDomain
from dataplatform.partitions import daily_cron_time
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
