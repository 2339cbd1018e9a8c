"""A domain's plan: what its code location defines, read from the manifest and its ``defs.yaml``.

Pure data, no Dagster machinery, so each case is checked in a line (tests/unit/test_domain_plan.py);
``dataplatform.domain`` turns a plan into ``Definitions``.

A domain's day is ONE op and one ``dbt build`` of its whole dbt group: snapshots, event models,
dimensions and tests, daily-partitioned. An event model's partition is that day's rows (dbt's
microbatch window); a dimension's or snapshot's partition is "as of that day's build", the state
dbt built in the run for that day. A range of days is one run and one build: the event models
get every day of the range, the dimensions and snapshots are built once, as of its last day.
The op sits in the domain's snapshot pool (limit 1), so no two builds of a domain, and so no two
snapshots, ever run at once. The build publishes all its marts at its end, or none.

It starts when the data it reads for a day is there (``inputs``): the ingest assets of its
sources and the public models of other domains it reads (its trigger, dataplatform.automation.triggers);
or at the time its ``defs.yaml`` gives (``start: cron``, its own schedule), or both.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from dagster import AssetKey

from dataplatform.dbt.nodes import is_asset, owner
from dataplatform.dbt.translator import PlatformTranslator
from dataplatform.keys import loaded_elsewhere, snapshot_pool
from dataplatform.publishing import is_blue_green, is_mart

# dbt tests tagged so are the domain's critical tests: its reconciliations of marts against raw
# data and the keys of its public models. They run in every build; their own job re-runs them
# on demand, without rebuilding anything.
CRITICAL_TESTS_TAG = "critical"
# Materializations whose rows dbt counts at the end of an invocation (dbt/macros/row_counts.sql).
COUNTED = ("table", "incremental", "snapshot")


def domain_selection(domain: str) -> str:
    """dbt selection of everything a domain builds: its dbt group (models, snapshots, their tests)."""
    return f"group:{domain}"


@dataclass(frozen=True)
class DomainInput:
    """Data a domain reads and does not build: an ingest asset, or another domain's public model.

    Both are partitioned by day, so the domain's day waits for that day of each. ``readers``: the
    domain's assets that read it directly. ``observed``: a source another tool loads, whose days
    are observations, not materializations (shared_ingest.observed).
    """

    key: AssetKey
    readers: tuple[AssetKey, ...]
    observed: bool = False


@dataclass(frozen=True)
class DomainPlan:
    domain: str
    op: str
    select: str
    pool: str
    job: str
    trigger: str
    assets: tuple[AssetKey, ...]
    inputs: tuple[DomainInput, ...]
    children: Mapping[AssetKey, tuple[AssetKey, ...]]  # within the domain
    critical_tests: tuple[str, ...]
    critical_tests_job: str | None
    snapshots: int
    marts: tuple[AssetKey, ...]
    marts_fresh_by: str
    # What its op reads while dbt runs (dataplatform.dbt.op), found in the same one pass:
    unique_ids: Mapping[AssetKey, str]  # each asset's dbt unique id
    blue_relations: Mapping[AssetKey, str]  # each blue/green mart's blue relation
    tables: Mapping[AssetKey, str]  # the assets whose rows dbt counts, by unique id
    tests: Mapping[str, tuple[str, ...]]  # each dbt test on what the domain builds or reads: the nodes it reads
    start: str = "data"  # data, cron or both (DbtDomain.start)
    cron: str | None = None
    schedule: str | None = None  # with a cron: its schedule's name

    @property
    def starts_by_data(self) -> bool:
        return self.start in ("data", "both")

    def dependents(self, keys: Iterable[AssetKey]) -> frozenset[AssetKey]:
        """The domain's assets among ``keys`` and every domain asset downstream of them."""
        seen: set[AssetKey] = set()
        todo = [key for key in keys if key in self.children]
        while todo:
            key = todo.pop()
            if key not in seen:
                seen.add(key)
                todo.extend(self.children[key])
        return frozenset(seen)

    def readers_of(self, inputs: Iterable[AssetKey]) -> frozenset[AssetKey]:
        """The domain's assets that read any of ``inputs`` directly."""
        wanted = set(inputs)
        return frozenset(reader for i in self.inputs if i.key in wanted for reader in i.readers)


