"""The cost store: a folder of Delta Lake tables, many readers, one writer at a time, loads
all-or-nothing (``store.delta`` describes the folder and its commits).

``CostStore(path)`` is the store at ``path`` (``store.location``): a store folder, or a *v1 store*,
the single DuckDB file earlier versions wrote. A v1 store can still be read (every query and
workbook works on it), but not written: ``finops-xl migrate --store PATH`` converts it, in place,
into a store folder (the file is kept beside it as ``<name>.v1``), and every command that would
write to it says so.

Readers never wait and never see half a write: ``reader()`` opens every table at the version the
store's current commit names (``reader(as_of=...)``: at an earlier commit). Writers (``writer``,
``allocation_writer``, ``savings_writer``) hold the store's lock (``.lock`` in the folder; a second
writer waits, saying for whom, and gives up after ``FINOPS_XL_LOCK_TIMEOUT`` seconds) and land as one
store commit; SIGTERM and Ctrl-C stop them with the store unchanged, and what a killed writer left is
removed by the next one. Every OS error is one line naming the path.
"""

from __future__ import annotations

import collections
import contextlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from finops_xl.store import delta
from finops_xl.store.errors import StoreError, StoreNotFoundError, StoreUnreadableError
from finops_xl.store.files import _DAMAGED, _open_failure, _refuse_foreign, connect  # noqa: F401
from finops_xl.store.location import resolve_store_path
from finops_xl.store.sources import sql_literal
from finops_xl.store.tables import (  # noqa: F401  (the store's table layout, as before)
    CUBE_DIMENSIONS, CUBE_MEASURES, CUBE_VERSION, LINEAGE_COLUMNS, MEMORY_LIMIT, MEMORY_LIMIT_ENV,
    SCHEMA_VERSION, charges_columns, cube_insert_sql, cube_select_sql, declare_tables, ensure_schema,
    seed_store_info, slice_totals_sql, table_columns,
)

#: The tables a load writes whole (small: one row per file, slice, note); ``charges`` and
#: ``cost_daily`` are written slice by slice.
LOAD_TABLES = ("manifest", "slices", "slice_currencies", "load_notices", "slice_history",
               "normalizations", "store_info", "kubernetes_allocation")
#: The allocation's tables (``finops_xl.allocation.engine``), replaced by every run.
ALLOCATION_TABLES = ("allocated_charges", "allocation_groups", "allocation_runs")
#: The savings ledger's tables (``finops_xl.optimization.ledger``).
SAVINGS_TABLES = ("opportunities", "opportunity_events")


