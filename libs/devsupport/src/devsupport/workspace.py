"""The workspace's code locations, and the commands that add or remove a domain.

A code location is registered in five lists: ``dg.toml`` (what `dg dev` serves), ``workspace.yaml``
(what Dagster's other commands and the deployment load), the root ``pyproject.toml`` (the package,
and its lock), and ``deploy/helm/values.yaml`` (one user deployment each). A domain is also its dbt
group (``dbt/models/<name>/_<name>__group.yml``, with its owner) and its block in
``dbt/dbt_project.yml`` (group, schemas, materializations; snapshots and data tests). Everything
else a tool needs (the locations, the domains, the CI's list) is read from these lists, here.

    python3 tasks.py new-domain NAME [--owner-email ...]   # a domain: its two folders, registered
    python3 tasks.py new-domain NAME --remove              # and gone again, the tree as before
    python3 tasks.py remove-example                        # the example this repository ships

tests/unit/test_workspace.py checks that the lists agree; tests/definitions/test_new_domain.py runs
the commands in a scratch copy.
"""

from __future__ import annotations

import argparse
import keyword
import re
import shutil
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from string import Template

from dataplatform.keys import INGEST_LOCATION as INGEST

DG_TOML, WORKSPACE_YAML, PYPROJECT = "dg.toml", "workspace.yaml", "pyproject.toml"
HELM_VALUES, DBT_PROJECT, EXAMPLE_TOML = "deploy/helm/values.yaml", "dbt/dbt_project.yml", "example.toml"
MKDOCS_YML = "mkdocs.yml"
DOMAIN_COMPONENT = "dataplatform.components.DbtDomain"
TEMPLATES = Path(__file__).parent / "templates" / "domain"
_NAME = re.compile(r"[a-z][a-z0-9_]*")


class WorkspaceError(ValueError):
    """A command that cannot be carried out; the message says why and what to do."""


@dataclass(frozen=True)
class Location:
    """A code location of the workspace: a package under ``locations/`` (its name is its module's)."""

    name: str
    path: str  # relative to the repo root

    @property
    def module(self) -> str:
        return f"{self.name}.definitions"

    def package(self, root: Path) -> str:
        """Its distribution name (``shared-ingest``), from its pyproject.toml."""
        return tomllib.loads((root / self.path / "pyproject.toml").read_text())["project"]["name"]


def locations(root: Path) -> tuple[Location, ...]:
    """The workspace's code locations, in dg.toml's order (each project's ``root_module``)."""
    projects = tomllib.loads((root / DG_TOML).read_text())["workspace"]["projects"]
    found = []
    for project in projects:
        pyproject = tomllib.loads((root / project["path"] / "pyproject.toml").read_text())
        found.append(Location(pyproject["tool"]["dg"]["project"]["root_module"], project["path"]))
    return tuple(found)


def domain_group(root: Path, location: Location) -> str | None:
    """The dbt group a location builds, if it is a domain (a ``DbtDomain`` in its defs folder)."""
    import yaml

    for defs_yaml in sorted((root / location.path / "src" / location.name / "defs").rglob("defs.yaml")):
        declared = yaml.safe_load(defs_yaml.read_text()) or {}
        if declared.get("type") == DOMAIN_COMPONENT:
            return declared["attributes"]["group"]
    return None


def domains(root: Path) -> tuple[str, ...]:
    """The domains' dbt groups, in the workspace's order."""
    return tuple(group for location in locations(root) if (group := domain_group(root, location)))


# --- editing the lists, line by line: their comments and layout stay as they are -----------------
# Each list is found by an anchor line; a file whose anchor is gone (reshaped by hand) is named in
# the error with the lines to add, instead of being rewritten.

def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _block_end(lines: list[str], start: int, indent: int) -> int:
    """The index after the last line, from ``start``, of a block whose lines are indented more than
    ``indent`` (blank lines inside it included, those after it not)."""
    end = start
    for index in range(start, len(lines)):
        if not lines[index].strip():
            continue
        if _indent(lines[index]) <= indent:
            break
        end = index + 1
    return end


