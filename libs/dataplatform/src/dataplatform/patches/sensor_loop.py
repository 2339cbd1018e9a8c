"""Patch ``sensor_loop`` (dataplatform.patches): the sensor daemon goes round its sensors every
second, not every 5 s, so a domain's trigger ticks at its own interval.

Dagster's sensor daemon (1.13, ``dagster._daemon.sensor.execute_sensor_iteration_loop``) evaluates
the sensors whose ``minimum_interval_seconds`` has passed, then sleeps until 5 s after the round
began (``MIN_INTERVAL_LOOP_TIME``, a module constant). A sensor with a shorter interval ticks every
5 s whatever it asks for: the triggers' 3 s is 5 s in effect, and a day waits 0-5 s per hop for
them. With the patch the round is every second and each sensor still ticks at its own interval
(Dagster checks it), so a trigger of 3 s waits 0-3 s. A round that finds nothing due costs the
daemon one read of the sensors' states. Installed by the instance's run coordinator
(``dataplatform.run_coordinator``), in the daemon. Delete it when Dagster makes the loop a setting.
"""

from types import ModuleType

_CONSTANT = "MIN_INTERVAL_LOOP_TIME"
_LOOP = "execute_sensor_iteration_loop"
SECONDS = 1


def _module(sensor_module: ModuleType | None) -> ModuleType:
    if sensor_module is None:
        from dagster._daemon import sensor as sensor_module
    return sensor_module


def fits(sensor_module: ModuleType | None = None) -> None:
    """The sensor daemon's loop still sleeps on ``MIN_INTERVAL_LOOP_TIME``, a number of seconds of
    its module (``sensor_module``: a stand-in in tests)."""
    from dataplatform.patches.fit import DoesNotFit, method_uses

    module = _module(sensor_module)
    if not isinstance(getattr(module, _CONSTANT, None), (int, float)):
        raise DoesNotFit(f"{module.__name__}.{_CONSTANT} is gone")
    if not method_uses(module, _LOOP, _CONSTANT):
        raise DoesNotFit(f"{module.__name__}.{_LOOP} no longer reads {_CONSTANT}")


def apply(seconds: float = SECONDS, sensor_module: ModuleType | None = None) -> None:
    """Make the sensor daemon of this process go round every ``seconds`` (idempotent)."""
    setattr(_module(sensor_module), _CONSTANT, seconds)