class CostStore:
    """The cost store at ``path`` (resolved as ``location.resolve_store_path`` says); with ``as_of``
    (a commit number or a time, as ``--as-of`` takes it) the store as it was then: read-only."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *, as_of=None):
        self.path = resolve_store_path(path)
        self.as_of = None if as_of in (None, "") else as_of

    def __repr__(self) -> str:
        return f"CostStore({str(self.path)!r}" + (f", as_of={self.as_of!r})" if self.as_of is not None else ")")

    # ---- what is there --------------------------------------------------------------------------

    @property
    def is_v1(self) -> bool:
        """True when the path is a single-file store of an earlier finops-xl (read-only here)."""
        return self.path.is_file()

    def exists(self) -> bool:
        """True when there is a store with at least one commit (or a v1 store file) at the path."""
        if self.path.is_file():
            return True
        return delta.is_store_folder(self.path) and self.head() is not None

    def head(self, as_of=None) -> delta.StoreCommit | None:
        """The store's current commit (``as_of``: the commit it names); None for a v1 store or a
        store with nothing in it."""
        as_of = self.as_of if as_of is None else as_of
        if self.path.is_file() or not delta.is_store_folder(self.path):
            if as_of is not None:
                self._refuse_as_of()
            return None
        if as_of is not None:
            from finops_xl.store.maintenance import readable

            commit = delta.resolve_as_of(self.path, as_of)
            why = readable(self.path, commit.commit)
            if why:
                raise StoreError(why)
            return commit
        return delta.read_pointer(self.path)

    def head_text(self) -> str:
        """The commit readers see, in words (``store commit 7 (2025-04-02 09:15 UTC, load)``); ''
        for a store without versions."""
        commit = self.head()
        if commit is None:
            return ""
        at = commit.committed_at
        return f"store commit {commit.commit} ({at:%Y-%m-%d %H:%M} UTC, {commit.kind})"

    def history(self) -> list[delta.StoreCommit]:
        """Every commit of the store, oldest first (empty for a v1 store)."""
        if self.path.is_file() or not delta.is_store_folder(self.path):
            return []
        return delta.commits(self.path)

    def has_table(self, table: str) -> bool:
        """True when the store holds ``table`` (e.g. an allocation: ``allocated_charges``)."""
        if self.path.is_file():
            path = {t: self.allocation_path for t in ALLOCATION_TABLES} | {t: self.savings_path for t in SAVINGS_TABLES}
            return path.get(table, self.path).is_file()
        head = self.head() if delta.is_store_folder(self.path) else None
        return head is not None and table in head.tables

    @property
    def allocation_path(self) -> Path:
        """A v1 store's allocation file beside it (``finops.allocation.duckdb``)."""
        return self.path.with_name(f"{self.path.stem}.allocation{self.path.suffix or '.duckdb'}")

    @property
    def savings_path(self) -> Path:
        """A v1 store's savings ledger file beside it (``finops.savings.duckdb``)."""
        return self.path.with_name(f"{self.path.stem}.savings{self.path.suffix or '.duckdb'}")

    def version(self) -> str:
        """Changes whenever a load, an allocation or a ledger change lands; for caches of query
        results."""
        if not self.path.is_file():
            if self.as_of is not None:
                return f"v2-as-of:{self.as_of}"
            try:
                st = (self.path / delta.POINTER).stat()
            except OSError:
                return "missing"
            return f"v2:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
        parts = []
        for p in (self.path, self.allocation_path, self.savings_path):
            try:
                st = p.stat()
            except FileNotFoundError:
                parts.append("missing")
                continue
            parts.append(f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}")
        return "|".join(parts)

    # ---- reading ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def reader(self, as_of=None) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the store as it is now (``as_of``: as it was at that commit,
        a number or a time), with its tables (``charges``, ``cost_daily``, ``slices``, ``manifest``
        ...), its allocation (``allocated_charges``, ``allocation_groups``, ``allocation_runs``) and
        savings ledger where it has them; closed on exit."""
        if self.path.is_file():
            if as_of is not None or self.as_of is not None:
                self._refuse_as_of()
            with self._v1_reader() as con:
                yield con
            return
        self._check_folder(reading=True)
        commit = self.head(as_of)
        if commit is None:
            raise StoreNotFoundError(
                f"no cost store at {self.path}: load data with `finops-xl ingest PATH --store "
                f"{self.path}` (or try `finops-xl demo`)")
        base = _snapshot(self.path, commit)
        con = base.cursor()
        con.execute("SET TimeZone = 'UTC'")
        try:
            yield con
        finally:
            con.close()

    def open_reader(self, tables: tuple[str, ...] | None = None) -> duckdb.DuckDBPyConnection:
        """A connection to the store folder's current commit (or ``as_of``) for a long-lived reader
        that keeps it while the commit is current (the Excel functions' cache); the caller closes it.
        ``tables``: only these (those the store has), for a reader that needs few."""
        self._check_folder(reading=True)
        commit = self.head()
        if commit is None:
            raise StoreNotFoundError(
                f"no cost store at {self.path}: load data with `finops-xl ingest PATH --store "
                f"{self.path}` (or try `finops-xl demo`)")
        con = _snapshot(self.path, commit, tables).cursor()
        con.execute("SET TimeZone = 'UTC'")
        return con

    def _refuse_writing_as_of(self) -> None:
        if self.as_of is not None:
            raise StoreError(f"the cost store {self.path} as of {self.as_of} is a past version: it is read, "
                             "never written (leave out --as-of to change the store)")

    def _refuse_as_of(self) -> None:
        raise StoreError(f"the cost store {self.path} is a single-file store of an earlier finops-xl, which "
                         f"keeps no versions: convert it with `finops-xl migrate --store {self.path}` to "
                         "read it as of an earlier version")

    def _check_folder(self, *, reading: bool) -> None:
        p = self.path
        if not p.exists():
            if reading:
                raise StoreNotFoundError(
                    f"no cost store at {p}: load data with `finops-xl ingest PATH --store {p}` "
                    "(or try `finops-xl demo`)")
            return
        if not p.is_dir():
            raise StoreUnreadableError(f"{p} is not a cost store (neither a store folder nor a store file)")
        if delta.is_store_folder(p):
            return
        if (p / "store_info.json").is_file():
            raise StoreUnreadableError(
                f"{p} is a folder written by the Spark engine of an earlier finops-xl, which this version "
                "does not read: load the exports again into a new store (finops-xl ingest --store NEW)")
        try:
            names = {c.name for c in p.iterdir()}
        except OSError as exc:
            raise StoreUnreadableError(f"the cost store {p} cannot be read: {exc.strerror}") from None
        empty = not names or delta.is_being_made(names)  # (or another writer is making it now)
        if empty and not reading:
            return
        if empty:
            raise StoreNotFoundError(f"no cost store at {p} (the folder is empty): load data with "
                                     f"`finops-xl ingest PATH --store {p}` (or try `finops-xl demo`)")
        raise StoreUnreadableError(
            f"{p} is a folder that is not a finops-xl cost store (it has no {delta.POINTER}); nothing was "
            "changed: give --store a new or empty folder, or a store's folder")

    @contextlib.contextmanager
    def _v1_reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = connect(self.path, read_only=True)
        try:
            if self.allocation_path.is_file():
                _attach_views(con, self.allocation_path, "allocation", ALLOCATION_TABLES)
            if self.savings_path.is_file():
                _attach_views(con, self.savings_path, "savings", SAVINGS_TABLES)
            yield con
        except duckdb.Error as exc:
            if any(w in str(exc) for w in _DAMAGED):
                raise StoreUnreadableError(
                    f"the cost store {self.path} is damaged ({str(exc).splitlines()[0]}): restore it "
                    "from a backup, or load the exports into a new store") from None
            raise
        finally:
            con.close()

    # ---- writing ----------------------------------------------------------------------------------

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A load's connection: the store's small tables as tables, ``charges`` and ``cost_daily``
        empty (the load's new rows go there; each slice they hold replaces the stored one) and the
        stored charges as ``stored_charges``. Lands as one commit when the block ends; raising
        inside it changes nothing."""
        self._refuse_writing_as_of()
        from finops_xl.store.writer import transaction

        with transaction(self, kind="load", writes=LOAD_TABLES, stage=True, ddl=declare_tables,
                         seed=seed_store_info) as con:
            yield con

    @contextlib.contextmanager
    def allocation_writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """An allocation's connection: the allocation's tables as tables (to replace), every other
        table of the store readable; one commit when the block ends."""
        with self._side_writer("allocation", ALLOCATION_TABLES) as con:
            yield con

    @contextlib.contextmanager
    def savings_writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The savings ledger's connection: its tables as tables, every other table readable."""
        with self._side_writer("savings", SAVINGS_TABLES) as con:
            yield con

    @contextlib.contextmanager
    def _side_writer(self, kind: str, tables: tuple[str, ...]) -> Iterator[duckdb.DuckDBPyConnection]:
        """A connection of a store that exists, writing ``tables`` (replaced, not staged) and reading
        every other table; one commit of ``kind`` when the block ends."""
        if not self.exists():
            raise StoreNotFoundError(f"no cost store at {self.path}: load exports first "
                                     "(finops-xl ingest)")
        self._refuse_writing_as_of()
        from finops_xl.store.writer import transaction

        with transaction(self, kind=kind, writes=tables, stage=False) as con:
            yield con


#: One DuckDB database per store commit a process reads (views pinned to that commit's files):
#: readers take a cursor of it, so a query of a new version never waits for the old.
_snapshots: collections.OrderedDict[tuple, duckdb.DuckDBPyConnection] = collections.OrderedDict()
_snapshots_lock = threading.Lock()
_KEEP_SNAPSHOTS = 4


def _snapshot(store: Path, commit: delta.StoreCommit,
              tables: tuple[str, ...] | None = None) -> duckdb.DuckDBPyConnection:
    key = (str(store), commit.commit, commit.committed_at, tables)  # a store made again reuses numbers
    with _snapshots_lock:
        con = _snapshots.get(key)
        if con is not None:
            _snapshots.move_to_end(key)
            return con
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    delta.create_views(con, store, commit, tables, temp=False)
    if tables is None:
        declare_tables(con)  # the tables a store declares but has not written yet, empty
    with _snapshots_lock:
        _snapshots[key] = con
        while len(_snapshots) > _KEEP_SNAPSHOTS:
            _snapshots.popitem(last=False)
    return con


def _attach_views(con: duckdb.DuckDBPyConnection, path: Path, alias: str, tables: tuple[str, ...]) -> None:
    """Attach another database read-only and expose its ``tables`` (those it has) as temp views."""
    # IF NOT EXISTS: connections of one process share the database, and so its attachments
    con.execute(f"ATTACH IF NOT EXISTS {sql_literal(str(path))} AS {alias} (READ_ONLY)")
    present = {t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [alias]).fetchall()}
    for t in tables:
        if t in present:
            con.execute(f"CREATE TEMP VIEW {t} AS SELECT * FROM {alias}.main.{t}")
