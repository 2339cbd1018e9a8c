"""Patch ``sqlite_engines`` (dataplatform.patches): the embedded instance's SQLite event log opens
its connections from one SQLAlchemy engine per database file, not from a new engine each time.

Dagster 1.13's ``SqliteEventLogStorage._connect(shard)`` builds an engine for every connection it
opens: its dialect initialised again, its compiled statements lost. A run writes each event through
one to four connections (its run's file, then the index of assets and checks): about 400 for a
domain's build of 50 dbt nodes, 0.9 ms of CPU each, taken beside its dbt on a small machine. With
the patch a storage keeps an engine per file it writes (the index and the newest runs'), still with
SQLAlchemy's ``NullPool``: each use opens and closes its own connection, as before, so nothing is
held across a fork or shared between threads. Dagster's PostgreSQL event log (the production
instance's) already builds one such engine per storage. Installed by each location before it
builds its definitions (``dataplatform.location.load_location``): the code server and every run it
starts. Delete it when Dagster reuses its SQLite engines.
"""

import collections
import contextlib

_METHOD = "_connect"
_PARAMETERS = ["self", "shard"]
_USES = ("create_engine", "NullPool", "SQLITE_BUSY_TIMEOUT_SECONDS", "_initdb", "_initialized_dbs", "conn_string_for_shard",
         "_db_lock")
ENGINES_KEPT = 8  # per storage: the index and the runs a process writes at once


def _storage_class(storage_class=None):
    if storage_class is None:
        from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage as storage_class
    return storage_class


def fits(storage_class=None) -> None:
    """``SqliteEventLogStorage._connect(self, shard)`` still makes an engine per connection with
    ``create_engine``, initialising each new file's schema (``storage_class``: a stand-in in tests)."""
    import inspect

    from dataplatform.patches.fit import DoesNotFit, names_called, private_function

    storage = _storage_class(storage_class)
    connect = private_function(storage, _METHOD, _PARAMETERS)
    if missing := [name for name in _USES if name not in names_called(inspect.unwrap(connect).__code__)]:
        raise DoesNotFit(f"{storage.__name__}.{_METHOD} no longer uses {', '.join(missing)}")


def apply(storage_class=None) -> None:
    """Make every SQLite event log of this process reuse its engines (idempotent)."""
    from dagster._core.storage.event_log.sqlite import sqlite_event_log

    storage = _storage_class(storage_class)
    original = getattr(storage, _METHOD)
    if getattr(original, "reuses_engines", False):
        return

    def engine_for(self, shard: str):
        """The storage's engine for ``shard``, built the first time (under the storage's lock)."""
        engines = self.__dict__.setdefault("_platform_engines", collections.OrderedDict())
        engine = engines.get(shard)
        if engine is None:
            engine = engines[shard] = sqlite_event_log.create_engine(
                self.conn_string_for_shard(shard), poolclass=sqlite_event_log.NullPool,
                connect_args={"timeout": sqlite_event_log.SQLITE_BUSY_TIMEOUT_SECONDS})
            while len(engines) > ENGINES_KEPT:
                engines.popitem(last=False)[1].dispose()
        engines.move_to_end(shard)
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str):
        with self._db_lock:
            engine = engine_for(self, shard)
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            with engine.connect() as conn, conn.begin():
                yield conn

    _connect.reuses_engines = True
    _connect.__wrapped__ = original  # what fits() reads
    setattr(storage, _METHOD, _connect)
