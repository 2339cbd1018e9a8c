"""An organisation's workspace, for measuring the platform at its size (not committed).

    uv run python bench/make_organisation.py bench/.work/organisation --domains 10 --models 5000

A copy of this checkout (``devsupport.environments.copy_checkout``) whose example domains stay, and
``--domains`` minus two more created with ``new-domain`` (its functions, without the lock: their
packages run from their folders, ``pythonpath``). ``--models`` generated models are split evenly
between all of them, under ``models/<domain>/generated/``; each reads one or two earlier models of
its domain, with a not_null and a unique test. The first generated model of each new domain reads
the last one of the domain before it (public), so the domains read each other in a chain: sales,
org_01, org_02, ... each three deep and more.
"""

import argparse
import os
from pathlib import Path

from devsupport.environments import copy_checkout
from devsupport.workspace import domains, new_domain

REPO = Path(__file__).resolve().parent.parent
ROOTS = {"sales": ("stg_shop__orders", "order_id"), "inventory": ("stg_erp__stock_movements", "movement_id")}


def _model(domain: str, index: int, upstream: str | None) -> str:
    if index == 0:
        if domain in ROOTS:
            root, key = ROOTS[domain]
            return f"select {key} as id from {{{{ ref('{root}') }}}}\n"
        return f"select id from {{{{ ref('{upstream}') }}}}\n"
    parents = sorted({f"gen_{domain}_{index - 1:04d}", f"gen_{domain}_{index // 2:04d}"})
    first, *rest = parents
    joins = "".join(f"\njoin {{{{ ref('{p}') }}}} as p{i} using (id)" for i, p in enumerate(rest))
    return f"select id from {{{{ ref('{first}') }}}}{joins}\n"


def _properties(domain: str, count: int) -> str:
    entries = "".join(
        f"  - name: gen_{domain}_{i:04d}\n    description: Generated model {i} of {domain}.\n"
        + ("    access: public\n" if i == count - 1 else "")
        + "    columns:\n      - name: id\n        data_tests: [not_null, unique]\n"
        for i in range(count))
    return f"version: 2\n\nmodels:\n{entries}"


def pythonpath(root: Path) -> str:
    """The created domains' packages, importable from their folders."""
    return os.pathsep.join(str(root / "locations" / name / "src") for name in domains(root) if name not in ROOTS)


def make_organisation(root: Path, domain_count: int, models: int) -> Path:
    root.mkdir(parents=True)
    copy_checkout(root, REPO)
    (root / ".venv").symlink_to(REPO / ".venv")  # each project's .env points at ../../.venv
    created = [f"org_{n:02d}" for n in range(1, domain_count - len(ROOTS) + 1)]
    for name in created:
        new_domain(root, name, lock=False)
    chain = ["sales", *created]
    per_domain = models // len([*ROOTS, *created])
    for domain in [*ROOTS, *created]:
        folder = root / "dbt" / "models" / domain / "generated"
        folder.mkdir(parents=True)
        upstream = None
        if domain in created:
            before = chain[chain.index(domain) - 1]
            upstream = f"gen_{before}_{per_domain - 1:04d}"
        for i in range(per_domain):
            (folder / f"gen_{domain}_{i:04d}.sql").write_text(_model(domain, i, upstream))
        (folder / f"_{domain}__generated.yml").write_text(_properties(domain, per_domain))
    return root


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument("--domains", type=int, default=10)
    parser.add_argument("--models", type=int, default=5000)
    args = parser.parse_args()
    print(make_organisation(args.destination, args.domains, args.models))


if __name__ == "__main__":
    main()
