"""The example's page of the docs names paths that exist (the other pages are checked by the
static tier, tests/static/test_docs.py; this one goes with the example)."""

from support import REPO, named_paths


def test_every_path_the_examples_page_names_exists():
    text = (REPO / "docs" / "example.md").read_text()
    missing = sorted(p for p in named_paths(text) if not (REPO / p).exists() and not (REPO / "docs" / p).exists())
    assert len(named_paths(text)) > 3 and not missing, missing
