"""How a patch checks that the Dagster (or dagster-dbt) it meets is the one it was written for:
the private function it wraps is still there with the parameters it expects, and still called by
the code it patches. A check that fails raises ``DoesNotFit`` with one line saying what changed;
the registry (``dataplatform.patches``) then leaves the patch off, with a warning."""

import inspect
from collections.abc import Callable
from types import ModuleType


class DoesNotFit(RuntimeError):
    """The installed Dagster is not what a patch was written for; the message says what changed."""


def private_function(module: ModuleType, name: str, parameters: list[str]) -> Callable:
    """``module.<name>``, if it is still a function taking exactly ``parameters``."""
    function = getattr(module, name, None)
    if not callable(function):
        raise DoesNotFit(f"{module.__name__}.{name} is gone")
    found = list(inspect.signature(getattr(function, "__wrapped__", function)).parameters)
    if found != parameters:
        raise DoesNotFit(f"{name} takes {found}, not {parameters}")
    return function


def names_called(code) -> set[str]:
    """Global names and attributes a function's code (and the functions defined in it) looks up."""
    names = set(code.co_names)
    for const in code.co_consts:
        if inspect.iscode(const):
            names |= names_called(const)
    return names


def called_in(module: ModuleType, name: str) -> None:
    """A function of ``module`` still calls ``name``."""
    if not any(inspect.isfunction(f) and f.__module__ == module.__name__ and name in names_called(f.__code__)
               for f in vars(module).values()):
        raise DoesNotFit(f"nothing in {module.__name__} calls {name} any more")


def method_uses(owner, method: str, name: str) -> bool:
    """Whether ``owner.<method>`` is still there and its code names ``name`` (a function it calls,
    an attribute it reads); ``owner`` may be None (a class that is gone)."""
    code = getattr(getattr(owner, method, None), "__code__", None)
    return code is not None and name in names_called(code)
