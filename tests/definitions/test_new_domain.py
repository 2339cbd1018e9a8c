"""A domain is one command: `python3 tasks.py new-domain NAME` in a scratch clone creates its two
folders (the location package, its dbt folder with its group and owner), registers it in every list
a location must be in, and `dg` then loads it; with models it has its assets, job and trigger.
`--remove` takes it all out again: the tree is what it was."""

import json
import re
import subprocess
import sys
from pathlib import Path

from support import scratch_clone, scrubbed_env

# What the command may change outside the domain's own folders: the lists it writes.
LISTS = {"dg.toml", "workspace.yaml", "pyproject.toml", "uv.lock", "deploy/helm/values.yaml", "dbt/dbt_project.yml"}
OWN = ("locations/loyalty/", "dbt/models/loyalty/")


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    env = scrubbed_env(PLATFORM_SCHEDULES="stopped", NO_COLOR="1")
    env.pop("VIRTUAL_ENV", None)
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=900)


def changed(root: Path) -> set[str]:
    status = run(root, "git", "status", "--porcelain", "--untracked-files=all").stdout
    return {line[3:] for line in status.splitlines()}


def test_new_domain_adds_a_domain_with_no_hand_edit_and_remove_restores_the_tree(tmp_path):
    root = scratch_clone(tmp_path / "repo")
    created = run(root, sys.executable, "tasks.py", "new-domain", "loyalty", "--owner-email", "loyalty@example.com")
    assert created.returncode == 0, created.stdout[-3000:] + created.stderr[-3000:]

    touched = changed(root)
    assert {p for p in touched if not p.startswith(OWN)} == LISTS
    assert {p for p in touched if p.startswith(OWN)} == {
        "locations/loyalty/pyproject.toml", "locations/loyalty/.env", "locations/loyalty/src/loyalty/__init__.py",
        "locations/loyalty/src/loyalty/definitions.py", "locations/loyalty/src/loyalty/defs/__init__.py",
        "locations/loyalty/src/loyalty/defs/dbt_domain/defs.yaml", "dbt/models/loyalty/_loyalty__group.yml"}
    # Outside its two folders the domain's name is only in the lists the command writes.
    grep = run(root, "git", "grep", "-l", "-w", "loyalty", "--", ".", ":!locations/loyalty", ":!dbt/models/loyalty",
               ":!tests/definitions/test_new_domain.py")
    assert set(grep.stdout.split()) == LISTS, grep.stdout
    assert "loyalty@example.com" in (root / "dbt/models/loyalty/_loyalty__group.yml").read_text()

    dg = str(root / ".venv" / "bin" / "dg")  # the clone's own environment, synced by the command
    check = run(root, dg, "check", "defs")
    assert check.returncode == 0, check.stdout[-3000:] + check.stderr[-3000:]
    assert "owns no model yet" in check.stdout + check.stderr  # it loads, and says what is missing

    (root / "dbt/models/loyalty/marts").mkdir()
    (root / "dbt/models/loyalty/marts/items_per_order.sql").write_text(
        "select order_id, count(*) as items from {{ source('shop', 'order_items') }} group by order_id\n")
    listed = run(root, dg, "list", "defs", "--target-path", "locations/loyalty", "--json")
    assert listed.returncode == 0, listed.stderr[-3000:]
    defs = json.loads(listed.stdout)
    built = {a["asset_key"]: a for a in defs["assets"] if a["is_executable"]}
    assert set(built) == {"loyalty/items_per_order"}
    assert built["loyalty/items_per_order"]["group_name"] == "loyalty"
    assert built["loyalty/items_per_order"]["dependency_keys"] == ["raw/shop/order_items"]  # across locations
    assert {j["name"] for j in defs["jobs"]} == {"loyalty_build"}
    assert not defs["schedules"] and "loyalty_on_new_data" in {s["name"] for s in defs["sensors"]}

    removed = run(root, sys.executable, "tasks.py", "new-domain", "loyalty", "--remove")
    assert removed.returncode == 0, removed.stdout[-3000:] + removed.stderr[-3000:]
    assert changed(root) == set(), "removing the domain did not restore the tree"


def test_a_name_that_cannot_be_a_domain_is_refused_before_anything_is_written(tmp_path):
    root = scratch_clone(tmp_path / "repo")
    for name, reason in (("json", "a module the platform imports"), ("Sales", "lowercase letters"),
                         ("sales", "is taken"), ("shared_ingest", "is taken")):
        refused = run(root, sys.executable, "tasks.py", "new-domain", name)
        assert refused.returncode != 0 and re.search(reason, refused.stderr), (name, refused.stderr[-2000:])
    assert changed(root) == set()
