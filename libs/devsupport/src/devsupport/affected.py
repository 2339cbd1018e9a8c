"""What a change touches: the code locations and dbt nodes between a base ref and the working tree,
and a build of only those in a scratch warehouse, deferring to the base for everything else.

    python -m devsupport.affected --base origin/main            # what the change touches
    python -m devsupport.affected --base origin/main --json     # the same, for CI
    python -m devsupport.affected --base origin/main --build --day 2026-01-01

A location is touched when its files change, when it owns a dbt node that changed or is
downstream of one (across domains through public models), and, for shared_ingest's loaders, the
dbt nodes that read the sources directly. dbt nodes come from dbt's own ``state:modified+``
against the base's manifest (parsed from ``git archive <base> dbt``), plus the nodes whose code
version changed (``translator.CodeVersions``, which follows every macro a node calls and the
macros that place it) and their dependents. Files outside every rule (the shared library,
the lock, the workspace) touch every location; documentation touches none.

Before anything is built, a change that removes a model version that another domain read on the
base branch is refused: that domain's deployed code still reads it (README, "Working on one domain").
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any

from dataplatform.dbt.nodes import ASSET_TYPES, is_asset, owner
from dataplatform.keys import INGEST_LOCATION

# Files that change no deployed code: nothing to build or test for them.
DOCUMENTATION = ("README.md", "docs/", "mkdocs.yml", "bench/", ".github/", "LICENSE")
# What a build of the affected nodes lists: the assets, their tests (checks) and the sources they read.
LISTED_TYPES = (*ASSET_TYPES, "test", "source")


class AffectedError(RuntimeError):
    """The change cannot be assessed or built; the message says what to fix."""


class RemovedVersionError(AffectedError):
    """A model version the change removes is still read by another domain's deployed code."""


@dataclass
class Affected:
    """What a change touches. ``locations``: location -> why; ``nodes``: domain -> dbt unique ids."""

    base: str
    files: list[str]
    locations: dict[str, list[str]] = field(default_factory=dict)
    nodes: dict[str, list[str]] = field(default_factory=dict)

    @property
    def markers(self) -> str:
        """The pytest marker expression of the touched locations' tiers ('' when none)."""
        return " or ".join(sorted(self.locations))

    def touch(self, location: str, why: str) -> None:
        reasons = self.locations.setdefault(location, [])
        if why not in reasons:
            reasons.append(why)


def cache_dir(repo: Path) -> Path:
    """Where the base's parsed manifests, the current manifest and the scratch warehouse are kept."""
    return repo / ".local" / "affected"


def git(repo: Path, *args: str) -> str:
    result = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True)
    if result.returncode != 0:
        raise AffectedError(f"git {' '.join(args)} failed in {repo}: {result.stderr.strip()}")
    return result.stdout


def base_commit(repo: Path, base: str) -> str:
    """Where the working tree's branch left ``base`` (the commit a pull request compares to)."""
    return git(repo, "merge-base", base, "HEAD").strip()


def changed_files(repo: Path, commit: str) -> list[str]:
    """Files that differ between ``commit`` and the working tree, untracked ones included."""
    tracked = git(repo, "diff", "--name-only", commit).split()
    untracked = git(repo, "ls-files", "--others", "--exclude-standard").split()
    return sorted(set(tracked) | set(untracked))


def locations_of_files(files: Iterable[str], locations: Iterable[str]) -> dict[str, list[str]]:
    """Which locations each changed file touches, before dbt says anything (pure)."""
    locations = sorted(locations)
    touched: dict[str, list[str]] = {}
    for path in files:
        parts = path.split("/")
        if parts[0] == "locations" and len(parts) > 1 and parts[1] in locations:
            touched.setdefault(parts[1], []).append(path)
        elif parts[0] == "dbt" or path.startswith(DOCUMENTATION) or path.endswith(".md"):
            continue  # dbt files: through the nodes they change; documentation: nothing
        else:
            for location in locations:
                touched.setdefault(location, []).append(path)
    return touched


