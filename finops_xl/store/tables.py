"""The store's tables: their declared columns and types, and the SQL every engine shares (the daily
cube, slice totals)."""

from __future__ import annotations

import duckdb

from finops_xl.focus import schema
from finops_xl.store.sources import sql_identifier

#: Version of the store's own table layout (recorded in ``store_info``).
SCHEMA_VERSION = "2"  # 1: one DuckDB file; 2: a folder of Delta tables (store.delta)

#: DuckDB memory limit of a writer (a load or an allocation), unless ``FINOPS_XL_MEMORY_LIMIT``
#: says otherwise (any DuckDB size, e.g. ``8GB``). Beyond it DuckDB spills to a temporary folder
#: beside the store (``<store>.tmp``), so a 30M-row load stays well under 8 GB of RAM.
MEMORY_LIMIT = "4GB"
MEMORY_LIMIT_ENV = "FINOPS_XL_MEMORY_LIMIT"

#: Lineage columns every stored charge carries, after the FOCUS columns.
LINEAGE_COLUMNS = {"x_LoadId": "BIGINT", "x_SourceFile": "VARCHAR"}

#: The columns of a slice version (its slice, load and rows), in ``slices`` and ``slice_history``.
_SLICE_VERSION = """\
    ProviderName       VARCHAR   NOT NULL,
    BillingAccountId   VARCHAR   NOT NULL,
    BillingPeriodStart TIMESTAMP NOT NULL,
    load_id            BIGINT    NOT NULL,
    loaded_at          TIMESTAMP NOT NULL,
    rows               BIGINT    NOT NULL,"""

_MANIFEST_DDL = f"""
CREATE TABLE IF NOT EXISTS manifest (
    load_id       BIGINT    NOT NULL,  -- one load = one `finops-xl ingest` (all its files together)
    loaded_at     TIMESTAMP NOT NULL,  -- UTC
    source_file   VARCHAR   NOT NULL,  -- the file as the user named it
    content_hash  VARCHAR   NOT NULL,  -- sha256:<hex> of its bytes
    bytes         BIGINT    NOT NULL,
    format        VARCHAR   NOT NULL,  -- csv, csv.gz or parquet
    focus_version VARCHAR   NOT NULL,  -- as detected from its columns
    rows          BIGINT    NOT NULL,
    slices        JSON      NOT NULL,  -- [{{ProviderName, BillingAccountId, BillingPeriodStart, rows}}]
    source_paths  VARCHAR[]            -- the absolute paths it was read from (a native group: each file)
);
CREATE TABLE IF NOT EXISTS slices (      -- the current version of each slice
{_SLICE_VERSION}
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
{_SLICE_VERSION}
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


#: The cube summed over Tags and by month (``cube_monthly_sql``): what most Excel questions read,
#: many times smaller than the cube; kept by every load beside ``cost_daily``, slice by slice.
MONTHLY_CUBE = "cost_monthly"


def cube_monthly_sql(cube: str = "cost_daily") -> str:
    """The rows of ``cost_monthly`` for the cube rows of ``cube``: summed over Tags, by month
    (``ChargeDate`` the month's first day)."""
    dims = ", ".join(d for d in CUBE_DIMENSIONS if d != "Tags")
    sums = ", ".join(f"sum({m}) AS {m}" for m in ("rows", *CUBE_MEASURES))
    return (f"SELECT CAST(date_trunc('month', ChargeDate) AS DATE) AS ChargeDate, {dims}, {sums} "
            f"FROM {cube} GROUP BY ALL")


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


def declare_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Create, empty, the store's tables that do not exist on ``con`` yet (with their declared
    types); nothing else (see ``ensure_schema`` for a v1 store file)."""
    cols = ", ".join(f"{sql_identifier(n)} {t}" for n, t in charges_columns().items())
    con.execute(f"CREATE TABLE IF NOT EXISTS charges ({cols})")
    con.execute(_MANIFEST_DDL)
    con.execute(_CUBE_DDL)


def seed_store_info(con: duckdb.DuckDBPyConnection) -> None:
    """The store's record of its layout in ``store_info`` (kept where it is there already)."""
    con.execute(
        "INSERT OR IGNORE INTO store_info VALUES ('schema_version', ?), ('focus_version', ?), ('cost_daily', ?)",
        [SCHEMA_VERSION, schema.CANONICAL_VERSION, CUBE_VERSION],
    )


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name → type of a table, in table order."""
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return {name: typ for name, typ in rows}


