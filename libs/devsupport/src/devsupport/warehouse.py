"""Reading the DuckDB warehouse, and the one checksum of a relation's rows."""

from pathlib import Path

import duckdb

# Row count and a hash of every row, in an order that does not depend on how they were written.
ROW_CHECKSUM = "count(*), md5(coalesce(string_agg(t::varchar, '|' order by t::varchar), ''))"


def query(database: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def scalar(database: Path, sql: str):
    return query(database, sql)[0][0]


def checksum(database: Path, relation: str, where: str = "true", exclude: tuple[str, ...] = ()) -> tuple[int, str]:
    """Row count and content hash of ``relation``'s rows that match ``where``, without the
    ``exclude``d columns (a raw table's load time: it is when, not what)."""
    columns = f"* exclude ({', '.join(exclude)})" if exclude else "*"
    return query(database, f"select {ROW_CHECKSUM} from (select {columns} from {relation} where {where}) t")[0]


def checksums_by(database: Path, relation: str, column: str) -> list[tuple]:
    """``(value, row count, hash)`` for each value of ``column`` in ``relation``, in order."""
    return query(database, f"select {column} as value, {ROW_CHECKSUM} from {relation} t group by value order by value")
