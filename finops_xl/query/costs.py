"""Cost questions answered from the store: one number, a pivot, the dimensions and their values.

These answer the Excel functions, so they must be fast in a recalculation storm (a workbook of a
thousand cost cells recalculating at once). They read the store's daily cost cube (``cost_daily``:
charges summed by day and dimension, kept in step by every load), held in memory per store version:
the first question after a load reads the cube once; every later one is a query over it. A load
changes the store's version (``CostStore.version``), which drops the cache.

Periods are half-open ``[start, end)`` on the charge's start date (ChargePeriodStart, UTC), as FOCUS
defines periods. Amounts in different billing currencies are never added: a question whose charges
span several currencies is an error that asks for a ``currency`` filter.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import threading
from collections.abc import Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_xl.query.dimensions import (
    DIMENSIONS,
    Dimension,
    UnknownName,
    resolve_dimension,
    resolve_metric,
)
from finops_xl.names import suggest
from finops_xl.query.errors import QueryError
from finops_xl.store.errors import StoreError
from finops_xl.store.store import CUBE_DIMENSIONS, CUBE_MEASURES, CostStore
from finops_xl.store.tables import MONTHLY_CUBE

#: A filter value: one value, or several (any of them matches).
FilterValue = str | Sequence[str]


@dataclasses.dataclass(frozen=True)
class CostTable:
    """A pivot: ``header`` then one row per value of the row dimension.

    Attributes:
      header: the row dimension's name, then one column per value of the column dimension (or the
        metric's name when there is no column dimension).
      rows: each row's dimension value then its amounts (Decimal; None where no charge falls).
      currency: the billing currency of every amount.
    """

    header: tuple[str, ...]
    rows: tuple[tuple, ...]
    currency: str


class CostQueries:
    """Cost questions over one store, cached per store version. Safe to share between threads."""

    def __init__(self, store: CostStore):
        self.store = store
        self._lock = threading.Lock()
        self._version: str | None = None
        self._con: duckdb.DuckDBPyConnection | None = None
        self._tag_keys: frozenset[str] | None = None  # read from the cube when first needed
        self._values: dict[str, tuple[str, ...]] = {}
        self._results: dict[tuple, object] = {}
        self._allocated = False
        self._daily = False  # whether the daily roll-up ``core`` was made for the current cube

    # ---- cache -----------------------------------------------------------------------------------

    def _cube(self) -> duckdb.DuckDBPyConnection:
        """An in-memory connection holding the current cube (reloaded when the store changed)."""
        version = self.store.version()
        if version == self._version and self._con is not None:
            return self._con
        # The version is read before the store is opened, so a load landing in between leaves a
        # newer cube under an older key (reloaded by the next call), never the reverse.
        if self.store.path.is_file():
            con, lines = _v1_cube(self.store)
        else:
            # a store folder: a connection to the store's current commit, kept while it is current;
            # the cube is read where it lies (Parquet), only its tag-free roll-up is held in memory
            con = self.store.open_reader(("cost_daily", MONTHLY_CUBE, "allocated_charges"))
            have = {t for (t,) in con.execute("SELECT table_name FROM information_schema.tables").fetchall()}
            if "cost_daily" not in have:  # a store with no charges yet: an empty cube
                from finops_xl.store.tables import declare_tables

                declare_tables(con)
            con.execute("CREATE OR REPLACE TEMP VIEW cube AS SELECT * FROM cost_daily")
            lines = "allocated_charges" if "allocated_charges" in have else None
        # most questions name no tag and whole months: they read the cube summed over Tags and by
        # month, many times smaller (kept so by every load; the daily roll-up is made when a
        # question needs days)
        if not self.store.path.is_file() and MONTHLY_CUBE in have:
            con.execute(f"CREATE OR REPLACE TEMP TABLE core_month AS SELECT * FROM {MONTHLY_CUBE} ORDER BY ChargeDate")
        else:
            con.execute(_rollup_sql("core_month", "CAST(date_trunc('month', ChargeDate) AS DATE)"))
        self._daily = False
        self._allocated = lines is not None
        if isinstance(lines, str):
            con.execute(f"CREATE OR REPLACE TEMP TABLE alloc AS SELECT month, currency, owner, business_unit, "
                        f"product, cost_center, kind, method, pool_id, BilledCost, EffectiveCost "
                        f"FROM {lines} ORDER BY month")
        elif lines is not None:  # the store's current allocation beside the cube, as ``alloc``
            con.register("alloc_arrow", lines)
            con.execute("CREATE TABLE alloc AS SELECT * FROM alloc_arrow ORDER BY month")
            con.unregister("alloc_arrow")
        if self._con is not None:
            self._con.close()
        self._con, self._version = con, version
        self._tag_keys = None
        self._values, self._results = {}, {}
        return con

    def _cached(self, key: tuple, compute):
        with self._lock:
            con = self._cube()
            full_key = (self._version, *key)
            if full_key not in self._results:
                self._results[full_key] = compute(con)
            return self._results[full_key]

    # ---- questions -------------------------------------------------------------------------------

    def cost(
        self,
        start: dt.date,
        end: dt.date,
        filters: Mapping[str, FilterValue] | None = None,
        metric: str | None = None,
    ) -> Decimal:
        """Σ ``metric`` (EffectiveCost by default) over charges starting in ``[start, end)`` that
        match every filter (dimension → value or values). Exact Decimal.

        Raises QueryError for an empty or inverted period, an unknown dimension, metric or filter
        value, or charges in more than one billing currency.
        """
        _check_period(start, end)
        measure = _metric(metric)
        norm = _freeze(filters)

        def compute(con):
            where, params, view = self._where(con, start, end, norm, measure)
            rows = con.execute(
                f"SELECT {view.currency}, sum({measure}) FROM {view.table} WHERE {where} GROUP BY 1",
                params,
            ).fetchall()
            _one_currency(rows)
            return Decimal(rows[0][1]) if rows and rows[0][1] is not None else Decimal(0)

        return self._cached(("cost", start, end, norm, measure), compute)

    def cost_table(
        self,
        start: dt.date,
        end: dt.date,
        rows: str,
        columns: str | None = None,
        metric: str | None = None,
        filters: Mapping[str, FilterValue] | None = None,
    ) -> CostTable:
        """A pivot of ``metric`` over ``[start, end)``: one row per value of ``rows``, one column per
        value of ``columns`` (e.g. rows = sub_account, columns = month), sorted by value."""
        _check_period(start, end)
        measure = _metric(metric)
        norm = _freeze(filters)

        def compute(con):
            row_dim = self._dimension(rows)
            col_dim = self._dimension(columns) if columns else None
            where, params, view = self._where(con, start, end, norm, measure, row_dim, col_dim)
            col_sql = view.sql(col_dim) if col_dim else "NULL"
            data = con.execute(
                f"SELECT {view.currency}, CAST({view.sql(row_dim)} AS VARCHAR) AS r, "
                f"CAST({col_sql} AS VARCHAR) AS c, sum({measure}) "
                f"FROM {view.table} WHERE {where} "
                f"GROUP BY ALL ORDER BY r NULLS LAST, c NULLS LAST",
                params,
            ).fetchall()
            _one_currency([(cur, None) for cur, *_ in data])
            currency = data[0][0] if data else ""
            col_values = sorted({c for _, _, c, _ in data}, key=_none_last) if col_dim else [None]
            cells: dict[tuple, Decimal] = {(r, c): Decimal(v) for _, r, c, v in data}
            row_values = sorted({r for _, r, _, _ in data}, key=_none_last)
            header = (row_dim.name, *((c if c is not None else "(none)") for c in col_values)) \
                if col_dim else (row_dim.name, measure)
            body = tuple(
                (r if r is not None else "(none)", *(cells.get((r, c)) for c in col_values))
                for r in row_values
            )
            return CostTable(header, body, currency)

        return self._cached(("table", start, end, rows, columns, norm, measure), compute)

    def dimensions(self) -> tuple[tuple[str, str], ...]:
        """(name, description) of every dimension: the standard ones, then ``tag:KEY`` per tag key."""
        with self._lock:
            self._cube()
            tags = tuple((f"tag:{k}", f"tag {k!r}") for k in sorted(self._keys()))
        return tuple((d.name, d.description) for d in DIMENSIONS) + tags

    def values(self, dimension: str) -> tuple[str, ...]:
        """The distinct values of ``dimension`` in the store, sorted (for drop-down lists)."""
        with self._lock:
            con = self._cube()
            dim = self._dimension(dimension)
            return self._dimension_values(con, dim)

    def has_provider(self, dimension: str) -> bool:
        """Whether cost broken down by ``dimension`` can also be split by provider (allocated
        dimensions — owner, pool, … — come from the allocation, which is by owner and month)."""
        with self._lock:
            self._cube()
            dim = self._dimension(dimension)
        return not dim.allocated

    # ---- helpers ---------------------------------------------------------------------------------

    def _core(self, dims, start: dt.date | None = None, end: dt.date | None = None) -> _View:
        """The tag-free roll-up answering a question over ``dims`` and ``[start, end)``: by month
        when the period is whole months and no dimension is the day, else by day (made once)."""
        monthly = all(d is None or d.day == 1 for d in (start, end))
        if monthly and not any(d is not None and d.name == "date" for d in dims):
            return CORE_MONTH
        if not self._daily:
            assert self._con is not None
            self._con.execute(_rollup_sql("core", "ChargeDate"))
            self._daily = True
        return CORE

    def _keys(self) -> frozenset[str]:
        """The tag keys of the current cube (a scan of its Tags, made once per store version, only
        when a question needs them: most name no tag)."""
        if self._tag_keys is None:
            assert self._con is not None
            keys = self._con.execute(
                "SELECT DISTINCT unnest(json_keys(Tags)) FROM cube WHERE Tags IS NOT NULL"
            ).fetchall()
            self._tag_keys = frozenset(k for (k,) in keys)
        return self._tag_keys

    def _dimension(self, name: str) -> Dimension:
        try:
            return resolve_dimension(name)  # a standard dimension needs no tag keys
        except UnknownName:
            pass
        try:
            return resolve_dimension(name, self._keys())
        except UnknownName as exc:
            raise QueryError(str(exc)) from None

    def _dimension_values(self, con, dim: Dimension) -> tuple[str, ...]:
        if dim.name not in self._values:
            view = self._view([dim])
            if view is CORE:
                view = self._core([dim])
            found = con.execute(
                f"SELECT DISTINCT CAST({view.sql(dim)} AS VARCHAR) AS v FROM {view.table} "
                "WHERE v IS NOT NULL ORDER BY v"
            ).fetchall()
            self._values[dim.name] = tuple(v for (v,) in found)
        return self._values[dim.name]

    def _view(self, dims: list[Dimension | None], measure: str | None = None) -> _View:
        """Where a question with these dimensions is answered (see ``_View``)."""
        dims = [d for d in dims if d is not None]
        if any(d.allocated for d in dims):
            if not self._allocated:
                raise QueryError(f"{next(d.name for d in dims if d.allocated)!r} needs an allocation: "
                                 "run finops-xl allocate --rules FILE on this store first")
            other = [d.name for d in dims if d.alloc_sql is None]
            if other:
                raise QueryError(f"{other[0]!r} cannot be combined with allocation dimensions "
                                 "(owner, pool, …): allocated cost is by owner and month")
            if measure not in (None, "EffectiveCost", "BilledCost"):
                raise QueryError(f"allocated cost has EffectiveCost and BilledCost, not {measure}")
            return ALLOC
        return CUBE if any(d.name.startswith("tag:") for d in dims) else CORE

    def _where(self, con, start, end, filters, measure=None, *grouped) -> tuple[str, list, _View]:
        """SQL conditions and parameters for the period and filters, and the view to ask."""
        resolved = []
        for name, wanted in filters:
            dim = self._dimension(name)
            if dim.groupable_only:
                raise QueryError(f"{dim.name!r} cannot be a filter: the start and end arguments "
                                 "choose the period")
            resolved.append((dim, wanted))
        view = self._view([d for d, _ in resolved] + list(grouped), measure)
        if view is CORE:
            view = self._core([d for d, _ in resolved] + list(grouped), start, end)
        if view is ALLOC and (start.day != 1 or end.day != 1):
            raise QueryError("allocated cost is monthly: start and end must be first days of months")
        clauses = [f"{view.date} >= ?", f"{view.date} < ?"]
        params: list = [start, end]
        for dim, wanted in resolved:
            known = set(self._dimension_values(con, dim))
            missing = [w for w in wanted if w not in known]
            if missing:
                raise QueryError(
                    f"no charges have {dim.name} = {missing[0]!r}"
                    f"{_suggest(missing[0], known)}"
                )
            clauses.append(f"CAST({view.sql(dim)} AS VARCHAR) IN ({', '.join('?' for _ in wanted)})")
            params.extend(wanted)
        return " AND ".join(clauses), params, view


@dataclasses.dataclass(frozen=True)
class _View:
    """A table questions are answered from: the cube, its tag-free roll-up, or the allocation."""

    table: str
    date: str
    currency: str
    allocation: bool = False

    def sql(self, dim: Dimension) -> str:
        return dim.alloc_sql if self.allocation else dim.sql


CUBE = _View("cube", "ChargeDate", "BillingCurrency")
CORE = _View("core", "ChargeDate", "BillingCurrency")
CORE_MONTH = _View("core_month", "ChargeDate", "BillingCurrency")


def _rollup_sql(table: str, date: str) -> str:
    """A temporary table of the cube summed over Tags, with ``date`` (SQL over ChargeDate) as its
    ChargeDate."""
    dims = ", ".join(d for d in CUBE_DIMENSIONS if d != "Tags")
    sums = ", ".join(f"sum({m}) AS {m}" for m in ("rows", *CUBE_MEASURES))
    return (f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT {date} AS ChargeDate, {dims}, {sums} "
            f"FROM cube GROUP BY ALL ORDER BY ChargeDate")
ALLOC = _View("alloc", "month", "currency", allocation=True)


def _suggest(value: str, known: set[str]) -> str:
    return suggest(value, known) if known else ""


def _metric(metric: str | None) -> str:
    try:
        return resolve_metric(metric)
    except UnknownName as exc:
        raise QueryError(str(exc)) from None


def _check_period(start: dt.date, end: dt.date) -> None:
    if not isinstance(start, dt.date) or not isinstance(end, dt.date):
        raise QueryError("start and end must be dates")
    if end <= start:
        raise QueryError(f"end ({end.isoformat()}) must be after start ({start.isoformat()}): "
                         "the period is [start, end), so end is the first day not included")


def _freeze(filters: Mapping[str, FilterValue] | None) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Filters as a hashable, ordered tuple of (dimension, values)."""
    out = []
    for name, value in (filters or {}).items():
        values = (value,) if isinstance(value, str) else tuple(value)
        if not values:
            raise QueryError(f"filter {name!r} has no value")
        out.append((str(name), tuple(str(v) for v in values)))
    return tuple(sorted(out))


