"""The plain path's load: DuckDB's read_csv of every landed export into a fresh table, stamped as the ingest stamps."""

# The plain path: DuckDB's read_csv of every landed export (the newest for a state table), into
# a fresh table, stamped as the ingest stamps (the dbt sources read _loaded_at and _export_date).

import argparse

import duckdb

from dataplatform.landing import landed_files
from dataplatform.settings import resolve_settings
from shared_ingest.catalogue import load_catalogue
from shared_ingest.loading import loaded_partitions_ddl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--landing", required=True, help="the landing zone's root")
    parser.add_argument("--db", required=True, help="the DuckDB warehouse")
    parser.add_argument("--table", dest="tables", action="append", default=[],
                        help="a table's qualified name, to load it alone (repeatable; none: every table)")
    parser.add_argument("--stamp", default="", help="a column of every row, as `current_timestamp as _loaded_at` "
                                                    "(and, given, an events table's _export_date); none by default")
    args = parser.parse_args()
    landing, tables, stamp = args.landing, args.tables, args.stamp
    with duckdb.connect(args.db) as con:
        for table in load_catalogue(resolve_settings().require_dbt_project()).loaded:
            if tables and table.qualified_name not in tables:
                continue
            files = landed_files(landing, table)
            files = files[-1:] if table.history == "state" else files
            columns = "{" + ", ".join(f"'{c}': '{t}'" for c, t in table.columns.items()) + "}"
            export_date = ("cast(regexp_extract(filename, '([0-9]{4}-[0-9]{2}-[0-9]{2})[.]csv$', 1) as date) as _export_date"
                           if table.history == "events" and stamp else "")
            select = ", ".join(part for part in ["* exclude (filename)", stamp, export_date] if part)
            con.execute(f"create schema if not exists {table.schema}")
            con.execute(f"create or replace table {table.schema}.{table.name} as select {select} "
                        f"from read_csv({files}, header=true, auto_detect=false, columns={columns}, filename=true)")
            if export_date:  # the days loaded, as ingest records them (the `delivered` source test reads them)
                con.execute("create schema if not exists ingest_log")
                con.execute(loaded_partitions_ddl("ingest_log.loaded_partitions"))
                con.execute("delete from ingest_log.loaded_partitions where source_table = ?", [table.qualified_name])
                con.execute(f"insert into ingest_log.loaded_partitions select ?, _export_date, count(*), current_timestamp "
                            f"from {table.schema}.{table.name} group by _export_date", [table.qualified_name])


if __name__ == "__main__":
    main()
