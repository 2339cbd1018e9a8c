"""The import floor of a location's load: import dagster, dagster_dbt and dbt's selector, nothing read."""

import dagster  # noqa: F401
import dagster_dbt  # noqa: F401
import dbt.graph.selector  # noqa: F401