def descendants(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> set[str]:
    """The nodes and everything downstream of them in the manifest."""
    children = manifest.get("child_map", {})
    found, todo = set(), list(unique_ids)
    while todo:
        uid = todo.pop()
        if uid not in found:
            found.add(uid)
            todo.extend(children.get(uid, []))
    return found


def code_version_changes(base: Mapping[str, Any], current: Mapping[str, Any]) -> set[str]:
    """Nodes present in both manifests whose code version (macros followed) differs."""
    from dataplatform.dbt.translator import CodeVersions

    before, after = CodeVersions(base), CodeVersions(current)
    both = [uid for uid, node in current["nodes"].items() if is_asset(node) and uid in base["nodes"]]
    return {uid for uid in both if before.of(uid) != after.of(uid)}


def source_consumers(manifest: Mapping[str, Any]) -> set[str]:
    """The nodes that read a source directly: what a change to ingest's loaders can break first."""
    children = manifest.get("child_map", {})
    return {child for uid in manifest.get("sources", {}) for child in children.get(uid, [])}


def removed_versions_still_read(base: Mapping[str, Any], current: Mapping[str, Any]) -> list[str]:
    """One line per model version the change removes that another domain's node read on the base."""
    problems = []
    for uid, node in base["nodes"].items():
        if node["resource_type"] != "model" or node.get("version") is None or uid in current["nodes"]:
            continue
        producer = owner(node)
        for child in base.get("child_map", {}).get(uid, []):
            reader = base["nodes"].get(child)
            if reader and reader["resource_type"] != "test" and owner(reader) not in (producer, None):
                problems.append(f"{node['name']} v{node['version']} ({producer}) is removed, but {owner(reader)}'s "
                                f"{reader['name']} ({reader['original_file_path']}) reads it on the base branch: "
                                f"deprecate it, move {owner(reader)} to another version and deploy that first")
    return problems


def dbt(args: list[str]) -> Any:
    """One dbt command in this process (dbt's programmatic API), its log on stderr so that stdout
    holds only what this command prints; AffectedError with dbt's error."""
    from contextlib import redirect_stdout

    from dbt.cli.main import dbtRunner

    with redirect_stdout(sys.stderr):
        result = dbtRunner().invoke(args)
    if not result.success:
        raise AffectedError(f"dbt {args[0]} failed: {result.exception or 'see the dbt output above'}")
    return result.result


def parse(project: Path, target: Path) -> None:
    """``dbt parse`` of ``project`` into ``target``, after ``dbt deps`` if it declares packages (a
    local or vendored one needs no network)."""
    located = ["--project-dir", str(project), "--profiles-dir", str(project)]
    if (project / "packages.yml").is_file() or (project / "dependencies.yml").is_file():
        dbt(["deps", "--quiet", *located])
    dbt(["parse", "--quiet", *located, "--target-path", str(target)])


def parse_base(repo: Path, commit: str, cache: Path) -> Path:
    """The base commit's dbt target folder (manifest.json), parsed once per project fingerprint:
    the base's files and the values of the variables they read (``dataplatform.dbt.project.project_fingerprint``,
    the rule the locations' manifest follows; a DuckDB path names every relation's database)."""
    from dataplatform.dbt.project import project_fingerprint

    extracted = cache / f"base-tree-{commit[:12]}"
    project = extracted / "dbt"
    shutil.rmtree(extracted, ignore_errors=True)
    extracted.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", commit, "dbt"], cwd=repo, capture_output=True, check=True).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(extracted, filter="data")
    target = cache / f"base-manifest-{project_fingerprint(project, 'dev')[:16]}"
    if not (target / "manifest.json").is_file():
        print(f"affected: parsing the base's dbt project ({commit[:12]})", file=sys.stderr, flush=True)
        parse(project, target)
    return target


def assess(repo: Path, base: str, cache: Path | None = None) -> tuple[Affected, Path | None]:
    """What the working tree's change touches against ``base``; also the base's dbt state folder
    (None when no dbt file changed, so no dbt node can have)."""
    repo = repo.resolve()
    cache = cache or cache_dir(repo)
    commit = base_commit(repo, base)
    files = changed_files(repo, commit)
    locations = [p.name for p in (repo / "locations").iterdir() if (p / "pyproject.toml").is_file()]
    affected = Affected(base=commit, files=files)
    for location, paths in sorted(locations_of_files(files, locations).items()):
        affected.touch(location, f"files changed: {', '.join(paths[:3])}{' ...' if len(paths) > 3 else ''}")

    project = repo / "dbt"
    dbt_changed = any(f.startswith("dbt/") for f in files)
    if not dbt_changed and INGEST_LOCATION not in affected.locations:
        return affected, None
    current_target = cache / "current"
    state = parse_base(repo, commit, cache) if dbt_changed else None
    common = ["--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(current_target)]
    parse(project, current_target)
    current = json.loads((current_target / "manifest.json").read_text())
    nodes: set[str] = set()
    if state is not None:
        base_manifest = json.loads((state / "manifest.json").read_text())
        # before dbt's own comparison, which refuses a removed contracted version without naming its readers
        if problems := removed_versions_still_read(base_manifest, current):
            raise RemovedVersionError("\n".join(problems))
        listed = dbt(["ls", "--quiet", *common, "--select", "state:modified+", "--state", str(state),
                      "--resource-type", *sorted(LISTED_TYPES), "--output", "json", "--output-keys", "unique_id"])
        nodes = {json.loads(line)["unique_id"] for line in listed}
        nodes |= descendants(current, code_version_changes(base_manifest, current))
    if INGEST_LOCATION in affected.locations:
        nodes |= source_consumers(current)

    every = {**current["nodes"], **current.get("sources", {})}
    for uid in sorted(nodes):
        node = every.get(uid)
        if node is None or node["resource_type"] not in LISTED_TYPES or (domain := owner(node)) is None:
            continue
        affected.nodes.setdefault(domain, []).append(uid)
    for domain, uids in affected.nodes.items():
        if domain in locations:
            affected.touch(domain, f"dbt nodes: {len(uids)}")
    return affected, state


def selectors(manifest: Mapping[str, Any], unique_ids: Iterable[str]) -> list[str]:
    """dbt selectors naming exactly these nodes (a versioned model's fqn names its version)."""
    every = {**manifest["nodes"], **manifest.get("sources", {})}
    return sorted(("source:" if every[u]["resource_type"] == "source" else "fqn:") + ".".join(
        every[u]["fqn"][1:] if every[u]["resource_type"] == "source" else every[u]["fqn"]) for u in unique_ids)


def build(repo: Path, affected: Affected, state: Path, warehouse: Path, day: date, cache: Path | None = None) -> Path:
    """``dbt build`` of only the touched nodes for ``day``, in a scratch copy of the base's
    ``warehouse``, deferring to the base's state for every node not built; returns the copy.

    The copy is named as the dev warehouse (``DUCKDB_PATH``), so that DuckDB's database name, which
    both manifests name in every relation, is the same; the base warehouse is never written.
    """
    from dataplatform.dbt.op import microbatch_window_args
    from dataplatform.dbt.project import DBT_GLOBAL_FLAGS

    repo = repo.resolve()
    cache = cache or cache_dir(repo)
    uids = [u for domain in sorted(affected.nodes) for u in affected.nodes[domain]]
    if not uids:
        raise AffectedError("the change touches no dbt node: nothing to build")
    if not warehouse.is_file():
        raise AffectedError(f"no base warehouse at {warehouse}: build the base's day there first "
                            "(`python3 tasks.py up` on the base branch, or the CI base job)")
    # named as the warehouse the manifests were parsed for: DuckDB's database name is the file's stem
    scratch = cache / "scratch" / Path(os.environ.get("DUCKDB_PATH") or warehouse).name
    scratch.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(warehouse, scratch)
    current = json.loads((cache / "current" / "manifest.json").read_text())
    project = repo / "dbt"
    os.environ["DUCKDB_PATH"] = str(scratch)
    print(f"affected: dbt build of {len(uids)} node(s) for {day} in {scratch}, deferring to {state}", file=sys.stderr, flush=True)
    dbt(["build", *DBT_GLOBAL_FLAGS, "--project-dir", str(project), "--profiles-dir", str(project), "--target-path", str(cache / "build"),
         "--select", *selectors(current, uids), "--defer", "--state", str(state),
         *microbatch_window_args(day, day)])
    return scratch


def describe(affected: Affected) -> str:
    lines = [f"base {affected.base[:12]}: {len(affected.files)} file(s) changed"]
    if not affected.locations:
        lines.append("touches no location: nothing to build or test")
    for location, why in sorted(affected.locations.items()):
        lines.append(f"  {location}: {'; '.join(why)}")
    for domain, uids in sorted(affected.nodes.items()):
        lines.append(f"dbt nodes of {domain} ({len(uids)}):")
        lines.extend(f"    {uid}" for uid in uids)
    if affected.markers:
        lines.append(f"tests: python3 tasks.py test -m '{affected.markers}'")
    return "\n".join(lines)


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m devsupport.affected", description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="origin/main", help="the ref the change is compared to (default origin/main)")
    parser.add_argument("--json", action="store_true", help="print the result as JSON (for CI)")
    parser.add_argument("--build", action="store_true", help="dbt build the touched nodes in a scratch warehouse")
    parser.add_argument("--day", type=date.fromisoformat, help="the day to build (default yesterday, UTC)")
    parser.add_argument("--warehouse", type=Path, help="the base's DuckDB warehouse (default the dev warehouse)")
    return parser


def main(argv: list[str] | None = None) -> None:
    from dataplatform.settings import resolve_settings

    args = argument_parser().parse_args(argv)
    settings = resolve_settings()
    settings.export_dbt_env()
    try:
        repo = Path(git(Path.cwd(), "rev-parse", "--show-toplevel").strip())
        affected, state = assess(repo, args.base)
        print(json.dumps({**asdict(affected), "markers": affected.markers}, indent=2) if args.json else describe(affected))
        if args.build and affected.nodes:
            day = args.day or datetime.now(UTC).date() - timedelta(days=1)
            build(repo, affected, state or parse_base(repo, affected.base, cache_dir(repo)),
                  args.warehouse or settings.duckdb_path, day)
    except AffectedError as error:
        sys.exit(f"affected: {error}")


if __name__ == "__main__":
    main()
