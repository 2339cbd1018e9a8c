"""The inventory code location: what its defs folder declares (its dbt slice: defs/dbt_domain/defs.yaml)."""

import dagster as dg

from dataplatform.location import load_location

from . import defs as defs_folder


@dg.definitions
def defs() -> dg.Definitions:
    return load_location(defs_folder)
