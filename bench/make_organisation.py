"""An organisation's workspace, for measuring the platform at its size (not committed).

    uv run python bench/make_organisation.py bench/.work/organisation --domains 10 --models 5000

A copy of this checkout (``devsupport.environments.copy_checkout``) whose example domains stay, and
``--domains`` minus two more created with ``new-domain`` (its functions, without the lock: their
packages run from their folders, ``pythonpath``). ``--models`` generated models are split evenly
between all of them, under ``models/<domain>/generated/``; each reads one or two earlier models of
its domain, with a not_null and a unique test. The first generated model of each new domain reads
the last one of the domain before it (public), so the domains read each other in a chain: sales,
org_01, org_02, ... each three deep and more. They are tables, as a built domain's models mostly
are: as views, each would expand its whole ancestry (model k joins k-1 and k/2), and one domain's
build of two days took more than 11 minutes, most of it DuckDB planning nested views.
"""

import argparse
import os
from pathlib import Path

from make_large_project import ROOTS, model_sql, model_yml

from devsupport.environments import copy_checkout
from devsupport.workspace import domains, new_domain

REPO = Path(__file__).resolve().parent.parent
TABLE = "{{ config(materialized='table') }}\n"


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
            (folder / f"gen_{domain}_{i:04d}.sql").write_text(TABLE + model_sql(domain, i, upstream))
        (folder / f"_{domain}__generated.yml").write_text(model_yml(domain, per_domain, public_last=True))
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
