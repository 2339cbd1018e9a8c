"""Simulated source systems for dev, found by entry point: the platform never imports one.

A dev-only package that plays source systems (the example's ``sourcesim``) registers an object
under the entry point group ``dataplatform.dev_sources``, with two methods:

- ``land(landing_root, days)``: export each of ``days`` (dates) that has not landed yet;
- ``schedule(cron, default_status)``: the daily schedule that exports yesterday before ingest
  loads it, added to shared_ingest's definitions in dev.

`python3 tasks.py up` lands the days the dev calendar offers. With none installed (the example
removed, a location image), the landing zone holds what the real exports put there.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Sequence
from datetime import date
from typing import Protocol

from dagster import DefaultScheduleStatus, ScheduleDefinition

GROUP = "dataplatform.dev_sources"


class DevSource(Protocol):
    def land(self, landing_root: str, days: Sequence[date]) -> None: ...

    def schedule(self, cron: str, default_status: DefaultScheduleStatus) -> ScheduleDefinition: ...


def dev_sources() -> list[DevSource]:
    """The simulated source systems installed here (none in a location image)."""
    return [entry_point.load() for entry_point in importlib.metadata.entry_points(group=GROUP)]


def main(argv: list[str] | None = None) -> None:
    """``python -m shared_ingest.dev_sources --day YYYY-MM-DD ...``: land those days' exports from
    every simulated source system installed, into this environment's landing zone."""
    import argparse

    from dataplatform.settings import resolve_settings

    parser = argparse.ArgumentParser(prog="python -m shared_ingest.dev_sources", description=main.__doc__)
    parser.add_argument("--day", nargs="+", required=True, type=date.fromisoformat)
    days = parser.parse_args(argv).day
    root = resolve_settings().landing_root
    for source in dev_sources():
        source.land(root, days)
    print(f"{len(dev_sources())} simulated source system(s) landed {', '.join(map(str, days))} in {root}")


if __name__ == "__main__":
    main()
