"""What every code location shares. Its folders are its floors; a module imports only from its own
floor or the floors below, never up:

- ``settings``, ``keys``, ``publishing``: the environment (``settings`` is its only reader), the
  asset key rule, and blue/green's rule. ``patches``: the fixes of Dagster's internals, each
  behind a contract, and the names of those internals the platform reads.
- ``partitions``: the calendar, the one daily partitioning of every location; ``landing``: where
  the sources' exports land, the layout what exports them and ingest both read.
- ``dbt``: the dbt wiring: the project and its manifest, the domain's slice of it, how nodes
  become assets, a domain's plan, and its op.
- ``automation``: what starts a domain's day (its trigger, its schedule) and what tells its owners
  (the alerts); ``runs``: how runs execute.
- ``domain`` and ``components``: a domain location's ``Definitions`` and the dg component its
  ``defs.yaml`` declares. ``location``: how every location loads its ``defs`` folder (no dbt, so
  the ingest location loads without it); ``run_coordinator``: what ``dagster.yaml`` names.

The platform's tools (what a change touches, ``devsupport.affected``) live outside this library,
so a location's image does not ship them.
"""