def _one_currency(rows) -> None:
    currencies = sorted({r[0] for r in rows if r[0] is not None})
    if len(currencies) > 1:
        raise QueryError(
            f"the charges are in several billing currencies ({', '.join(currencies)}); "
            "add a currency filter, e.g. currency = " + repr(currencies[0])
        )


def _none_last(value):
    return (value is None, value or "")


@contextlib.contextmanager
def _fresh_reader(store: CostStore) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read connection to the store file as it is on disk now.

    ``CostStore.reader()`` opens the file through DuckDB's per-process database cache: while any
    other connection of the process holds the store open (a macro, another function, the classic
    add-in's other thread), DuckDB hands out that connection's database, which is the file a load
    has since replaced. A private in-memory database that attaches the file opens it afresh.
    """
    if not store.path.is_file():
        with store.reader() as con:  # a store folder: each commit is read afresh
            yield con
        return
    con = duckdb.connect(":memory:")
    try:
        con.execute("SET TimeZone = 'UTC'")
        for path, alias in ((store.path, "store"), (store.allocation_path, "allocation")):
            if alias == "store" or path.is_file():
                try:
                    con.execute(f"ATTACH {_literal(str(path))} AS {alias} (READ_ONLY)")
                except duckdb.Error:
                    with store.reader():  # the store's own message for a file it cannot open
                        pass
                    raise
        con.execute("USE store")
        yield con
    finally:
        con.close()


def _v1_cube(store: CostStore):
    """A v1 store file's cube, copied into a private in-memory database (as ``cube``), and its
    allocation's lines (Arrow, or None)."""
    with _fresh_reader(store) as src:
        try:
            cube = src.sql("SELECT * FROM cost_daily").to_arrow_table()
        except duckdb.CatalogException:
            raise StoreError(
                f"the store {store.path} was made by an older finops-xl: load any export "
                "into it once (finops-xl ingest) to bring it up to date"
            ) from None
        lines = _allocation_lines(src)
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.register("cube_arrow", cube)
    con.execute("CREATE TABLE cube AS SELECT * FROM cube_arrow ORDER BY ChargeDate")
    con.unregister("cube_arrow")
    return con, lines


def _allocation_lines(con: duckdb.DuckDBPyConnection):
    """The current allocation's lines (an Arrow table), or None when the store has none."""
    found = con.execute(
        "SELECT table_catalog FROM information_schema.tables WHERE table_name = 'allocated_charges' "
        "ORDER BY table_catalog = 'allocation' DESC").fetchall()
    if not found:
        return None
    return con.sql(f"SELECT month, currency, owner, business_unit, product, cost_center, "
                   f"kind, method, pool_id, BilledCost, EffectiveCost "
                   f"FROM {found[0][0]}.main.allocated_charges").to_arrow_table()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


_SHARED: dict[Path, CostQueries] = {}
_SHARED_LOCK = threading.Lock()


def queries_for(store: CostStore | str | None = None) -> CostQueries:
    """The process-wide CostQueries of a store (one cache per store file)."""
    store = store if isinstance(store, CostStore) else CostStore(store)
    with _SHARED_LOCK:
        if store.path not in _SHARED:
            _SHARED[store.path] = CostQueries(store)
        return _SHARED[store.path]
