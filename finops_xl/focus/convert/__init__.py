"""Native billing exports → FOCUS 1.2: recognise the format from the columns, convert with SQL.

Formats (one module each):

==================  =====================================================================
``aws-cur``         AWS Cost and Usage Report, legacy (``lineItem/UnblendedCost``; CSV, CSV.gz)
``aws-cur-athena``  AWS CUR legacy in its Athena layout (snake case, ``resource_tags_user_*`` columns)
``aws-cur2``        AWS CUR 2.0 (``line_item_unblended_cost``; Parquet or CSV)
``azure-actual``    Azure cost details, actual cost (EA or MCA column set)
``azure-amortized`` Azure cost details, amortized cost (EA or MCA column set)
``gcp-billing``     Google Cloud Billing BigQuery export, standard or detailed (CSV, JSON lines,
                    Parquet)
``oci-cost``        Oracle Cloud Infrastructure cost report (``cost/myCost``; CSV, CSV.gz)
``oci-focus``       Oracle Cloud Infrastructure FOCUS report (FOCUS 1.0 with OCI's names and
                    ``oci_`` columns; CSV, CSV.gz)
==================  =====================================================================

:func:`native_groups` sorts input files into FOCUS files and groups of native files that convert
together; :func:`convert` writes one FOCUS file per group. An Azure actual-cost export converts
together with the amortized-cost export of the same month when both are given (BilledCost from the
first, EffectiveCost from the second; they must cover the same billing accounts and months); either
one alone converts too, with notices on what it cannot tell (see ``azure``).
``azure-usage-legacy``, the Azure legacy (pay-as-you-go) usage export (``PreTaxCost``,
``UsageDateTime``, ``SubscriptionGuid``), converts with the ``azure`` module too.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import duckdb

from finops_xl.focus import csvfiles, schema
from finops_xl.focus.convert import aws, azure, azure_pairs, gcp, oci, oci_focus
from finops_xl.focus.convert.common import Header
from finops_xl.focus.convert.groups import _SQL, NativeGroup, _reader, _show_periods  # noqa: F401
from finops_xl.errors import IngestError, Notice, Problem
from finops_xl.sources import SourceFile, sql_literal

#: format name → what a user calls it and which columns identify it (for messages).
FORMATS = {
    "aws-cur": ("AWS CUR (legacy)", "lineItem/LineItemType, lineItem/UnblendedCost, bill/PayerAccountId"),
    "aws-cur-athena": ("AWS CUR (legacy, Athena layout)",
                       "line_item_line_item_type, line_item_unblended_cost, resource_tags_user_* columns, "
                       "no product or resource_tags map"),
    "aws-cur2": ("AWS CUR 2.0", "line_item_line_item_type, line_item_unblended_cost, bill_payer_account_id"),
    "azure-actual": ("Azure cost details (actual cost)",
                     "ChargeType, PricingModel, Cost or CostInBillingCurrency, SubscriptionId or "
                     "SubscriptionGuid, Date"),
    "azure-amortized": ("Azure cost details (amortized cost)", "the same columns as the actual-cost export"),
    "azure-usage-legacy": ("Azure legacy usage export",
                           "PreTaxCost, UsageDateTime, SubscriptionGuid, MeterCategory"),
    "gcp-billing": ("Google Cloud BigQuery billing export",
                    "billing_account_id, service.description, sku.id, usage_start_time, cost, credits"),
    "oci-cost": ("Oracle Cloud (OCI) cost report",
                 "lineItem/referenceNo, lineItem/tenantId, lineItem/intervalUsageStart, cost/myCost, "
                 "cost/currencyCode"),
    "oci-focus": ("Oracle Cloud (OCI) FOCUS report", "BilledCost, oci_ReferenceNumber, oci_CompartmentId"),
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
    # (test, what it reads, the format), in the order they are tried: the AWS tests read the names
    for test, columns, fmt in ((aws.is_legacy, names, "aws-cur"), (aws.is_athena, names, "aws-cur-athena"),
                               (aws.is_cur2, names, "aws-cur2"), (gcp.is_billing_export, header, "gcp-billing"),
                               (oci.is_cost_report, header, "oci-cost"),
                               (oci_focus.is_focus_report, header, "oci-focus")):
        if test(columns):
            return fmt
    if azure.is_cost_details(header):
        return azure.dataset_kind(con, source, header)
    return None


def native_groups(
    con: duckdb.DuckDBPyConnection, sources: list[SourceFile]
) -> tuple[list[SourceFile], list[NativeGroup]]:
    """Split input files into FOCUS exports and groups of native exports.

    Raises IngestError naming every file that is neither (with what was expected), and Azure
    actual-cost and amortized-cost exports given together that cover different months.
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
        elif fmt.startswith("azure") and fmt != azure.LEGACY:
            azure_files.append((s, header, fmt))
        else:
            # files of one format, file type and column set convert with one reader
            native.setdefault((fmt, s.format, header.columns), []).append((s, header))
    groups = [NativeGroup(key[0], tuple(m[0] for m in members), members[0][1])
              for key, members in native.items()]
    # Azure: actual + amortized cost together where both are given, either alone otherwise
    groups.extend(azure_pairs.azure_groups(con, azure_files, problems))
    for g in groups:  # values a converter cannot read, named before anything is converted
        check = getattr(_MODULES.get(g.format), "problems", None)
        problems.extend(check(con, g) if check is not None else [])
    for across in dict.fromkeys(getattr(_MODULES.get(g.format), "problems_across", None) for g in groups):
        problems.extend(across(con, groups) if across is not None else [])  # and across groups
    if problems:
        raise IngestError(problems)
    return focus, groups


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
_MODULES = {"aws-cur": aws, "aws-cur-athena": aws, "aws-cur2": aws, "gcp-billing": gcp, "azure": azure,
            azure.ACTUAL: azure, azure.AMORTIZED: azure, azure.LEGACY: azure,
            "oci-cost": oci, "oci-focus": oci_focus}
def group_notices(con: duckdb.DuckDBPyConnection, group: NativeGroup) -> list[Notice]:
    """What converting ``group`` could not determine from its files, or chose for the user (e.g. an
    Azure actual-cost export alone cannot tell the EffectiveCost of reservation-covered usage):
    each converter module may define ``notices(con, group)``. The load goes on; the notices are
    printed and recorded on the slices they concern."""
    fn = getattr(_MODULES.get(group.format), "notices", None)
    padded = csvfiles.padding_notices(con, group.sources) + list(group.notes)
    if fn is None:
        return padded
    try:
        return padded + list(fn(con, group))
    except duckdb.Error:
        retry = csvfiles.one_thread_where_needed(con, group.sources)
        if retry is None:  # the conversion itself names what it cannot read
            csvfiles.check_readable(con, group.sources)
            raise
        return padded + list(fn(con, dataclasses.replace(group, sources=retry)))


def group_hash(hashes: list[str]) -> str:
    """One content hash for a group of files (their own hashes, sorted, hashed again)."""
    if len(hashes) == 1:
        return hashes[0]
    return "sha256:" + hashlib.sha256("\n".join(sorted(hashes)).encode()).hexdigest()
