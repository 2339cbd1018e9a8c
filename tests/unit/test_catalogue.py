"""The source tables, declared once in the dbt sources YAML (shared_ingest.catalogue): what ingest
reads of a declaration, and the one error that names every file, table and field at fault."""

from pathlib import Path

import pytest

from shared_ingest.catalogue import COLUMN_TYPES, CatalogueError, load_catalogue, warehouse_types

SOURCES = """\
sources:
  - name: billing
    schema: raw_billing
    config:
      loaded_at_field: _loaded_at
    tables:
      - name: accounts
        config:
          meta:
            ingest: {history: state, primary_key: account_id}
        columns:
          - {name: account_id, data_type: bigint}
          - {name: is_active, data_type: boolean}
          - {name: balance, data_type: "numeric(38, 10)"}
      - name: invoice_lines
        config:
          event_time: _export_date
          meta:
            ingest: {history: events, primary_key: [invoice_id, line_number], event_time_column: issued_at}
        columns:
          - {name: invoice_id, data_type: bigint}
          - {name: line_number, data_type: INTEGER}
          - {name: issued_at, data_type: timestamp}
          - {name: amount, data_type: "decimal(12,2)"}
  - name: crm
    loader: fivetran
    tables:
      - name: contacts
        loaded_at_field: _fivetran_synced
"""


def project(tmp_path: Path, *yaml_files: str, model_paths: str = "models") -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "dbt_project.yml").write_text(f"name: x\nmodel-paths: [{model_paths}]\n")
    for number, text in enumerate(yaml_files):
        folder = tmp_path / model_paths / f"domain{number}"
        folder.mkdir(parents=True)
        (folder / "_sources.yml").write_text(text)
    return tmp_path


def test_a_declaration_gives_columns_types_keys_history_and_schema(tmp_path):
    catalogue = load_catalogue(project(tmp_path, SOURCES))
    accounts, lines = catalogue.get("billing", "accounts"), catalogue.get("billing", "invoice_lines")
    assert accounts.columns == {"account_id": "BIGINT", "is_active": "BOOLEAN", "balance": "DECIMAL(38,10)"}
    assert accounts.bigquery_columns == {"account_id": "INT64", "is_active": "BOOL", "balance": "BIGNUMERIC"}
    assert (accounts.primary_key, accounts.history, accounts.schema) == (("account_id",), "state", "raw_billing")
    assert lines.primary_key == ("invoice_id", "line_number")
    assert (lines.history, lines.event_time_column) == ("events", "issued_at")
    assert lines.bigquery_columns["amount"] == "NUMERIC"
    assert lines.declared_in == "models/domain0/_sources.yml"
    [contacts] = catalogue.observed
    assert (contacts.qualified_name, contacts.loader, contacts.loaded_at_field) == ("crm.contacts", "fivetran", "_fivetran_synced")
    assert contacts.schema == "crm"  # dbt's default: the source's name


@pytest.mark.parametrize("data_type", [*COLUMN_TYPES, "decimal(18,2)", "numeric(38,0)", "DECIMAL(10, 4)"])
def test_every_type_the_catalogue_accepts_has_a_duckdb_and_a_bigquery_type(data_type):
    duckdb_type, bigquery_type = warehouse_types(data_type)
    assert bigquery_type in {"INT64", "STRING", "BOOL", "DATE", "TIMESTAMP", "FLOAT64", "NUMERIC", "BIGNUMERIC"}
    assert duckdb_type.split("(")[0] in {"BIGINT", "INTEGER", "VARCHAR", "BOOLEAN", "DATE", "TIMESTAMP", "DOUBLE", "DECIMAL"}


@pytest.mark.parametrize("data_type", ["money", "decimal(40,2)", "decimal(2,4)", "array<int>"])
def test_a_type_no_warehouse_loads_is_refused(data_type):
    assert warehouse_types(data_type) is None


def test_an_incomplete_declaration_names_each_file_table_and_field(tmp_path):
    bad = """\
sources:
  - name: shop
    config: {loaded_at_field: _loaded_at}
    tables:
      - name: orders
        config:
          meta: {ingest: {history: events, primary_key: [order_id, line]}}
        columns:
          - {name: order_id, data_type: bigint}
          - {name: placed, data_type: money}
          - {name: note}
      - name: customers
        columns:
          - {name: customer_id, data_type: bigint}
"""
    with pytest.raises(CatalogueError) as error:
        load_catalogue(project(tmp_path, SOURCES, bad))
    message = str(error.value)
    where = "models/domain1/_sources.yml: source shop, table"
    assert f"{where} orders, column placed: data_type 'money' is not one the platform loads" in message
    assert f"{where} orders, column note: no data_type" in message
    assert f"{where} orders: primary key column line is not a declared column" in message
    assert f"{where} orders: an events table needs config.event_time: _export_date" in message
    assert f"{where} customers: no config.meta.ingest" in message
    assert "billing" not in message  # the good file is not blamed


def test_an_observed_source_needs_the_column_its_loader_stamps(tmp_path):
    bad = "sources:\n  - name: crm\n    loader: fivetran\n    tables:\n      - name: contacts\n"
    with pytest.raises(CatalogueError, match="source crm, table contacts: loaded by fivetran, so it needs loaded_at_field"):
        load_catalogue(project(tmp_path, bad))


def test_a_source_the_platform_loads_is_stamped_with_its_load_time(tmp_path):
    bad = SOURCES.replace("loaded_at_field: _loaded_at", "loaded_at_field: updated_at")
    with pytest.raises(CatalogueError, match="loaded_at_field must be _loaded_at"):
        load_catalogue(project(tmp_path, bad))


def test_sources_are_read_from_the_projects_model_paths_only(tmp_path):
    root = project(tmp_path, SOURCES, model_paths="transform")
    (tmp_path / "target").mkdir()
    (tmp_path / "target" / "stale.yml").write_text(SOURCES.replace("billing", "stale"))
    catalogue = load_catalogue(root)
    assert {t.source for t in catalogue.loaded} == {"billing"}
    assert load_catalogue(project(tmp_path / "empty")).loaded == ()


def test_an_edited_declaration_is_read_again(tmp_path):
    root = project(tmp_path, SOURCES)
    assert load_catalogue(root).get("billing", "accounts").history == "state"
    path = root / "models" / "domain0" / "_sources.yml"
    path.write_text(path.read_text().replace("{name: balance, data_type: \"numeric(38, 10)\"}",
                                             "{name: balance, data_type: double}"))
    assert load_catalogue(root).get("billing", "accounts").columns["balance"] == "DOUBLE"