class _ListFile:
    """One of the workspace's files, edited in place by lines."""

    def __init__(self, root: Path, name: str) -> None:
        self.name, self.path = name, root / name
        self.lines = self.path.read_text().splitlines(keepends=True)

    def find(self, text: str, start: int = 0, adding: str = "") -> int:
        """The first line from ``start`` that is ``text`` (with or without a trailing comment)."""
        for index in range(start, len(self.lines)):
            line = self.lines[index].rstrip("\n")
            if line == text or line.startswith(text + "  #"):
                return index
        hint = f"; add by hand:\n{adding}" if adding else ""
        raise WorkspaceError(f"{self.name}: the line {text.strip()!r} is not there{hint}")

    def closing_bracket(self, opening: int) -> int:
        return self.find("]", opening)

    def insert(self, index: int, text: str) -> None:
        self.lines[index:index] = text.splitlines(keepends=True)

    def delete(self, text: str, start: int = 0, block_indent: int | None = None) -> None:
        """Delete the line ``text`` (if there) and, with ``block_indent``, the block under it."""
        try:
            index = self.find(text, start)
        except WorkspaceError:
            return
        end = index + 1 if block_indent is None else _block_end(self.lines, index + 1, block_indent)
        del self.lines[index:end]

    def save(self) -> None:
        self.path.write_text("".join(self.lines))


def _dbt_sections(name: str) -> dict[str, str]:
    """The domain's block under each section of dbt_project.yml (``models:`` etc., then the project)."""
    return {
        "models": f"""\
    {name}:
      +group: {name}
      staging:
        +schema: {name}_staging
        +materialized: view
      intermediate:
        +schema: {name}_staging
        +materialized: view
      marts:
        +schema: {name}
        +materialized: table
        +meta: {{blue_green: true}}
""",
        "snapshots": f"    {name}:\n      +group: {name}\n      +schema: {name}_snapshots\n",
        "data_tests": f"    {name}:\n      +group: {name}\n",
    }


def _helm_deployment(name: str, package: str) -> str:
    return f"""\
    - name: {package}
      image: {{repository: "REGISTRY/platform-{package}", tag: "TAG", pullPolicy: IfNotPresent}}
      dagsterApiGrpcArgs: ["-m", "{name}.definitions"]
      port: 4000
      envSecrets:
        - name: platform-env
"""


def _dbt_project_name(root: Path) -> str:
    import yaml

    return yaml.safe_load((root / DBT_PROJECT).read_text())["name"]


def _register(root: Path, name: str, package: str) -> None:
    dg = _ListFile(root, DG_TOML)
    dg.insert(dg.closing_bracket(dg.find("projects = [")), f'    {{ path = "locations/{name}" }},\n')

    pyproject = _ListFile(root, PYPROJECT)
    pyproject.insert(pyproject.closing_bracket(pyproject.find("dependencies = [")), f'    "{package}",\n')
    sources = pyproject.find("[tool.uv.sources]")
    pyproject.insert(_sources_end(pyproject.lines, sources),
                     f"{package} = {{ workspace = true }}\n")

    workspace = _ListFile(root, WORKSPACE_YAML)
    workspace.insert(len(workspace.lines),
                     f"  - python_module:\n      module_name: {name}.definitions\n      location_name: {name}\n")

    helm = _ListFile(root, HELM_VALUES)
    deployments = helm.find("  deployments:", helm.find("dagster-user-deployments:"), adding=_helm_deployment(name, package))
    helm.insert(_block_end(helm.lines, deployments + 1, 2), _helm_deployment(name, package))

    dbt = _ListFile(root, DBT_PROJECT)
    project = _dbt_project_name(root)
    for section, block in _dbt_sections(name).items():
        under = dbt.find(f"  {project}:", dbt.find(f"{section}:", adding=block), adding=block)
        dbt.insert(_block_end(dbt.lines, under + 1, 2), block)

    for changed in (dg, pyproject, workspace, helm, dbt):
        changed.save()


