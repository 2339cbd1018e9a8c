"""The UI as a newcomer meets it, in a real browser (Debian's headless Chromium, playwright).

What a fresh clone greets with is `python3 tasks.py up` on the repository as shipped, the example
in it. The rest is on the platform's test project (tests/fixtures/subscriptions, `fixture_root`):
a fresh platform follows the clock (its first day is yesterday), the test lands that day's exports
(and the crm, as Fivetran would), so "Materialize all" offers the days that have landed. The
global lineage and the dialog show no error; choosing "All" in the dialog and launching
materializes every asset that can be (the crm is observed, never materialized), with every check
the runs planned evaluated; a mart's page shows its row count. Screenshots go to .screenshots/
(git-ignored), to be looked at.
"""

import re
from datetime import UTC, datetime, timedelta

import pytest
from dagster import AssetKey, DagsterRunStatus
from platform_support import browser_page, open_ui, planned_but_unevaluated_checks, screenshot, start_platform, stop_platform
from support import FIXTURE, REPO, land_fixture_days, scalar, scratch_clone

from dataplatform.partitions import PARTITIONS_START_VARIABLE

# What the UI shows when something failed to load ("Error loading base asset job - Unknown
# error", "Could not find partition", a PythonError's "...Error:").
ERROR_SHOWN = re.compile(r"\berror\b|could not|unknown|failed to", re.IGNORECASE)


def yesterday() -> str:
    return (datetime.now(UTC).date() - timedelta(days=1)).isoformat()


@pytest.fixture
def shipped(tmp_path_factory):
    """`tasks.py up` of the repository as a fresh clone has it (the example's simulated sources in
    it): a copy, so that its manifest is prepared in the copy's dbt/target, not in the checkout's
    that other tests share."""
    root = scratch_clone(tmp_path_factory.mktemp("clone") / "repo")
    (root / ".venv").symlink_to(REPO / ".venv")  # each project's .env points at ../../.venv
    platform = start_platform(tmp_path_factory.mktemp("shipped"), root=root, fixed_dates=False)
    yield platform
    stop_platform(platform)


@pytest.fixture(scope="module")
def platform(fixture_root, tmp_path_factory):
    """The test project's platform, following the clock: its day 1 (yesterday) landed by the test."""
    local = tmp_path_factory.mktemp("ui")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(PARTITIONS_START_VARIABLE, yesterday())  # the calendar the platform will start
        land_fixture_days(local, (1,))
    platform = start_platform(local, root=fixture_root, fixed_dates=False)
    yield platform
    stop_platform(platform)


@pytest.fixture(scope="module")
def page(platform, tmp_path_factory):
    with browser_page(tmp_path_factory.mktemp("chromium")) as page:
        yield page


def shown_errors(text: str) -> list[str]:
    return [line for line in text.splitlines() if ERROR_SHOWN.search(line)]


def test_up_greets_without_warnings_and_starts_the_calendar_yesterday(shipped):
    log = shipped.log.read_text()
    assert "will not be used" not in log  # Dagster's warning about a dagster.yaml beside dg.toml
    assert "the simulated source systems land day(s) 1..1" in log, log[-3000:]
    assert f"the UI will be on {shipped.url}" in log, log[-3000:]
    assert (shipped.local / "partitions_start").read_text().strip() == yesterday()
    assert (shipped.local / "landing" / "shop" / "orders" / f"{yesterday()}.csv").is_file()


def test_the_global_lineage_shows_every_location_and_no_error(platform, page):
    open_ui(page, f"{platform.url}/asset-groups")
    for group in ("raw_billing", "raw_support", "raw_crm", "billing", "care"):
        page.get_by_text(group, exact=True).first.wait_for()
    screenshot(page, "global-lineage")
    assert not shown_errors(page.inner_text("body"))


