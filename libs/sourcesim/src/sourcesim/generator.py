"""Deterministic source-system data: the shop and the ERP, day by day.

Same seed, scale and day, same files. Day 1 is the initial state; every later day some
customers change tier or city, some products change price, new customers sign up, and the
day's orders, payments and stock movements are exported. Arrays are built with numpy and
written by DuckDB's CSV writer, so ten million order lines take seconds, not minutes.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

import duckdb
import fsspec
import numpy as np
import pyarrow as pa

from dataplatform.landing import day_file, latest_day
from sourcesim.days import day_date, day_number

log = logging.getLogger(__name__)

TIERS = ["bronze", "silver", "gold", "platinum"]
CITIES = [
    ("Berlin", "DE"), ("Hamburg", "DE"), ("Munich", "DE"), ("Paris", "FR"), ("Lyon", "FR"),
    ("Madrid", "ES"), ("Lisbon", "PT"), ("Rome", "IT"), ("Vienna", "AT"), ("Amsterdam", "NL"),
]
CATEGORIES = ["apparel", "electronics", "garden", "home", "toys"]
STATUSES = ["completed", "cancelled", "returned"]
CHANNELS = ["web", "app", "store"]
METHODS = ["card", "paypal", "bank_transfer", "gift_card"]
SECONDS_PER_DAY = 86_400


@dataclass(frozen=True)
class SimulatedTable:
    """A table the simulated systems export (declared for ingest in the example's dbt sources YAML)."""

    source: str
    name: str


# What the simulated shop and ERP export each day, in the order they are written.
SIMULATED_TABLES = tuple(SimulatedTable(source, name) for source, names in (
    ("shop", ("customers", "orders", "order_items", "payments")),
    ("erp", ("products", "suppliers", "warehouses", "stock_movements")),
) for name in names)


@dataclass(frozen=True)
class Volume:
    """Row counts for a scale factor; scale 1 is about 9,000 order lines a day."""

    customers: int
    new_customers_per_day: int
    products: int
    suppliers: int
    warehouses: int
    orders_per_day: int

    @classmethod
    def for_scale(cls, scale: float) -> Volume:
        if scale <= 0:
            raise ValueError(f"scale must be positive, got {scale}")
        return cls(
            customers=max(50, int(2_000 * scale)),
            new_customers_per_day=max(1, int(20 * scale)),
            products=max(20, int(300 * scale**0.5)),
            suppliers=max(5, int(20 * scale**0.25)),
            warehouses=4,
            orders_per_day=max(10, int(3_000 * scale)),
        )

    def customers_on(self, day: int) -> int:
        return self.customers + (day - 1) * self.new_customers_per_day


def _rng(seed: int, day: int, stream: str) -> np.random.Generator:
    """One independent random stream per (seed, day, purpose): days can be made in any order."""
    return np.random.default_rng([seed, day, sum(ord(c) * 31**i for i, c in enumerate(stream)) % 2**32])


def _day_start(day: int) -> np.datetime64:
    return np.datetime64(day_date(day).isoformat(), "s")


def _times(day: int, seconds: np.ndarray) -> np.ndarray:
    return _day_start(day) + seconds.astype("timedelta64[s]")


def customers_state(seed: int, volume: Volume, day: int) -> dict[str, np.ndarray]:
    """Every customer as of ``day``: initial ones, sign-ups so far, and all changes applied."""
    rng = _rng(seed, 0, "customers")
    n = volume.customers
    tier = rng.choice(len(TIERS), size=n, p=[0.6, 0.25, 0.1, 0.05])
    city = rng.integers(0, len(CITIES), size=n)
    signup = np.datetime64(day_date(1).isoformat(), "D") - rng.integers(1, 730, size=n).astype("timedelta64[D]")
    updated = signup.astype("datetime64[s]")
    tiers, cities, signups, updateds = [tier], [city], [signup], [updated]
    for d in range(2, day + 1):
        rng = _rng(seed, d, "new_customers")
        k = volume.new_customers_per_day
        tiers.append(np.zeros(k, dtype=tier.dtype))
        cities.append(rng.integers(0, len(CITIES), size=k))
        signups.append(np.full(k, np.datetime64(day_date(d).isoformat(), "D")))
        updateds.append(_times(d, rng.integers(0, SECONDS_PER_DAY, size=k)))
    tier, city = np.concatenate(tiers), np.concatenate(cities)
    signup, updated = np.concatenate(signups), np.concatenate(updateds)
    for d in range(2, day + 1):
        rng = _rng(seed, d, "customer_changes")
        existing = volume.customers_on(d - 1)
        changed = np.flatnonzero(rng.random(existing) < 0.02)
        moves = rng.random(changed.size) < 0.5
        tier[changed[~moves]] = np.minimum(tier[changed[~moves]] + 1, len(TIERS) - 1)
        city[changed[moves]] = (city[changed[moves]] + rng.integers(1, len(CITIES), size=moves.sum())) % len(CITIES)
        updated[changed] = _times(d, rng.integers(0, SECONDS_PER_DAY, size=changed.size))
    return {
        "customer_id": np.arange(1, tier.size + 1),
        "tier": tier,
        "city": city,
        "signup_date": signup,
        "updated_at": updated,
    }


def products_state(seed: int, volume: Volume, day: int) -> dict[str, np.ndarray]:
    """Every product as of ``day``, prices in cents, with all price changes applied."""
    rng = _rng(seed, 0, "products")
    n = volume.products
    cost = rng.integers(500, 20_000, size=n)
    price = (cost * rng.uniform(1.2, 2.0, size=n)).astype(np.int64)
    updated = np.full(n, _day_start(1) - np.timedelta64(1, "D"))
    for d in range(2, day + 1):
        rng = _rng(seed, d, "price_changes")
        changed = np.flatnonzero(rng.random(n) < 0.03)
        price[changed] = np.maximum(cost[changed] + 1, (price[changed] * rng.uniform(0.9, 1.15, size=changed.size)).astype(np.int64))
        updated[changed] = _times(d, rng.integers(0, SECONDS_PER_DAY, size=changed.size))
    return {
        "product_id": np.arange(1, n + 1),
        "category": rng_categories(seed, n),
        "supplier_id": _rng(seed, 0, "product_suppliers").integers(1, volume.suppliers + 1, size=n),
        "unit_cost": cost,
        "list_price": price,
        "updated_at": updated,
    }


def rng_categories(seed: int, n: int) -> np.ndarray:
    return _rng(seed, 0, "product_categories").integers(0, len(CATEGORIES), size=n)


def orders_of_day(seed: int, volume: Volume, day: int, list_price: np.ndarray) -> dict[str, dict[str, np.ndarray]]:
    """The day's orders, their lines (at the day's list price) and their payments."""
    rng = _rng(seed, day, "orders")
    n = int(volume.orders_per_day * rng.uniform(0.9, 1.1))
    order_id = (day - 1) * (volume.orders_per_day * 2) + np.arange(1, n + 1)
    ordered = rng.integers(0, SECONDS_PER_DAY - 7_200, size=n)
    status = rng.choice(len(STATUSES), size=n, p=[0.85, 0.08, 0.07])
    lines = rng.integers(1, 6, size=n)
    total = int(lines.sum())
    line_order = np.repeat(np.arange(n), lines)
    line_no = np.arange(total) - np.repeat(np.cumsum(lines) - lines, lines) + 1
    product_id = rng.integers(1, volume.products + 1, size=total)
    quantity = rng.integers(1, 5, size=total)
    unit_price = list_price[product_id - 1]
    amount = np.bincount(line_order, weights=quantity * unit_price, minlength=n).astype(np.int64)
    paid = status != STATUSES.index("cancelled")
    return {
        "orders": {
            "order_id": order_id,
            "customer_id": rng.integers(1, volume.customers_on(day) + 1, size=n),
            "ordered_at": _times(day, ordered),
            "status": status,
            "channel": rng.choice(len(CHANNELS), size=n, p=[0.6, 0.3, 0.1]),
        },
        "order_items": {
            "order_item_id": order_id[line_order] * 10 + line_no,
            "order_id": order_id[line_order],
            "product_id": product_id,
            "quantity": quantity,
            "unit_price": unit_price,
        },
        "payments": {
            "payment_id": order_id[paid],
            "order_id": order_id[paid],
            "method": rng.choice(len(METHODS), size=int(paid.sum()), p=[0.55, 0.25, 0.15, 0.05]),
            "amount": amount[paid],
            # 10 s to an hour after the order, but never after the day's last second: day k's
            # export holds day k's events only (ingest checks it). Drawn here, in stream order.
            "paid_at": _times(day, np.minimum(ordered[paid] + rng.integers(10, 3_600, size=int(paid.sum())),
                                              SECONDS_PER_DAY - 1)),
        },
        "_shipped": {"product_id": product_id[paid[line_order]], "quantity": quantity[paid[line_order]]},
    }


def stock_movements_of_day(seed: int, volume: Volume, day: int, shipped: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Receipts (the opening stock on day 1), the day's shipments of sold units, and adjustments."""
    rng = _rng(seed, day, "stock")
    pairs = volume.products * volume.warehouses
    pair_product = np.repeat(np.arange(1, volume.products + 1), volume.warehouses)
    pair_warehouse = np.tile(np.arange(1, volume.warehouses + 1), volume.products)
    received = np.ones(pairs, dtype=bool) if day == 1 else rng.random(pairs) < 0.15
    receipt_qty = rng.integers(100, 500, size=int(received.sum())) * (8 if day == 1 else 1)
    sold = np.bincount(shipped["product_id"], weights=shipped["quantity"], minlength=volume.products + 1)
    ship_product = np.flatnonzero(sold)
    adjusted = np.flatnonzero(rng.random(pairs) < 0.005)
    product = np.concatenate([pair_product[received], ship_product, pair_product[adjusted]])
    warehouse = np.concatenate([
        pair_warehouse[received],
        rng.integers(1, volume.warehouses + 1, size=ship_product.size),
        pair_warehouse[adjusted],
    ])
    kind = np.concatenate([
        np.zeros(int(received.sum()), dtype=np.int64),
        np.ones(ship_product.size, dtype=np.int64),
        np.full(adjusted.size, 2),
    ])
    quantity = np.concatenate([
        receipt_qty, -sold[ship_product].astype(np.int64), rng.integers(-5, 3, size=adjusted.size)
    ])
    return {
        "movement_id": day * 1_000_000_000 + np.arange(1, product.size + 1),
        "product_id": product,
        "warehouse_id": warehouse,
        "movement_type": kind,
        "quantity": quantity,
        "moved_at": _times(day, rng.integers(0, SECONDS_PER_DAY, size=product.size)),
    }


def _labels(values: list[str]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


# How each table's numeric arrays become its exported columns (DuckDB SQL over the arrays).
EXPORT_SQL = {
    "customers": f"""
        select customer_id, 'Customer ' || customer_id as full_name,
               'customer' || customer_id || '@example.com' as email,
               {_labels(TIERS)}[tier + 1] as tier,
               {_labels([c for c, _ in CITIES])}[city + 1] as city,
               {_labels([k for _, k in CITIES])}[city + 1] as country,
               signup_date, updated_at
        from arrays""",
    "orders": f"""
        select order_id, customer_id, ordered_at, {_labels(STATUSES)}[status + 1] as status,
               {_labels(CHANNELS)}[channel + 1] as channel
        from arrays""",
    "order_items": """
        select order_item_id, order_id, product_id, quantity,
               cast(unit_price as decimal(18, 0)) / 100 as unit_price
        from arrays""",
    "payments": f"""
        select payment_id, order_id, {_labels(METHODS)}[method + 1] as method,
               cast(amount as decimal(18, 0)) / 100 as amount, paid_at
        from arrays""",
    "products": f"""
        select product_id, 'SKU-' || lpad(cast(product_id as varchar), 7, '0') as sku,
               'Product ' || product_id as product_name,
               {_labels(CATEGORIES)}[category + 1] as category, supplier_id,
               cast(unit_cost as decimal(18, 0)) / 100 as unit_cost,
               cast(list_price as decimal(18, 0)) / 100 as list_price, updated_at
        from arrays""",
    "suppliers": f"""
        select supplier_id, 'Supplier ' || supplier_id as supplier_name,
               {_labels([k for _, k in CITIES])}[supplier_id % {len(CITIES)} + 1] as country,
               3 + (supplier_id * 7) % 28 as lead_time_days
        from arrays""",
    "warehouses": f"""
        select warehouse_id, 'Warehouse ' || warehouse_id as warehouse_name,
               {_labels([c for c, _ in CITIES])}[warehouse_id % {len(CITIES)} + 1] as city,
               {_labels([k for _, k in CITIES])}[warehouse_id % {len(CITIES)} + 1] as country
        from arrays""",
    "stock_movements": """
        select movement_id, product_id, warehouse_id,
               ['receipt', 'shipment', 'adjustment'][movement_type + 1] as movement_type,
               quantity, moved_at
        from arrays""",
}


def day_tables(seed: int, scale: float, day: int) -> dict[str, dict[str, np.ndarray]]:
    """Every table's export for ``day`` as numeric arrays, keyed by table name."""
    volume = Volume.for_scale(scale)
    products = products_state(seed, volume, day)
    sales = orders_of_day(seed, volume, day, products["list_price"])
    shipped = sales.pop("_shipped")
    return {
        "customers": customers_state(seed, volume, day),
        **sales,
        "products": products,
        "suppliers": {"supplier_id": np.arange(1, volume.suppliers + 1)},
        "warehouses": {"warehouse_id": np.arange(1, volume.warehouses + 1)},
        "stock_movements": stock_movements_of_day(seed, volume, day, shipped),
    }


def generate_day(landing_root: str, day: int, *, scale: float = 1.0, seed: int = 42) -> dict[str, int]:
    """Write every source table's export for ``day``; returns rows written per table."""
    started = time.monotonic()
    con = duckdb.connect()
    con.execute("set preserve_insertion_order = true")
    rows = {}
    for name, arrays in day_tables(seed, scale, day).items():
        table = next(t for t in SIMULATED_TABLES if t.name == name)
        target = day_file(landing_root, table, day_date(day))
        fs, path = fsspec.core.url_to_fs(target)
        fs.makedirs(path.rsplit("/", 1)[0], exist_ok=True)
        local = Path(path) if fs.protocol in ("file", ("file", "local")) else None
        staging = f"{path}.tmp" if local else os.path.join(fsspec.utils.tempfile.gettempdir(), f"{name}.csv")
        con.register("arrays", pa.table(arrays))
        con.execute(f"copy ({EXPORT_SQL[name]}) to '{staging}' (header, delimiter ',')")
        con.unregister("arrays")
        if local:
            os.replace(staging, path)  # a reader never sees half a file
        else:
            fs.put_file(staging, path)
        rows[f"{table.source}.{table.name}"] = len(next(iter(arrays.values())))
    con.close()
    log.info("day %s (%s) exported at scale %s in %.1f s: %s", day, day_date(day), scale, time.monotonic() - started, rows)
    return rows


def next_day(landing_root: str) -> int:
    """The first day not yet exported (1 on an empty landing zone)."""
    landed = [latest_day(landing_root, t) for t in SIMULATED_TABLES]
    return 1 if None in landed else day_number(min(landed)) + 1


def land_days(landing_root: str, days: list[int], *, scale: float = 1.0, seed: int = 42) -> None:
    """Export each of ``days`` that has not landed yet."""
    for day in days:
        if day < next_day(landing_root):
            log.info("day %s has already landed in %s", day, landing_root)
            continue
        generate_day(landing_root, day, scale=scale, seed=seed)


def main(argv: list[str] | None = None) -> None:
    """Command line: ``generate-source-data --landing DIR --day N --scale S``."""
    from dataplatform.settings import resolve_settings

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--landing", default=None, help="landing root (default: the platform's)")
    parser.add_argument("--day", type=int, nargs="+", default=None, help="day(s) to export (default: the next one)")
    parser.add_argument("--scale", type=float, default=1.0, help="1 is about 9,000 order lines a day")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--skip-landed", action="store_true",
                        help="skip the days already exported (`tasks.py up` lands day 1 only on an empty landing zone)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    root = args.landing or resolve_settings().landing_root
    days = args.day or [next_day(root)]
    if args.skip_landed:
        land_days(root, days, scale=args.scale, seed=args.seed)
        return
    for day in days:
        generate_day(root, day, scale=args.scale, seed=args.seed)


__all__ = ["SIMULATED_TABLES", "Volume", "generate_day", "land_days", "next_day", "day_tables"]


if __name__ == "__main__":
    main()
