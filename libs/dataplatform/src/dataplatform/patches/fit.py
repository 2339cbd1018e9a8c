"""What the platform's fixes of Dagster internals (daemon.py, dialog_fix.py, warm_runs.py) check before
they patch: that the private function they wrap is still there, with the parameters they were written
for. Each fails in one line that names the Dagster version and the fix."""

import inspect
from collections.abc import Callable


def unfit_error(error_type: type[Exception], fix: str, source: str) -> Callable[[str], Exception]:
    """A maker of the one-line error for a fix that does not fit the installed Dagster."""
    import dagster

    return lambda what: error_type(f"dataplatform's {fix} does not fit dagster {dagster.__version__}: {what}; "
                                   f"see libs/dataplatform/src/dataplatform/{source}")


def private_function(module, name: str, parameters: list[str], unfit: Callable[[str], Exception]) -> Callable:
    """``module.<name>``, if it is still a function taking exactly ``parameters``; else ``unfit``'s error."""
    function = getattr(module, name, None)
    if not callable(function):
        raise unfit(f"{module.__name__}.{name} is gone")
    found = list(inspect.signature(getattr(function, "__wrapped__", function)).parameters)
    if found != parameters:
        raise unfit(f"{name} takes {found}, not {parameters}")
    return function


def method_uses(owner, method: str, name: str) -> bool:
    """Whether ``owner.<method>`` is still there and its code names ``name`` (a function it calls,
    an attribute it reads); ``owner`` may be None (a class that is gone)."""
    code = getattr(getattr(owner, method, None), "__code__", None)
    return code is not None and name in code.co_names
