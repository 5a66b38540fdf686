"""Native billing exports → FOCUS 1.2: recognise the format from the columns, convert with SQL.

Formats (one module each):

==================  =====================================================================
``aws-cur``         AWS Cost and Usage Report, legacy (``lineItem/UnblendedCost``; CSV, CSV.gz)
``aws-cur2``        AWS CUR 2.0 (``line_item_unblended_cost``; Parquet or CSV)
``azure-actual``    Azure cost details, actual cost (EA or MCA column set)
``azure-amortized`` Azure cost details, amortized cost (EA or MCA column set)
``gcp-billing``     Google Cloud Billing BigQuery export, standard or detailed (CSV, JSON lines,
                    Parquet)
==================  =====================================================================

:func:`native_groups` sorts input files into FOCUS files and groups of native files that convert
together; :func:`convert` writes one FOCUS file per group. An Azure actual-cost export converts
together with the amortized-cost export of the same month (BilledCost from the first,
EffectiveCost from the second), so both must be given, covering the same billing accounts and months.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import duckdb

from finops_xl.focus import csvfiles, schema
from finops_xl.focus.convert import aws, azure, gcp
from finops_xl.focus.convert.common import Header
from finops_xl.store.errors import IngestError, Notice, Problem
from finops_xl.store.sources import SourceFile, reader_sql, sql_literal

#: format name → what a user calls it and which columns identify it (for messages).
FORMATS = {
    "aws-cur": ("AWS CUR (legacy)", "lineItem/LineItemType, lineItem/UnblendedCost, bill/PayerAccountId"),
    "aws-cur2": ("AWS CUR 2.0", "line_item_line_item_type, line_item_unblended_cost, bill_payer_account_id"),
    "azure-actual": ("Azure cost details (actual cost)",
                     "ChargeType, PricingModel, Cost or CostInBillingCurrency, SubscriptionId or "
                     "SubscriptionGuid, Date"),
    "azure-amortized": ("Azure cost details (amortized cost)", "the same columns as the actual-cost export"),
    "gcp-billing": ("Google Cloud BigQuery billing export",
                    "billing_account_id, service.description, sku.id, usage_start_time, cost, credits"),
}

#: What a file that is neither FOCUS nor native is told was expected.
NATIVE_FORMATS_EXPECTED = (
    "Native exports converted to FOCUS automatically: "
    + "; ".join(f"{name} (columns {cols})" for name, cols in FORMATS.values())
)

EXPECTED = (
    "expected a FOCUS export (columns such as BilledCost, EffectiveCost, ChargePeriodStart, "
    "BillingAccountId) or one of these native exports: "
    + "; ".join(f"{name} ({cols})" for name, cols in FORMATS.values())
)


@dataclasses.dataclass(frozen=True)
class NativeGroup:
    """Native files that convert together into one FOCUS file.

    Attributes:
      format: a key of :data:`FORMATS` (``azure`` for an actual + amortized pair).
      sources: the files (for Azure: actual-cost files, then amortized-cost files).
      header: the columns of the first file.
      amortized: for Azure, how many of ``sources`` (from the end) are amortized-cost exports.
      amortized_header: for Azure, the columns of the first amortized-cost file.
    """

    format: str
    sources: tuple[SourceFile, ...]
    header: Header
    amortized: int = 0
    amortized_header: Header | None = None

    @property
    def label(self) -> str:
        return " + ".join(s.label for s in self.sources)

    def focus_sql(self) -> str:
        """SELECT producing the group's rows as canonical FOCUS 1.2 columns."""
        if self.format in ("aws-cur", "aws-cur2"):
            return aws.focus_sql(self.header, _reader(self.sources))
        if self.format == "gcp-billing":
            return gcp.focus_sql(self.header, _reader(self.sources))
        actual = self.sources[: len(self.sources) - self.amortized]
        amortized = self.sources[len(self.sources) - self.amortized :]
        assert self.amortized_header is not None
        return azure.focus_sql(self.header, _reader(actual), self.amortized_header, _reader(amortized))


def _reader(sources) -> str:
    sources = list(sources)
    if sources[0].format in ("parquet", "jsonl"):
        return reader_sql(sources, union_by_name=True)
    return reader_sql(sources)


def header_of(con: duckdb.DuckDBPyConnection, source: SourceFile) -> Header:
    """The columns of a file, as DuckDB reads it."""
    try:
        rows = con.sql(f"DESCRIBE SELECT * FROM {source.reader_sql()}").fetchall()
    except duckdb.Error as exc:
        text = " ".join(str(exc).split())[:300]
        raise IngestError([Problem(source.label, f"cannot be read ({text})")]) from None
    return Header(tuple((r[0], r[1]) for r in rows))


def detect(con: duckdb.DuckDBPyConnection, source: SourceFile, header: Header) -> str | None:
    """The native format of a file from its columns (and, for Azure, its content); None if the
    file is not a native export this package converts."""
    names = [n for n, _ in header.columns]
    if aws.is_legacy(names):
        return "aws-cur"
    if aws.is_cur2(names):
        return "aws-cur2"
    if gcp.is_billing_export(header):
        return "gcp-billing"
    if azure.is_cost_details(header):
        return azure.dataset_kind(con, source, header)
    return None