def _sources_end(lines: list[str], header: int) -> int:
    """After the last ``name = { workspace = true }`` line of [tool.uv.sources]."""
    end = header + 1
    for index in range(header + 1, len(lines)):
        if lines[index].startswith("["):
            break
        if re.fullmatch(r"[\w.-]+ = \{ workspace = true \}\n?", lines[index]):
            end = index + 1
    return end


def _unregister(root: Path, name: str, package: str) -> None:
    dg = _ListFile(root, DG_TOML)
    dg.delete(f'    {{ path = "locations/{name}" }},')

    pyproject = _ListFile(root, PYPROJECT)
    pyproject.delete(f'    "{package}",', pyproject.find("dependencies = ["))
    pyproject.delete(f"{package} = {{ workspace = true }}", pyproject.find("[tool.uv.sources]"))

    workspace = _ListFile(root, WORKSPACE_YAML)
    module = [i for i, line in enumerate(workspace.lines) if line.rstrip() == f"      module_name: {name}.definitions"]
    if module:
        workspace.delete("  - python_module:", module[0] - 1, block_indent=2)

    helm = _ListFile(root, HELM_VALUES)
    helm.delete(f"    - name: {package}", helm.find("dagster-user-deployments:"), block_indent=4)

    dbt = _ListFile(root, DBT_PROJECT)
    project = _dbt_project_name(root)
    for section in _dbt_sections(name):
        dbt.delete(f"    {name}:", dbt.find(f"  {project}:", dbt.find(f"{section}:")), block_indent=4)

    for changed in (dg, pyproject, workspace, helm, dbt):
        changed.save()


def _lock(root: Path) -> None:
    """The lock and the environment follow the workspace's packages (`uv sync --frozen` refuses a
    lock that misses a member)."""
    from devsupport.environments import uv

    for command in (["lock", "--quiet"], ["sync", "--frozen", "--all-packages", "--quiet"]):
        result = subprocess.run([*uv(), *command], cwd=root, capture_output=True, text=True)
        if result.returncode != 0:
            raise WorkspaceError(f"uv {' '.join(command)} failed in {root}:\n{result.stderr[-3000:]}")


# --- the commands ---------------------------------------------------------------------------------

def check_name(root: Path, name: str) -> None:
    """A new domain's name is a Python package name and a dbt group name that nothing else uses."""
    taken = {location.name for location in locations(root)}
    if not _NAME.fullmatch(name) or keyword.iskeyword(name):
        raise WorkspaceError(f"{name!r} cannot name a domain: lowercase letters, digits and _, starting with a letter "
                             "(it is a Python package, a dbt group, a schema prefix and an asset key's first part)")
    if name in taken or name == "raw":
        raise WorkspaceError(f"{name!r} is taken: the workspace has the locations {', '.join(sorted(taken))} "
                             "(and raw/ keys the sources)")
    if name in sys.stdlib_module_names or name in {"dagster", "dbt", "dataplatform", "devsupport", "tests"}:
        raise WorkspaceError(f"{name!r} is the name of a module the platform imports: choose another")
    for folder in (f"locations/{name}", f"dbt/models/{name}", f"dbt/snapshots/{name}", f"dbt/data-tests/{name}"):
        if (root / folder).exists():
            raise WorkspaceError(f"{folder} already exists: remove it, or choose another name")


def clock_values(start: str = "data", cron: str | None = None) -> dict[str, str]:
    """The template values of what starts a domain's day (defs.yaml's ``start`` and ``cron``)."""
    return {"start": start, "cron_line": f'\n  cron: "{cron}"' if cron else ""}


