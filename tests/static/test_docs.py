"""The documentation matches the tree: the site builds with no warning (a broken link or a missing
page fails), the README stays an introduction, every repository path the README and the pages name
exists, and every dotted name of the platform's packages they, the YAML and the dbt SQL cite
resolves. The example's own page is checked by the example's tier (tests/example)."""

import importlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO, named_paths

PACKAGES = ("dataplatform", "shared_ingest", "devsupport")
EXAMPLE_PAGE = REPO / "docs" / "example.md"


def pages() -> list[Path]:
    return [REPO / "README.md", *sorted(p for p in (REPO / "docs").glob("*.md") if p != EXAMPLE_PAGE)]


def test_the_site_builds_with_no_warning(tmp_path):
    result = subprocess.run([str(Path(sys.executable).parent / "mkdocs"), "build", "--strict", "-d", str(tmp_path / "site")],
                            cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, result.stderr[-4000:]
    assert "WARNING" not in result.stderr, result.stderr[-4000:]


def test_the_readme_is_an_introduction():
    assert len((REPO / "README.md").read_bytes()) <= 12 * 1024


@pytest.mark.parametrize("page", pages(), ids=lambda p: p.name)
def test_every_path_a_page_names_exists(page):
    text = page.read_text()
    base = REPO if page.name == "README.md" else REPO / "docs"
    missing = sorted(p for p in named_paths(text) if not (REPO / p).exists() and not (base / p).exists())
    assert not missing, f"{page.relative_to(REPO)} names paths that do not exist: {missing}"


def cited_names(text: str) -> set[str]:
    """Dotted names of the platform's packages; not an entry point group, which only looks like one."""
    from shared_ingest.dev_sources import GROUP

    return set(re.findall(rf"\b(?:{'|'.join(PACKAGES)})(?:\.[A-Za-z_]\w*)+", text)) - {GROUP}


def resolves(name: str) -> bool:
    """An importable module, or an attribute (a class, a function, a constant) of one."""
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            found = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            if not hasattr(found, attribute):
                return False
            found = getattr(found, attribute)
        return True
    return False


def cited_in() -> dict[Path, set[str]]:
    # The tree as git sees it: tracked files still on disk and new ones not ignored (a copy may have removed the example).
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    in_tree = {REPO / p for p in listed if Path(p).suffix in (".yml", ".yaml", ".sql", ".toml")}
    files = [*pages(), *sorted(path for path in in_tree if path.is_file())]
    return {path: names for path in files if (names := cited_names(path.read_text(errors="replace")))}


def test_every_dotted_name_the_docs_yaml_and_sql_cite_resolves():
    cited = cited_in()
    assert len(cited) > 5
    unresolved = {str(path.relative_to(REPO)): sorted(n for n in names if not resolves(n)) for path, names in cited.items()}
    assert {path: names for path, names in unresolved.items() if names} == {}