def test_materialize_all_with_all_partitions_succeeds(platform, page):
    """The dialog offers the days landed (one: yesterday), shows no error; "All" then launches a
    backfill that materializes every asset that can be, in one run per location (ingest, billing,
    care), and every check its runs planned is evaluated."""
    open_ui(page, f"{platform.url}/asset-groups")
    page.get_by_role("button", name="Materialize all").first.click()
    dialog = page.locator("[role=dialog]")
    dialog.get_by_text(re.compile(r"Showing \d+ of \d+ partitions")).wait_for()  # the partitions have loaded
    dialog.get_by_role("button", name="All", exact=True).click()
    assert "Showing 1 of 1 partitions" in dialog.inner_text()
    assert yesterday() in dialog.inner_text()
    screenshot(page, "materialize-all-dialog")
    assert not shown_errors(dialog.inner_text())

    dialog.get_by_role("button", name="Launch backfill").click()
    with platform.instance() as instance:
        page.wait_for_timeout(2000)
        [backfill] = instance.get_backfills()
    backfill, runs = platform.wait_for_backfill(backfill.backfill_id)

    assert backfill.status.value == "COMPLETED_SUCCESS", (backfill.status, backfill.failure_count)
    assert all(r.status == DagsterRunStatus.SUCCESS for r in runs), [(r.job_name, r.status) for r in runs]
    nodes = platform.graphql("{ assetNodes { assetKey { path } isMaterializable } }")["assetNodes"]
    keys = [n["assetKey"]["path"] for n in nodes if n["isMaterializable"]]
    assert [n["assetKey"]["path"] for n in nodes if not n["isMaterializable"]] == [["raw", "crm", "contacts"]]
    with platform.instance() as instance:
        assert not [k for k in keys if instance.get_latest_materialization_event(AssetKey(k)) is None]
        assert planned_but_unevaluated_checks(instance, [r.run_id for r in runs]) == {}
        logs = [record.message or "" for r in runs for record in instance.all_logs(r.run_id)]
        assert not [m for m in logs if "Letting it through" in m or "did not yield or return" in m]
    by_location = sorted(r.remote_job_origin.location_name for r in runs)
    assert by_location == ["billing", "care", "shared_ingest"]
    print(f"day-1 backfill: {len(runs)} runs ({', '.join(f'{by_location.count(n)} {n}' for n in sorted(set(by_location)))})")


def test_a_marts_page_shows_its_row_count(platform, page):
    open_ui(page, f"{platform.url}/assets/billing/accounts")
    page.get_by_text("Row count", exact=True).wait_for()
    overview = page.inner_text("main") if page.locator("main").count() else page.inner_text("body")
    screenshot(page, "mart-page")
    rows = scalar(platform.warehouse, "select count(*) from billing.accounts")
    assert re.search(rf"Row count\s+{rows:,}\b", overview), overview[:2000]


# Metadata dagster-dbt keeps for itself, which the UI hides (HIDDEN_METADATA_ENTRY_LABELS).
HIDDEN_BY_THE_UI = {"dagster_dbt/manifest", "dagster_dbt/dagster_dbt_translator"}


# Every model of the test project: its asset key, its domain's op, its .sql in the dbt project.
MODELS = [(f"{path.parts[1]}/{path.stem}", f"{path.parts[1]}_dbt", path.as_posix())
          for path in sorted(p.relative_to(FIXTURE / "dbt") for p in (FIXTURE / "dbt" / "models").rglob("*.sql"))]


@pytest.mark.parametrize(("key", "op", "sql"), MODELS, ids=[key for key, *_ in MODELS])
def test_an_assets_definition_links_its_sql_names_its_op_and_shows_no_unserializable_row(platform, key, op, sql):
    node = platform.graphql("""query($key: [String!]!) { assetNodeOrError(assetKey: {path: $key}) { ... on AssetNode {
        opNames metadataEntries { label __typename ... on TextMetadataEntry { text }
          ... on CodeReferencesMetadataEntry { codeReferences { ... on LocalFileCodeReference { filePath } } } } } } }""",
                            {"key": key.split("/")})["assetNodeOrError"]
    shown = [e for e in node["metadataEntries"] if e["label"] not in HIDDEN_BY_THE_UI]
    assert not [e["label"] for e in shown if "(unserializable)" in (e.get("text") or "")]
    [references] = [e["codeReferences"] for e in shown if e["__typename"] == "CodeReferencesMetadataEntry"]
    assert [r["filePath"].split("/dbt/", 1)[-1] for r in references] == [sql]
    assert node["opNames"] == [op]  # the op's name in runs, not a copy such as billing_dbt_2