def new_domain(root: Path, name: str, *, owner_name: str | None = None, owner_email: str | None = None,
               description: str | None = None, marts_fresh_by: str = "0 8 * * *", start: str = "data",
               cron: str | None = None, lock: bool = True) -> list[str]:
    """Create the domain ``name`` (its location package and its dbt folder) and register it in
    every list; returns the files written. Its dbt models then go under dbt/models/<name>/."""
    from dataplatform.partitions import daily_cron_time

    check_name(root, name)
    daily_cron_time(marts_fresh_by, "--marts-fresh-by")
    from dataplatform.components import DbtDomain

    try:  # what the location will refuse at load, refused now
        DbtDomain(group=name, marts_fresh_by=marts_fresh_by, start=start, cron=cron)
    except ValueError as error:
        raise WorkspaceError(f"--start {start} --cron {cron}: {error}") from None
    values = {
        "name": name, "package": name.replace("_", "-"), "marts_fresh_by": marts_fresh_by, **clock_values(start, cron),
        "owner_name": owner_name or f"{name.replace('_', ' ').capitalize()} analytics",
        "owner_email": owner_email or f"{name.replace('_', '-')}-data@example.com",
        "description": description or f"The {name} domain's models.",
    }
    package_dir = root / "locations" / name / "src" / name
    files = {
        root / "locations" / name / "pyproject.toml": "pyproject.toml.tmpl",
        root / "locations" / name / ".env": "env.tmpl",
        package_dir / "__init__.py": None,
        package_dir / "definitions.py": "definitions.py.tmpl",
        package_dir / "defs" / "__init__.py": None,
        package_dir / "defs" / "dbt_domain" / "defs.yaml": "defs.yaml.tmpl",
        root / "dbt" / "models" / name / f"_{name}__group.yml": "group.yml.tmpl",
    }
    for path, template in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(Template((TEMPLATES / template).read_text()).substitute(values) if template else "")
    _register(root, name, values["package"])
    if lock:
        _lock(root)
    return sorted(str(p.relative_to(root)) for p in files)


def _readers_outside(root: Path, groups: set[str]) -> list[str]:
    """The dbt nodes of other groups that read a model of ``groups`` (a removal would break them)."""
    import json
    import os

    from dataplatform.dbt.nodes import owner
    from dataplatform.dbt.project import get_dbt_project, prepare_manifest
    from dataplatform.settings import resolve_settings

    settings = resolve_settings({**os.environ, "DBT_PROJECT_DIR": str(root / "dbt")})
    settings.export_dbt_env()
    manifest = json.loads(prepare_manifest(get_dbt_project(settings.require_dbt_project(), settings.dbt_target)).read_text())
    nodes = manifest["nodes"]
    group_of = {uid: owner(n) for uid, n in nodes.items()}
    return sorted(f"{group_of[uid]}'s {node['name']} ({node['original_file_path']}) reads {nodes[parent]['name']}"
                  for uid, node in nodes.items() if group_of[uid] not in groups and node["resource_type"] != "test"
                  for parent in node["depends_on"]["nodes"] if group_of.get(parent) in groups)


def remove_domains(root: Path, names: list[str], *, lock: bool = True, check_readers: bool = True) -> None:
    """Remove domains: their folders and their entries in every list. Refused while a domain that
    stays reads one of their models (dbt would no longer parse)."""
    known = {location.name: location for location in locations(root)}
    if missing := [n for n in names if n not in known or n == INGEST]:
        raise WorkspaceError(f"no domain {', '.join(missing)} in this workspace (its domains: {', '.join(domains(root))})")
    if check_readers and (readers := _readers_outside(root, set(names))):
        raise WorkspaceError(f"cannot remove {', '.join(names)}: " + "; ".join(readers)
                             + ". Remove or change those models first.")
    for name in names:
        package = known[name].package(root)
        _unregister(root, name, package)
        for folder in (known[name].path, f"dbt/models/{name}", f"dbt/snapshots/{name}", f"dbt/data-tests/{name}"):
            shutil.rmtree(root / folder, ignore_errors=True)
    if lock:
        _lock(root)


