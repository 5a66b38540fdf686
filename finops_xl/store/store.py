"""The cost store: one DuckDB file, many readers, one writer at a time, loads all-or-nothing.

DuckDB lets one process write a database file, and a process that has it open for writing locks out
every reader. An Excel workbook recalculating while an ingest runs must neither fail nor see half a
load, so the store never writes its file in place:

1. the writer takes an exclusive lock on ``<store>.lock`` (a second writer waits for it);
2. it copies the store to ``<store>.next-<pid>`` and does all of its work on that private copy, in
   one transaction;
3. on success it checkpoints and closes the copy, then renames it over the store with
   ``os.replace`` — atomic on POSIX and Windows. On any error the copy is deleted and the store is
   untouched.

Readers open the store read-only. A reader that opened the old file keeps reading the old file (a
consistent snapshot) until it reconnects; a reader that opens after the rename sees the new one.
Nobody ever sees a partial load. The cost of this design is a file copy per load, proportional to
the store's size (fast on a local disk; free on copy-on-write filesystems).

Around the copy (``store.swap``, ``store.lock``): symbolic links are followed, so the lock and the
copy are those of the real file; the copy keeps the store's mode and owner; copies left by killed
writers are removed by the next write; SIGTERM and Ctrl-C remove the copy; a writer waiting for the
lock says who holds it and gives up after ``FINOPS_XL_LOCK_TIMEOUT`` seconds; and every OS error
(disk full, a protected folder, a damaged file) is one line naming the path.

On Windows a file that another process holds open cannot be replaced: readers (the Excel
functions) open the store per query and close it straight away, and the writer retries the rename
for a few seconds before saying which file is held.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import duckdb

from finops_xl.focus import schema
from finops_xl.store.errors import StoreError, StoreNotFoundError, StoreUnreadableError
from finops_xl.store.location import resolve_store_path
from finops_xl.store.sources import sql_identifier, sql_literal
from finops_xl.store.swap import swapped

#: Version of the store's own table layout (recorded in ``store_info``).
SCHEMA_VERSION = "1"

#: DuckDB memory limit of a writer (a load or an allocation), unless ``FINOPS_XL_MEMORY_LIMIT``
#: says otherwise (any DuckDB size, e.g. ``8GB``). Beyond it DuckDB spills to a temporary folder
#: beside the store (``<store>.tmp``), so a 30M-row load stays well under 8 GB of RAM.
MEMORY_LIMIT = "4GB"
MEMORY_LIMIT_ENV = "FINOPS_XL_MEMORY_LIMIT"

#: Lineage columns every stored charge carries, after the FOCUS columns.
LINEAGE_COLUMNS = {"x_LoadId": "BIGINT", "x_SourceFile": "VARCHAR"}

_MANIFEST_DDL = """
CREATE TABLE IF NOT EXISTS manifest (
    load_id       BIGINT    NOT NULL,  -- one load = one `finops-xl ingest` (all its files together)
    loaded_at     TIMESTAMP NOT NULL,  -- UTC
    source_file   VARCHAR   NOT NULL,  -- the file as the user named it
    content_hash  VARCHAR   NOT NULL,  -- sha256:<hex> of its bytes
    bytes         BIGINT    NOT NULL,
    format        VARCHAR   NOT NULL,  -- csv, csv.gz or parquet
    focus_version VARCHAR   NOT NULL,  -- as detected from its columns
    rows          BIGINT    NOT NULL,
    slices        JSON      NOT NULL,  -- [{ProviderName, BillingAccountId, BillingPeriodStart, rows}]
    source_paths  VARCHAR[]            -- the absolute paths it was read from (a native group: each file)
);
CREATE TABLE IF NOT EXISTS slices (      -- the current version of each slice
    ProviderName       VARCHAR   NOT NULL,
    BillingAccountId   VARCHAR   NOT NULL,
    BillingPeriodStart TIMESTAMP NOT NULL,
    load_id            BIGINT    NOT NULL,
    loaded_at          TIMESTAMP NOT NULL,
    rows               BIGINT    NOT NULL,
    BilledCost         DECIMAL(38,12),  -- NULL when the slice holds more than one currency
    EffectiveCost      DECIMAL(38,12),  --   (per-currency totals: slice_currencies)
    BillingCurrency    VARCHAR,         -- the slice's currency; NULL when it holds several
    notes              VARCHAR[],       -- notices of the load about the files of this version
    PRIMARY KEY (ProviderName, BillingAccountId, BillingPeriodStart)
);
CREATE TABLE IF NOT EXISTS slice_currencies ( -- every slice version's totals per billing currency
    ProviderName       VARCHAR   NOT NULL,
    BillingAccountId   VARCHAR   NOT NULL,
    BillingPeriodStart TIMESTAMP NOT NULL,
    load_id            BIGINT    NOT NULL,
    BillingCurrency    VARCHAR,
    rows               BIGINT    NOT NULL,
    BilledCost         DECIMAL(38,12),
    EffectiveCost      DECIMAL(38,12)
);
CREATE TABLE IF NOT EXISTS load_notices (  -- what a load did or could not determine, per input
    load_id     BIGINT  NOT NULL,
    source_file VARCHAR NOT NULL,
    message     VARCHAR NOT NULL,
    row         BIGINT,
    column_name VARCHAR,
    value       VARCHAR,
    rows        BIGINT  NOT NULL,
    amount      DECIMAL(38,12),
    currency    VARCHAR
);
CREATE TABLE IF NOT EXISTS slice_history ( -- every version a slice has had, newest last
    ProviderName       VARCHAR   NOT NULL,
    BillingAccountId   VARCHAR   NOT NULL,
    BillingPeriodStart TIMESTAMP NOT NULL,
    load_id            BIGINT    NOT NULL,
    loaded_at          TIMESTAMP NOT NULL,
    rows               BIGINT    NOT NULL,
    BilledCost         DECIMAL(38,12),
    EffectiveCost      DECIMAL(38,12),
    replaced_rows      BIGINT    NOT NULL  -- rows of the previous version it replaced (0 if new)
);
CREATE TABLE IF NOT EXISTS normalizations (
    load_id     BIGINT  NOT NULL,
    source_file VARCHAR NOT NULL,
    column_name VARCHAR NOT NULL,
    original    VARCHAR,
    normalized  VARCHAR,
    rows        BIGINT  NOT NULL,
    note        VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS store_info (key VARCHAR PRIMARY KEY, value VARCHAR);
CREATE TABLE IF NOT EXISTS kubernetes_allocation ( -- OpenCost exports (store.opencost), NOT in charges
    Cluster VARCHAR NOT NULL, "Date" DATE NOT NULL,  -- the slice: '' when the export names no cluster
    Namespace VARCHAR, ControllerKind VARCHAR, ControllerName VARCHAR, Pod VARCHAR, Container VARCHAR,
    CPUCoreUsageAverage DOUBLE, CPUCoreRequestAverage DOUBLE, RAMBytesUsageAverage DOUBLE,
    RAMBytesRequestAverage DOUBLE, NetworkReceiveBytes DOUBLE, NetworkTransferBytes DOUBLE, GPUs DOUBLE,
    PVBytes DOUBLE, CPUCost DECIMAL(38,18), RAMCost DECIMAL(38,18), NetworkCost DECIMAL(38,18),
    PVCost DECIMAL(38,18), GPUCost DECIMAL(38,18), LoadBalancerCost DECIMAL(38,18),
    SharedCost DECIMAL(38,18), ExternalCost DECIMAL(38,18), TotalCost DECIMAL(38,18),
    Currency VARCHAR NOT NULL,  -- assumed (OpenCost exports carry none): --currency, default USD
    Labels JSON, Extras JSON,   -- Labels NULL: the export has no label columns; Extras: unknown columns
    x_LoadId BIGINT NOT NULL, x_SourceFile VARCHAR NOT NULL, x_ContentHash VARCHAR NOT NULL,
    x_SourceRow BIGINT          -- the data row of x_SourceFile (1-based, header excluded)
);
"""

#: The daily cost cube: charges summed by day and the dimensions the Excel functions filter on.
#: Kept in step with ``charges`` by every load (its slice columns let a restated slice be replaced).
CUBE_DIMENSIONS = (
    "BillingPeriodStart", "ProviderName", "BillingAccountId", "BillingAccountName", "SubAccountId",
    "SubAccountName", "ServiceName", "ServiceCategory", "RegionId", "ChargeCategory",
    "PricingCategory", "CommitmentDiscountStatus", "BillingCurrency", "Tags",
)
#: Bumped when the cube's layout changes: a store with an older cube rebuilds it on its next load.
CUBE_VERSION = "2"
CUBE_MEASURES = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")

_CUBE_DDL = f"""
CREATE TABLE IF NOT EXISTS cost_daily (
    ChargeDate DATE,
    BillingPeriodStart TIMESTAMP, ProviderName VARCHAR, BillingAccountId VARCHAR,
    BillingAccountName VARCHAR, SubAccountId VARCHAR, SubAccountName VARCHAR, ServiceName VARCHAR,
    ServiceCategory VARCHAR, RegionId VARCHAR, ChargeCategory VARCHAR, PricingCategory VARCHAR,
    CommitmentDiscountStatus VARCHAR, BillingCurrency VARCHAR, Tags JSON,
    rows BIGINT,
    {", ".join(f"{m} DECIMAL(38,12)" for m in CUBE_MEASURES)}
)
"""


def cube_select_sql(where: str, charges: str = "charges") -> str:
    """The ``cost_daily`` rows of the charges matching ``where``: summed by day and dimension, in
    the cube's column order (one statement for every engine)."""
    dims = ", ".join(CUBE_DIMENSIONS)
    sums = ", ".join(f"sum({m}) AS {m}" for m in CUBE_MEASURES)
    return (f"SELECT CAST(ChargePeriodStart AS DATE) AS ChargeDate, {dims}, count(*) AS rows, {sums} "
            f"FROM {charges} WHERE {where} GROUP BY ALL")


def cube_insert_sql(where: str) -> str:
    """``INSERT INTO cost_daily`` the charges matching ``where``, summed by day and dimension."""
    return f"INSERT INTO cost_daily {cube_select_sql(where)}"


def slice_totals_sql(where: str, charges: str = "charges", *, by_currency: bool = False) -> str:
    """Row count and exact totals per slice (provider, billing account, billing period) of the
    charges matching ``where``: what a load records for each slice it writes. With ``by_currency``,
    per slice and billing currency (amounts in two currencies are never added up)."""
    currency = "BillingCurrency, " if by_currency else ""
    return (f"SELECT ProviderName, BillingAccountId, BillingPeriodStart, {currency}count(*) AS rows, "
            "sum(BilledCost) AS BilledCost, sum(EffectiveCost) AS EffectiveCost "
            f"FROM {charges} WHERE {where} GROUP BY ALL")


def connect(path: Path | str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the store's session settings (UTC time zone)."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreUnreadableError(_open_failure(path, exc)) from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def _open_failure(path: Path | str, exc: duckdb.Error) -> str:
    """One line, in the user's words, on why the store file at ``path`` cannot be opened."""
    text = str(exc)
    with contextlib.suppress(OSError):
        if Path(path).stat().st_size == 0:
            return (f"{path} is an empty file (0 bytes), not a cost store: if it was one, restore it from "
                    "a backup; otherwise delete it, and the next load starts a new store there")
    if any(w in text for w in _DAMAGED):
        return (f"the cost store {path} is damaged ({text.splitlines()[0].removeprefix('IO Error: ')}): "
                "restore it from a backup, or load the exports into a new store")
    if "not a valid DuckDB database" in text:
        return (f"{path} is not a finops-xl cost store (it is not a DuckDB database file): give the file "
                "`finops-xl ingest --store` wrote, or load your exports into a new one")
    if "Is a directory" in text:
        return f"{path} is a folder, not a cost store file: give the store file (e.g. {Path(path) / 'finops.duckdb'})"
    if "lock" in text.lower():
        return (f"the cost store {path} is open for writing in another program (a load or allocation "
                "running now?): wait for it to finish and try again")
    if "Permission denied" in text:
        return (f"the cost store {path} cannot be read: permission denied (ask its owner for access, or "
                "run the command as the user that loads it)")
    if "serialization version" in text or "newer version" in text or "older version" in text:
        return (f"the cost store {path} was written by another DuckDB version than this finops-xl uses: "
                "install the finops-xl that wrote it, or load the exports into a new store")
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"the cost store {path} cannot be opened: {first.removeprefix('IO Error: ')}"


def charges_columns() -> dict[str, str]:
    """The ``charges`` table's starting columns: canonical FOCUS 1.2, then lineage."""
    cols = {c.name: schema.SQL_TYPES[c.kind] for c in schema.canonical_columns()}
    cols.update(LINEAGE_COLUMNS)
    return cols


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create the store's tables where they do not exist yet."""
    cols = ", ".join(f"{sql_identifier(n)} {t}" for n, t in charges_columns().items())
    con.execute(f"CREATE TABLE IF NOT EXISTS charges ({cols})")
    con.execute(_MANIFEST_DDL)
    con.execute("ALTER TABLE manifest ADD COLUMN IF NOT EXISTS source_paths VARCHAR[]")
    _upgrade_slices(con)
    con.execute(_CUBE_DDL)
    con.execute(
        "INSERT OR IGNORE INTO store_info VALUES ('schema_version', ?), ('focus_version', ?)",
        [SCHEMA_VERSION, schema.CANONICAL_VERSION],
    )
    current = con.execute("SELECT value FROM store_info WHERE key = 'cost_daily'").fetchall()
    if not current or current[0][0] != CUBE_VERSION:
        # a store made before this cube layout: build it once from the charges it holds
        con.execute("DROP TABLE IF EXISTS cost_daily")
        con.execute(_CUBE_DDL)
        con.execute(cube_insert_sql("true"))
        con.execute("INSERT OR REPLACE INTO store_info VALUES ('cost_daily', ?)", [CUBE_VERSION])


def _upgrade_slices(con: duckdb.DuckDBPyConnection) -> None:
    """A store written before slices kept their currency: add the columns, and per-currency totals of
    every slice's current version from its charges (a slice in two currencies loses its summed total)."""
    have = {c.lower() for c in table_columns(con, "slices")}
    if "billingcurrency" in have:
        return
    con.execute("ALTER TABLE slices ADD COLUMN BillingCurrency VARCHAR")
    con.execute("ALTER TABLE slices ADD COLUMN notes VARCHAR[]")
    con.execute(f"""
        INSERT INTO slice_currencies
        SELECT t.ProviderName, t.BillingAccountId, t.BillingPeriodStart, s.load_id, t.BillingCurrency,
               t.rows, t.BilledCost, t.EffectiveCost
        FROM ({slice_totals_sql('true', by_currency=True)}) t
        JOIN slices s USING (ProviderName, BillingAccountId, BillingPeriodStart)
    """)
    con.execute("""
        UPDATE slices SET BillingCurrency = c.cur FROM (
            SELECT ProviderName, BillingAccountId, BillingPeriodStart, any_value(BillingCurrency) AS cur,
                   count(*) AS n
            FROM slice_currencies GROUP BY ALL) c
        WHERE slices.ProviderName = c.ProviderName AND slices.BillingAccountId = c.BillingAccountId
          AND slices.BillingPeriodStart = c.BillingPeriodStart AND c.n = 1
    """)


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name → type of a table, in table order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: typ for name, typ in rows}


#: The savings ledger's tables (``finops_xl.optimization.ledger``), views in every reader.
SAVINGS_TABLES = ("opportunities", "opportunity_events")


class CostStore:
    """The cost store at ``path`` (resolved as ``location.resolve_store_path`` says)."""

    def __init__(self, path: str | os.PathLike[str] | None = None):
        self.path = resolve_store_path(path)

    def __repr__(self) -> str:
        return f"CostStore({str(self.path)!r})"

    def exists(self) -> bool:
        return self.path.is_file() or self.is_lake

    @property
    def is_lake(self) -> bool:
        """True when the path is a folder of Parquet tables written by the Spark engine
        (``finops_xl.engine.lake``) rather than a DuckDB file."""
        from finops_xl.engine.lake import is_lake

        return self.path.is_dir() and is_lake(self.path)

    @property
    def allocation_path(self) -> Path:
        """The allocation's file beside the store (``finops.allocation.duckdb``): allocation results
        are derived data, kept apart so a run need not copy the whole store."""
        return self.path.with_name(f"{self.path.stem}.allocation{self.path.suffix or '.duckdb'}")

    @property
    def savings_path(self) -> Path:
        """The savings ledger's file beside the store (``finops.savings.duckdb``): what analysts
        decided about optimization opportunities, kept apart so loads never touch it."""
        return self.path.with_name(f"{self.path.stem}.savings{self.path.suffix or '.duckdb'}")

    def version(self) -> str:
        """Changes whenever a load, an allocation or a ledger change lands; for caches of query
        results."""
        parts = []
        if self.is_lake:
            from finops_xl.engine.lake import INFO_FILE

            st = (self.path / INFO_FILE).stat()
            return f"lake:{st.st_ino}:{st.st_mtime_ns}:{st.st_size}"
        for p in (self.path, self.allocation_path, self.savings_path):
            try:
                st = p.stat()
            except FileNotFoundError:
                parts.append("missing")
                continue
            parts.append(f"{st.st_ino}:{st.st_mtime_ns}:{st.st_size}")
        return "|".join(parts)

    @contextlib.contextmanager
    def reader(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only connection to the store as it is now (with its current allocation, if any,
        as the views ``allocated_charges``, ``allocation_groups``, ``allocation_runs``); closed on
        exit."""
        if self.path.is_dir() and not self.is_lake:
            raise StoreUnreadableError(
                f"{self.path} is a folder, not a cost store file: give the store file "
                f"(e.g. {self.path / 'finops.duckdb'})")
        if not self.exists():
            raise StoreNotFoundError(
                f"no cost store at {self.path}: load data with `finops-xl ingest PATH --store "
                f"{self.path}` (or try `finops-xl demo`)"
            )
        if self.is_lake:
            from finops_xl.engine.lake import lake_views

            con = connect(":memory:", read_only=False)
            try:
                lake_views(con, self.path)
                if self.savings_path.is_file():
                    _attach_views(con, self.savings_path, "savings", SAVINGS_TABLES)
                yield con
            finally:
                con.close()
            return
        con = connect(self.path, read_only=True)
        try:
            if self.allocation_path.is_file():
                _attach_views(con, self.allocation_path, "allocation",
                              ("allocated_charges", "allocation_groups", "allocation_runs"))
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

    @contextlib.contextmanager
    def writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to a private copy of the store, swapped in on success.

        Raising inside the block discards every change.
        """
        self._refuse_lake()
        with self._swap(self.path, check=_refuse_foreign) as con:
            ensure_schema(con)
            yield con

    @contextlib.contextmanager
    def allocation_writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to a private copy of the allocation file, swapped in on success,
        with the store's ``cost_daily`` and ``store_info`` readable as views. Holds the store's lock,
        so no load lands while an allocation runs."""
        if not self.exists():
            raise StoreNotFoundError(f"no cost store at {self.path}: load exports first "
                                     "(finops-xl ingest)")
        self._refuse_lake()
        with self._swap(self.allocation_path, lock=self.path) as con:
            _attach_views(con, self.path, "store", ("cost_daily", "store_info"))
            yield con

    def _refuse_lake(self) -> None:
        if self.is_lake:
            raise StoreError(f"{self.path} is a lake written by the Spark engine: load and allocate "
                             "it with --engine spark")

    @contextlib.contextmanager
    def savings_writer(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-write connection to a private copy of the savings ledger, swapped in on success,
        with the store's ``charges`` and ``cost_daily`` readable as views. Holds the store's lock."""
        if not self.exists():
            raise StoreNotFoundError(f"no cost store at {self.path}: load exports first "
                                     "(finops-xl ingest)")
        with self._swap(self.savings_path, lock=self.path) as con:
            if self.is_lake:  # a lake written by the Spark engine: its tables as views
                from finops_xl.engine.lake import lake_views

                lake_views(con, self.path)
            else:
                _attach_views(con, self.path, "store", ("charges", "cost_daily", "store_info"))
            yield con

    @contextlib.contextmanager
    def _swap(self, target: Path, lock: Path | None = None, *,
              check=None) -> Iterator[duckdb.DuckDBPyConnection]:
        def open_copy(work: Path) -> duckdb.DuckDBPyConnection:
            con = connect(work, read_only=False)
            con.execute("SET preserve_insertion_order = false")  # row order carries no meaning
            limit = os.environ.get(MEMORY_LIMIT_ENV) or MEMORY_LIMIT
            con.execute(f"SET memory_limit = {sql_literal(limit)}")
            spill = work.with_name(work.name.rsplit(".next-", 1)[0] + ".tmp")
            con.execute(f"SET temp_directory = {sql_literal(str(spill))}")
            return con

        with swapped(target, lock or target, open_copy, check) as con:
            yield con


#: DuckDB's words for a damaged database file (truncated, overwritten, bad checksums).
_DAMAGED = ("Corrupt database file", "Could not read enough bytes", "does not match stored checksum")


def _refuse_foreign(path: Path) -> None:
    """Refuse to make a store of a DuckDB file that holds another application's tables (an empty
    database becomes a store)."""
    con = connect(path, read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "ORDER BY table_name").fetchall()]
    except duckdb.Error as exc:
        raise StoreUnreadableError(f"the cost store {path} is damaged ({str(exc).splitlines()[0]}): "
                                   "restore it from a backup, or load the exports into a new store") from None
    finally:
        con.close()
    if tables and not {"charges", "manifest"} <= set(tables):
        shown = ", ".join(tables[:6]) + (f" and {len(tables) - 6} more" if len(tables) > 6 else "")
        raise StoreUnreadableError(
            f"{path} is not a finops-xl cost store: it is a DuckDB database of another application "
            f"(tables {shown}); nothing was changed: give --store a new file (or a store's file)")


def _attach_views(con: duckdb.DuckDBPyConnection, path: Path, alias: str, tables: tuple[str, ...]) -> None:
    """Attach another database read-only and expose its ``tables`` (those it has) as temp views."""
    # IF NOT EXISTS: connections of one process share the database, and so its attachments
    con.execute(f"ATTACH IF NOT EXISTS {sql_literal(str(path))} AS {alias} (READ_ONLY)")
    present = {t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?", [alias]).fetchall()}
    for t in tables:
        if t in present:
            con.execute(f"CREATE TEMP VIEW {t} AS SELECT * FROM {alias}.main.{t}")
