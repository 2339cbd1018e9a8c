"""A large copy of the dbt project, for measuring code location load at scale (not committed).

    uv run python bench/make_large_project.py bench/.work/large_project --models 2000

Copies dbt/ and adds ``--models`` generated models, split evenly between the domains, under
``models/<domain>/generated/`` (so the folder config makes them the domain's): each reads one
or two earlier models of its domain, as a real DAG does, and has a not_null and a unique test
on its key, which Dagster loads as asset checks.
"""

import argparse
from pathlib import Path

from devsupport.dbt import copy_dbt_project

# A staging model of each domain that the generated models build on.
ROOTS = {"sales": ("stg_shop__orders", "order_id"), "inventory": ("stg_erp__stock_movements", "movement_id")}


def model_sql(domain: str, index: int, upstream: str | None = None) -> str:
    """Generated model ``index`` of ``domain``: the first reads the domain's staging root (or
    ``upstream``, another domain's model), each later one one or two earlier ones."""
    if index == 0:
        if upstream:
            return f"select id from {{{{ ref('{upstream}') }}}}\n"
        root, key = ROOTS[domain]
        return f"select {key} as id from {{{{ ref('{root}') }}}}\n"
    parents = sorted({f"gen_{domain}_{index - 1:04d}", f"gen_{domain}_{index // 2:04d}"})
    first, *rest = parents
    joins = "".join(f"\njoin {{{{ ref('{p}') }}}} as p{i} using (id)" for i, p in enumerate(rest))
    return f"select id from {{{{ ref('{first}') }}}}{joins}\n"


def model_yml(domain: str, count: int, public_last: bool = False) -> str:
    """The generated models' properties: a not_null and a unique test each (and, with
    ``public_last``, the last one public, for another domain to read)."""
    entries = "".join(
        f"  - name: gen_{domain}_{i:04d}\n    description: Generated model {i} of {domain}.\n"
        + ("    access: public\n" if public_last and i == count - 1 else "")
        + "    columns:\n      - name: id\n        data_tests: [not_null, unique]\n"
        for i in range(count)
    )
    return f"version: 2\n\nmodels:\n{entries}"


def make_large_project(destination: Path, models: int) -> Path:
    copy_dbt_project(destination)
    per_domain = models // len(ROOTS)
    for domain in ROOTS:
        folder = destination / "models" / domain / "generated"
        folder.mkdir(parents=True)
        for i in range(per_domain):
            (folder / f"gen_{domain}_{i:04d}.sql").write_text(model_sql(domain, i))
        (folder / f"_{domain}__generated.yml").write_text(model_yml(domain, per_domain))
    return destination


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("destination", type=Path)
    parser.add_argument("--models", type=int, default=2000)
    args = parser.parse_args()
    print(make_large_project(args.destination, args.models))


if __name__ == "__main__":
    main()
