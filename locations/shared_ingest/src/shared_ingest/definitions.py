"""The shared_ingest code location: what its defs folder declares (defs/ingest/defs.yaml, the
SourceIngest component of shared_ingest.components)."""

import dagster as dg

from dataplatform.location import load_location

from . import defs as defs_folder


@dg.definitions
def defs() -> dg.Definitions:
    return load_location(defs_folder)