class UnknownGroupError(ValueError):
    """A domain names a dbt group the project does not declare (a typo, or a group not yet added)."""


def declared_groups(manifest: Mapping[str, Any]) -> set[str]:
    """The dbt groups the project declares (``groups:`` in its YAML)."""
    return {group["name"] for group in manifest.get("groups", {}).values()}


def plan_domain(manifest: Mapping[str, Any], domain: str, marts_fresh_by: str,
                translator: PlatformTranslator | None = None, start: str = "data",
                cron: str | None = None) -> DomainPlan | None:
    """The plan of ``domain`` from the manifest and its ``defs.yaml`` (``marts_fresh_by``: a daily
    cron; ``start`` and ``cron``: what starts its day); None while its group owns no model yet (a
    domain just created)."""
    if domain not in declared_groups(manifest):
        known = ", ".join(sorted(declared_groups(manifest))) or "none"
        raise UnknownGroupError(f"dbt group {domain!r} is not declared in the dbt project (its groups: {known}): "
                                f"declare it in dbt/models/{domain}/_{domain}__group.yml (python3 tasks.py new-domain)")
    translator = translator or PlatformTranslator()
    nodes, sources = manifest["nodes"], manifest["sources"]
    owned = {uid: n for uid, n in nodes.items() if is_asset(n) and owner(n) == domain}
    if not any(n["resource_type"] == "model" for n in owned.values()):
        return None
    key = {uid: translator.get_asset_key(n) for uid, n in owned.items()}
    children: dict[AssetKey, list[AssetKey]] = {k: [] for k in key.values()}
    inputs: dict[str, list[AssetKey]] = {}
    for uid, node in owned.items():
        for parent in node["depends_on"]["nodes"]:
            if parent in owned:
                children[key[parent]].append(key[uid])
            elif parent.startswith("source.") or is_asset(nodes.get(parent, {})):
                inputs.setdefault(parent, []).append(key[uid])

    def as_input(uid: str, readers: list[AssetKey]) -> DomainInput:
        props = sources[uid] if uid.startswith("source.") else nodes[uid]
        return DomainInput(translator.get_asset_key(props), tuple(sorted(set(readers), key=str)),
                           observed=uid.startswith("source.") and loaded_elsewhere(props.get("loader")))

    # The tests on what it builds or reads: those its location's slice holds (dataplatform.dbt.slices).
    built = set(owned)
    built_or_read = built | {parent for node in owned.values() for parent in node["depends_on"]["nodes"]}
    tests = {uid: n for uid, n in nodes.items()
             if n["resource_type"] == "test" and not built_or_read.isdisjoint(n["depends_on"]["nodes"])}
    critical = sorted(n["name"] for n in tests.values()
                      if CRITICAL_TESTS_TAG in n.get("tags", []) and not built.isdisjoint(n["depends_on"]["nodes"]))
    return DomainPlan(
        domain=domain,
        op=f"{domain}_dbt",
        select=domain_selection(domain),
        pool=snapshot_pool(domain),
        job=f"{domain}_build",
        trigger=f"{domain}_on_new_data",
        assets=tuple(sorted(key.values(), key=str)),
        inputs=tuple(sorted((as_input(uid, readers) for uid, readers in inputs.items()), key=lambda i: str(i.key))),
        children={k: tuple(sorted(v, key=str)) for k, v in children.items()},
        critical_tests=tuple(critical),
        critical_tests_job=f"{domain}_critical_tests" if critical else None,
        snapshots=sum(1 for n in owned.values() if n["resource_type"] == "snapshot"),
        marts=tuple(sorted((key[uid] for uid, n in owned.items() if is_mart(n)), key=str)),
        marts_fresh_by=marts_fresh_by,
        unique_ids={key[uid]: uid for uid in owned},
        blue_relations={key[uid]: n["relation_name"] for uid, n in owned.items() if is_blue_green(n)},
        tables={key[uid]: uid for uid, n in owned.items() if n["config"].get("materialized") in COUNTED},
        tests={n["name"]: tuple(n["depends_on"]["nodes"]) for n in tests.values()},  # a check is named after its test
        start=start,
        cron=cron,
        schedule=f"{domain}_on_cron" if cron else None,
    )
