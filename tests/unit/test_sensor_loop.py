"""The sensor_loop patch (dataplatform.patches): the sensor daemon goes round every second. What it
changes on the platform (a trigger's ticks 3 s apart, 5 s without it) is checked by
tests/platform/test_automation.py and tests/platform/test_stock_dagster.py."""

import types

import pytest
from dagster._daemon import sensor

from dataplatform.patches.fit import DoesNotFit
from dataplatform.patches.sensor_loop import apply, fits


def _later_dagster(reads_constant: bool, constant=5):
    """A later sensor daemon whose loop sleeps on the constant, or on something else."""
    def reads():
        return MIN_INTERVAL_LOOP_TIME  # noqa: F821 (looked up, never run)

    def sleeps_otherwise():
        return 5

    module = types.ModuleType("later_sensor")
    module.execute_sensor_iteration_loop = reads if reads_constant else sleeps_otherwise
    if constant is not None:
        module.MIN_INTERVAL_LOOP_TIME = constant
    return module


def test_the_installed_dagster_fits():
    fits(sensor)
    fits()


def test_a_loop_that_sleeps_otherwise_does_not_fit_in_one_line():
    with pytest.raises(DoesNotFit, match=r"^later_sensor.execute_sensor_iteration_loop no longer reads MIN_INTERVAL_LOOP_TIME$"):
        fits(_later_dagster(reads_constant=False))
    with pytest.raises(DoesNotFit, match=r"^later_sensor.MIN_INTERVAL_LOOP_TIME is gone$"):
        fits(_later_dagster(reads_constant=True, constant=None))
    fits(_later_dagster(reads_constant=True))


def test_apply_sets_the_round_and_is_idempotent():
    module = _later_dagster(reads_constant=True)
    apply(sensor_module=module)
    apply(sensor_module=module)
    assert module.MIN_INTERVAL_LOOP_TIME == 1
