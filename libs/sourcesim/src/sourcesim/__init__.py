"""Dev only: the simulated source systems, the shop and the ERP. No location image installs it.

* ``days``: the simulation counts days from 1, the calendar's first day; the product keys
  everything by date.
* ``generator``: a day's exports of every source table, deterministic (``generate-source-data``).
* ``simulation``: the dev-only job and daily schedule that export yesterday, before ingest runs.
"""
