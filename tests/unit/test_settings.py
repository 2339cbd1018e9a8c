"""The environment resolver: read from the environment when called, never at import."""

from pathlib import Path

import pytest
from dagster import DefaultScheduleStatus, in_process_executor

from dataplatform.automation.status import schedule_status
from dataplatform.runs import platform_executor
from dataplatform.settings import SettingsError, enabled_patches, resolve_settings


def test_dev_defaults_live_under_the_local_dir(tmp_path):
    settings = resolve_settings({"PLATFORM_LOCAL_DIR": str(tmp_path)})
    assert settings.env == "dev"
    assert settings.local_dir == tmp_path
    assert settings.dbt_target == "dev"
    assert settings.duckdb_path == (tmp_path / "warehouse.duckdb").resolve()
    assert settings.landing_root == str(tmp_path / "landing")
    assert settings.dbt_project_dir == Path(__file__).resolve().parents[2] / "dbt"
    assert settings.dbt_env() == {"PLATFORM_PARTITIONS_START": "2026-01-01", "DUCKDB_PATH": str(settings.duckdb_path)}


def test_the_calendar_is_one_setting_handed_to_dbt():
    settings = resolve_settings({"PLATFORM_PARTITIONS_START": "2025-06-01"})
    assert settings.partitions_start.isoformat() == settings.dbt_env()["PLATFORM_PARTITIONS_START"] == "2025-06-01"


def test_a_bad_calendar_start_is_named():
    with pytest.raises(SettingsError, match="PLATFORM_PARTITIONS_START must be a date YYYY-MM-DD, got '2025-13-01'"):
        resolve_settings({"PLATFORM_PARTITIONS_START": "2025-13-01"})


def test_explicit_variables_win(tmp_path):
    settings = resolve_settings({"DUCKDB_PATH": str(tmp_path / "w.duckdb"), "LANDING_ROOT": "/data/in"})
    assert settings.duckdb_path == tmp_path / "w.duckdb"
    assert settings.landing_root == "/data/in"


def test_unknown_environment_is_named():
    with pytest.raises(SettingsError, match="PLATFORM_ENV must be one of dev, prod, got 'staging'"):
        resolve_settings({"PLATFORM_ENV": "staging"})


def test_dev_runs_steps_in_process_one_writer():
    settings = resolve_settings({})
    assert settings.single_writer
    assert platform_executor(settings) is in_process_executor


def test_schedules_can_be_started_stopped():
    assert schedule_status(resolve_settings({})) == DefaultScheduleStatus.RUNNING
    assert schedule_status(resolve_settings({"PLATFORM_SCHEDULES": "stopped"})) == DefaultScheduleStatus.STOPPED


def test_the_patches_are_all_on_unless_switched_off():
    known = ("dialog", "warm_runs")
    assert enabled_patches({}, known) == {"dialog", "warm_runs"}
    assert enabled_patches({"PLATFORM_PATCHES": "none"}, known) == set()
    assert enabled_patches({"PLATFORM_PATCHES": " dialog, "}, known) == {"dialog"}
    with pytest.raises(SettingsError, match="PLATFORM_PATCHES must be all, none or a list of dialog, warm_runs; unknown: warm"):
        enabled_patches({"PLATFORM_PATCHES": "dialog,warm"}, known)
