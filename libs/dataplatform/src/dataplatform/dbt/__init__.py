"""The dbt wiring: the one dbt project and its manifest (``project``), each domain's slice of it
(``slices``), which domain owns a node and which nodes become assets (``nodes``), how a node
becomes an asset (``translator``), a domain's plan (``plan``) and its dbt op (``op``, with the
errors it explains: ``failures``). It imports the floor below (settings, keys, publishing,
partitions, patches), never automation or the location."""
