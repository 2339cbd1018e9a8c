"""The example's own tests (the `example` tier): the sales and inventory domains over the simulated
shop and ERP, and what their data must add up to. They go with the example (`python3 tasks.py
remove-example`); the platform's own tests run on its test project (tests/fixtures/subscriptions).
"""

import pytest
from support import REPO


@pytest.fixture(scope="session")
def example_catalogue():
    """The source tables the example's dbt project declares (shop and erp)."""
    from shared_ingest.catalogue import load_catalogue

    return load_catalogue(REPO / "dbt")
