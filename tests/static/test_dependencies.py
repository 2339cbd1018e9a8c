"""Each package declares what it imports, and imports what it declares (deptry, on its own
pyproject.toml): a location image built from its declarations alone lacks nothing and carries
nothing extra. Exceptions are listed, with the reason, in each package's [tool.deptry]."""

import subprocess
import sys
from pathlib import Path

import pytest
from support import REPO

# Every package of the workspace's tree, whatever its locations are (a domain added, the example removed).
PACKAGES = sorted(str(p.parent.relative_to(REPO)) for folder in ("libs", "locations") for p in (REPO / folder).glob("*/pyproject.toml"))


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_and_declared_dependencies_agree(package):
    deptry = Path(sys.executable).parent / "deptry"
    result = subprocess.run([str(deptry), "."], cwd=REPO / package, capture_output=True, text=True, timeout=300,
                            env={"NO_COLOR": "1", "PATH": str(Path(sys.executable).parent)})
    assert result.returncode == 0, result.stdout + result.stderr
