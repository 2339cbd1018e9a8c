"""The instance's run coordinator: Dagster's queued run coordinator (the same config, the same
behaviour) that installs the platform's backfill patches (``dataplatform.patches``) in the process
that loads it. The daemon loads the run coordinator when it starts, to know it must run the queue,
so the stock ``dagster-daemon run``, ``dagster dev``, ``dg dev`` and the Helm chart's daemon all run
with them; every dagster.yaml here names it. A patch that does not fit the installed Dagster stays
off, with a warning: the coordinator is then Dagster's own."""

from dagster import QueuedRunCoordinator


class PlatformRunCoordinator(QueuedRunCoordinator):
    def __init__(self, *args, **kwargs) -> None:
        from dataplatform.patches import install

        install("run coordinator")
        super().__init__(*args, **kwargs)