def remove_example(root: Path, *, lock: bool = True) -> list[str]:
    """Remove the example this repository ships, as ``example.toml`` lists it: its domains (their
    dbt models and sources with them), its dev packages and paths; then that file. Returns what went."""
    if not (root / EXAMPLE_TOML).is_file():
        raise WorkspaceError(f"no {EXAMPLE_TOML} here: the example was removed already")
    example = tomllib.loads((root / EXAMPLE_TOML).read_text())["example"]
    remove_domains(root, list(example["domains"]), lock=False, check_readers=False)

    pyproject = _ListFile(root, PYPROJECT)
    for package in example.get("dev_packages", []):
        pyproject.delete(f'    "{package}",', pyproject.find("dev = ["))
        pyproject.delete(f"{package} = {{ workspace = true }}", pyproject.find("[tool.uv.sources]"))
    pyproject.save()
    for path in example.get("paths", []):
        target = root / path
        shutil.rmtree(target) if target.is_dir() else target.unlink(missing_ok=True)
        if path.startswith("docs/") and (root / MKDOCS_YML).is_file():  # its page's line in the nav
            mkdocs = _ListFile(root, MKDOCS_YML)
            for line in [line for line in mkdocs.lines if line.rstrip().endswith(f": {path.removeprefix('docs/')}")]:
                mkdocs.delete(line.rstrip("\n"))
            mkdocs.save()
    (root / EXAMPLE_TOML).unlink()
    if lock:
        _lock(root)
    return [*example["domains"], *example.get("paths", [])]


def main(argv: list[str] | None = None) -> None:
    from devsupport import REPO

    parser = argparse.ArgumentParser(prog="python3 tasks.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    new = commands.add_parser("new-domain", help="create a domain (or remove one with --remove)")
    new.add_argument("name")
    new.add_argument("--remove", action="store_true", help="remove the domain, its folders and its entries")
    new.add_argument("--owner-name")
    new.add_argument("--owner-email")
    new.add_argument("--description")
    new.add_argument("--marts-fresh-by", default="0 8 * * *", help="daily cron (UTC) by which its marts hold yesterday")
    new.add_argument("--start", choices=["data", "cron", "both"], default="data",
                     help="what starts its day: its data (default), its own --cron, or both")
    new.add_argument("--cron", help="cron (UTC) of its own schedule, with --start cron or both")
    commands.add_parser("remove-example", help=f"remove the example this repository ships ({EXAMPLE_TOML})")
    listing = commands.add_parser("list", help="the workspace's locations or domains, one per line")
    listing.add_argument("what", choices=["locations", "domains"])
    args = parser.parse_args(argv)
    try:
        if args.command == "list":
            print("\n".join(domains(REPO) if args.what == "domains" else (loc.name for loc in locations(REPO))))
        elif args.command == "remove-example":
            removed = remove_example(REPO)
            print(f"removed the example: {', '.join(removed)}. Next: `python3 tasks.py new-domain NAME` for each of "
                  "your domains, your dbt models under dbt/models/NAME/ (README: Bring your own dbt project)")
        elif args.remove:
            remove_domains(REPO, [args.name])
            print(f"removed the domain {args.name}")
        else:
            written = new_domain(REPO, args.name, owner_name=args.owner_name, owner_email=args.owner_email,
                                 description=args.description, marts_fresh_by=args.marts_fresh_by,
                                 start=args.start, cron=args.cron)
            print(f"created the domain {args.name}:\n  " + "\n  ".join(written)
                  + f"\nregistered in {DG_TOML}, {WORKSPACE_YAML}, {PYPROJECT} (and uv.lock), {HELM_VALUES}, {DBT_PROJECT}."
                  + f"\nNext: its dbt models under dbt/models/{args.name}/; `dg check defs` loads it.")
    except WorkspaceError as error:
        sys.exit(f"tasks.py: {error}")


if __name__ == "__main__":
    main()
