"""The README describes the tree that exists: every repo path it names is there."""

import re

from support import REPO

TOP = ("dbt/", "libs/", "locations/", "tests/", "deploy/", "bench/", ".ci/")


def named_paths(text: str) -> set[str]:
    tokens = set(re.findall(r"`([^`\s]+)`", text))
    layout = text.split("## Layout", 1)[1].split("```", 2)[1]
    tokens |= set(re.findall(r"^([\w./-]+/[\w./-]*)", layout, re.M))
    return {t.rstrip("/,") for t in tokens if t.startswith(TOP) and "<" not in t and "*" not in t and "{" not in t}


def test_every_path_the_readme_names_exists():
    paths = named_paths((REPO / "README.md").read_text())
    assert len(paths) > 10
    missing = sorted(p for p in paths if not (REPO / p).exists())
    assert not missing, f"README names paths that do not exist: {missing}"
