"""Dev only: what the test suite and the benchmarks share. No location image installs it.

* ``processes``: free ports, process groups and stopping them, polling until something holds.
* ``environments``: a subprocess environment without the machine's platform variables, uv, and a
  location installed alone into its own environment as its image installs it.
* ``chain``: the daily chain of jobs, and one location's job run in process for a partition range.
* ``platform``: waiting for a started webserver to list its locations as loaded.
* ``warehouse``: reading the DuckDB warehouse, and the one row-content checksum.
* ``dbt``: a scratch copy of the dbt project.
* ``workspace``: the workspace's code locations and domains, and the commands that add or remove one.
"""

from dataplatform.settings import find_repo_root
from devsupport.workspace import domains, locations

REPO = find_repo_root()
# What the workspace declares (dg.toml, each location's defs.yaml), never a list kept by hand.
LOCATIONS = tuple(location.name for location in locations(REPO))
DOMAINS = domains(REPO)