def native_groups(
    con: duckdb.DuckDBPyConnection, sources: list[SourceFile]
) -> tuple[list[SourceFile], list[NativeGroup]]:
    """Split input files into FOCUS exports and groups of native exports.

    Raises IngestError naming every file that is neither (with what was expected), and every Azure
    export that lacks its actual-cost or amortized-cost counterpart.
    """
    focus: list[SourceFile] = []
    native: dict[tuple, list[tuple[SourceFile, Header]]] = {}
    azure_files: list[tuple[SourceFile, Header, str]] = []
    problems: list[Problem] = []
    for s in sources:
        try:
            header = header_of(con, s)
        except IngestError as exc:
            if s.format == "jsonl":
                problems.extend(exc.problems)
            else:
                focus.append(s)  # the FOCUS reader names what is wrong with the file
            continue
        names = [n for n, _ in header.columns]
        try:
            fmt, s = csvfiles.reading(con, s, lambda src, h=header: detect(con, src, h))
        except IngestError as exc:
            problems.extend(exc.problems)
            continue
        if fmt is None and s.format != "jsonl":
            focus.append(s)  # FOCUS, or refused by the FOCUS reader with what was expected
        elif fmt is None:
            shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
            problems.append(Problem(s.label, f"not a known export (columns: {shown}); {EXPECTED}"))
        elif fmt == azure.UNKNOWN:
            problems.append(Problem(s.label, azure.UNKNOWN_KIND))
        elif fmt.startswith("azure"):
            azure_files.append((s, header, fmt))
        else:
            # files of one format, file type and column set convert with one reader
            native.setdefault((fmt, s.format, header.columns), []).append((s, header))
    groups = [NativeGroup(key[0], tuple(m[0] for m in members), members[0][1])
              for key, members in native.items()]
    # Azure: per file type and column set (EA and MCA files differ), actual + amortized together
    by_columns: dict[tuple, list[tuple[SourceFile, Header, str]]] = {}
    for m in azure_files:
        by_columns.setdefault((m[0].format, m[1].columns), []).append(m)
    for members in by_columns.values():
        actual = [m for m in members if m[2] == "azure-actual"]
        amortized = [m for m in members if m[2] == "azure-amortized"]
        if not actual or not amortized:
            have, need = ("actual", "amortized") if actual else ("amortized", "actual")
            problems.extend(Problem(m[0].label, (
                f"Azure {have}-cost export given without the {need}-cost export of the same "
                f"months: FOCUS needs both (BilledCost from actual cost, EffectiveCost from "
                f"amortized cost); give both files in one command")) for m in members)
            continue
        billed = azure.periods(con, actual[0][1], _reader(m[0] for m in actual))
        amortized_periods = azure.periods(con, amortized[0][1], _reader(m[0] for m in amortized))
        if billed != amortized_periods:
            problems.extend(Problem(m[0].label, (
                f"the Azure actual-cost and amortized-cost exports cover different billing accounts or "
                f"months (actual only: {_show_periods(billed - amortized_periods)}; amortized only: "
                f"{_show_periods(amortized_periods - billed)}); give both exports of every month")) for m in members)
            continue
        groups.append(NativeGroup(
            "azure", tuple(m[0] for m in actual + amortized), actual[0][1],
            amortized=len(amortized), amortized_header=amortized[0][1]))
    if problems:
        raise IngestError(problems)
    return focus, groups


def _show_periods(keys: set[tuple[str, str]]) -> str:
    return ", ".join(f"{account} {month}" for account, month in sorted(keys)) or "none"


def convert_group(con: duckdb.DuckDBPyConnection, group: NativeGroup, out: Path, fmt: str = "parquet") -> Path:
    """Write one group as a FOCUS 1.2 file (``parquet`` or ``csv``); returns the path.

    CSV timestamps are written as ISO 8601 UTC (``2025-01-01T00:00:00Z``), the form FOCUS uses.
    """
    # JSON columns are written as text: FOCUS defines them as JSON strings, and every reader reads text
    json_columns = {c.name for c in schema.canonical_columns() if c.kind is schema.Kind.JSON}
    sql = f"SELECT * REPLACE ({', '.join(f'CAST({c} AS VARCHAR) AS {c}' for c in sorted(json_columns))}) " \
          f"FROM ({group.focus_sql()})"
    if fmt == "csv":
        copy = (f"COPY ({sql}) TO {sql_literal(str(out))} (FORMAT csv, HEADER true, "
                f"TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%SZ')")
    else:
        copy = f"COPY ({sql}) TO {sql_literal(str(out))} (FORMAT parquet)"
    try:
        con.execute(copy)
    except duckdb.Error as exc:
        retry = csvfiles.one_thread_where_needed(con, group.sources)
        if retry is not None:  # short rows and line breaks in quoted values: read by one thread
            return convert_group(con, dataclasses.replace(group, sources=retry), out, fmt)
        csvfiles.check_readable(con, group.sources)  # a CSV that cannot be read: its line and why
        # a value the converter did not foresee: name the files and what failed, never a traceback
        reason = " ".join(str(exc).split("\n")[0].split())
        what = FORMATS.get(group.format, ("Azure cost details",))[0]
        raise IngestError([Problem(group.label, (
            f"could not be converted from {what} to FOCUS: {reason}. Check the file is a complete, "
            f"unedited export; if it is, report this message with the file's column header"))]) from None
    return out


#: native format → the converter module that reads it.
_MODULES = {"aws-cur": aws, "aws-cur2": aws, "gcp-billing": gcp, "azure": azure}


def group_notices(con: duckdb.DuckDBPyConnection, group: NativeGroup) -> list[Notice]:
    """What converting ``group`` could not determine from its files, or chose for the user (e.g. an
    Azure actual-cost export alone cannot tell the EffectiveCost of reservation-covered usage):
    each converter module may define ``notices(con, group)``. The load goes on; the notices are
    printed and recorded on the slices they concern."""
    fn = getattr(_MODULES.get(group.format), "notices", None)
    return csvfiles.padding_notices(con, group.sources) + (list(fn(con, group)) if fn is not None else [])


def group_hash(hashes: list[str]) -> str:
    """One content hash for a group of files (their own hashes, sorted, hashed again)."""
    if len(hashes) == 1:
        return hashes[0]
    return "sha256:" + hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
