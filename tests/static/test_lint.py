"""The tree is lint-clean by the rules in pyproject.toml's [tool.ruff] (pyflakes, pycodestyle,
import order, bugbear, pyupgrade), so the test command fails on an unused import or a bug
pattern as it does on a failing test."""

import subprocess
import sys
from pathlib import Path

from support import REPO


def test_ruff_finds_nothing():
    ruff = Path(sys.executable).parent / "ruff"
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
