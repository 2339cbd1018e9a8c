"""ingest: the shared_ingest asset vs DuckDB's native read_csv into a table (and vs dlt), time and
peak memory, each in a fresh process, at --scale and at a tenth of it (memory should stay flat as
the rows grow tenfold)."""

from .common import WORK, bench_env, day_key, landing_for, measure, median, native_load, order_lines, remove_database, script


def bench_ingest(scale: float, repeat: int, with_dlt: bool) -> dict:
    """Day 1's ``shop.order_items`` at ``scale`` and at a tenth of it, each load into a fresh
    warehouse: native read_csv into a table vs the ingest asset's partition load (vs dlt)."""
    figures = {}
    for at in (scale / 10, scale):
        landing = landing_for(at)
        db = WORK / f"ingest-{at:g}.duckdb"
        env = bench_env(landing, db)
        contenders = {"native read_csv": native_load(landing, db, tables=["shop.order_items"]),
                      "ingest asset": script("asset_load", "--landing", landing, "--db", db, "--day", day_key(1))}
        if with_dlt and at < scale:  # dlt is measured at the small scale only: it is not the ingest path
            contenders["dlt (arrow)"] = script("dlt_load", "--landing", landing, "--db", db, "--pipelines", WORK / "dlt")
        samples = {name: [] for name in contenders}
        for _ in range(repeat):
            for name, command in contenders.items():  # interleaved, so drift hits every contender alike
                remove_database(db)
                samples[name].append(measure(command, env))
        figures[f"{order_lines(landing):,} rows"] = {
            name: {"seconds": median([s for s, _ in runs]), "peak_rss_mb": median([m for _, m in runs])}
            for name, runs in samples.items()
        }
        remove_database(db)
    return figures


def report(results: dict) -> None:
    for rows, contenders in results.get("ingest", {}).items():
        native = contenders["native read_csv"]
        print(f"\ningest shop.order_items, {rows:<16} seconds   peak RSS MB   throughput vs native")
        for name, r in contenders.items():
            print(f"  {name:<32} {r['seconds']:8.2f}   {r['peak_rss_mb']:11.0f}   {native['seconds'] / r['seconds']:6.2f}x")
