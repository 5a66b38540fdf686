"""The close journal as the CSV an ERP imports: one balanced file per close, in one of three layouts.

Every layout gets the same entries (``close.month_entries.close_entries``) and differs only in its
columns, the field lengths it enforces and how it represents an auto-reversing accrual:

``generic`` (default)
    columns ``entry_id, date, period, entity, account, account_name, cost_center, debit, credit,
    currency, memo, kind, source``. The account number and its name are separate columns (a ledger
    map account ``"6100 Cloud services"`` → ``6100`` and ``Cloud services``). A reversal is its own
    entry (kind ``reversal``, dated on the reversal day); no line carries a reversal flag, so an
    importer cannot reverse twice.
``netsuite``
    NetSuite's journal-entry CSV import (Oracle NetSuite Help, "Journal Entry and Intercompany Journal
    Entry Header Fields Table" and "... Line-Level Fields Table"): ``External ID, Date, Posting
    Period, Subsidiary, Currency, Reversal Date, Memo, Account, Debit, Credit, Line Memo,
    Department``. Documented there: each entry needs ≥ 2 lines and balancing debits and credits;
    Debit and Credit are numbers of at most 10 digits before the decimal point and 2 after (field
    size 13); with the "Use Account Numbers" preference, Account holds number and name
    (``6100 Cloud services``) or the number alone. A reversal is the header's **Reversal Date**
    (NetSuite posts the reversing entry itself), so reversal entries are not written. Assumed (not
    stated in the tables we read): the date as ``MM/DD/YYYY`` (it must match the importing user's
    date preference), the period name as ``Mon YYYY`` (NetSuite's default period names), the cost
    center as the Department segment, memos cut at 999 characters.
``sap``
    a general-ledger upload template as SAP's document posting (FB50 / ``BAPI_ACC_DOCUMENT_POST``)
    takes it, one row per line item, with the data-dictionary field names and lengths of the
    document header BKPF and line items BSEG: ``BUKRS`` company code (4), ``BLDAT`` document date
    and ``BUDAT`` posting date (8, ``YYYYMMDD``), ``MONAT`` period (2), ``BLART`` document type (2,
    ``SA`` G/L account document), ``WAERS`` currency (5), ``XBLNR`` reference (16) = entry id,
    ``BKTXT`` header text (25), ``BSCHL`` posting key (2: ``40`` debit, ``50`` credit), ``HKONT``
    G/L account (10, the number only), ``WRBTR`` amount (13 digits, 2 decimals), ``KOSTL`` cost
    center (10), ``SGTXT`` item text (50), ``ZUONR`` assignment (18). The lengths of BUKRS, BELNR,
    BLART, BLDAT, BUDAT, MONAT, HKONT, KOSTL and BSCHL are those the BKPF / BSEG table references
    list; those of XBLNR, BKTXT, SGTXT and ZUONR are the standard data-dictionary lengths, not
    re-checked against a system. A reversal is its own document (SAP reverses a posted document
    with FB08; an upload carries no auto-reversal flag). Codes longer than their field (company
    code, account, cost center, reference) are refused with the value named; texts are cut.

Cells: every text cell that a spreadsheet would read as a formula — starting with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return — is written with a leading single quote (OWASP, "CSV
Injection"), so a tag value ``=1+1`` stays text when the file is opened in Excel. Amounts are
written by finops-xl as plain numbers and never prefixed.

Entry ids are short and stable: an id longer than 24 characters (an amortization entry named after a
150-character commitment ARN) becomes its prefix (kind and month) and the first 8 hex digits of the
SHA-256 of the whole id: ``AMORT-2025-05-3F9A01C2``. The full reference stays in ``source``.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import io
import re
from collections.abc import Iterable, Sequence
from decimal import Decimal

from finops_xl.close.journal import Entry
from finops_xl.money import round_money

FORMATS = ("generic", "netsuite", "sap")
#: Longest entry id kept as it is.
MAX_ID = 24
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PREFIX = re.compile(r"^([A-Z]+(?:-\d{4}-\d{2})?)-(.+)$")

GENERIC_COLUMNS = ("entry_id", "date", "period", "entity", "account", "account_name", "cost_center",
                   "debit", "credit", "currency", "memo", "kind", "source")
NETSUITE_COLUMNS = ("External ID", "Date", "Posting Period", "Subsidiary", "Currency", "Reversal Date",
                    "Memo", "Account", "Debit", "Credit", "Line Memo", "Department")
#: SAP column → (length, refuse when longer: True for codes, False: cut texts).
SAP_FIELDS = {"BUKRS": (4, True), "BLDAT": (8, True), "BUDAT": (8, True), "MONAT": (2, True),
              "BLART": (2, True), "WAERS": (5, True), "XBLNR": (16, True), "BKTXT": (25, False),
              "BSCHL": (2, True), "HKONT": (10, True), "WRBTR": (16, True), "KOSTL": (10, True),
              "SGTXT": (50, False), "ZUONR": (18, False)}
SAP_COLUMNS = tuple(SAP_FIELDS)
#: NetSuite Debit / Credit: at most 10 digits before the decimal point and 2 after.
NETSUITE_MAX_AMOUNT = Decimal("9999999999.99")
NETSUITE_MEMO = 999


class JournalFormatError(ValueError):
    """A value the chosen ERP layout cannot hold (the message names it and the fix)."""


def safe_cell(value: object) -> str:
    """Text for a CSV cell that no spreadsheet evaluates (OWASP CSV-injection rule)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def short_id(entry_id: str) -> str:
    """A stable id of at most ``MAX_ID + 1`` characters (see the module docstring)."""
    if len(entry_id) <= MAX_ID:
        return entry_id
    digest = hashlib.sha256(entry_id.encode("utf-8")).hexdigest()[:8].upper()
    m = _PREFIX.match(entry_id)
    prefix = m.group(1) if m else entry_id[:12].rstrip("-")
    return f"{prefix}-{digest}"


def sap_reference(entry_id: str) -> str:
    """The entry id as SAP's 16-character reference (XBLNR): the short id when it fits, else the
    first 4 letters of its kind, the month as YYMM and 8 hex digits of its hash (16 characters)."""
    s = short_id(entry_id)
    if len(s) <= 16:
        return s
    digest = hashlib.sha256(entry_id.encode("utf-8")).hexdigest()[:8].upper()
    m = re.match(r"^([A-Z]+)-?(?:(\d{2})(\d{2})-(\d{2}))?", entry_id)
    kind = (m.group(1) if m else "JE")[:4]
    yymm = f"{m.group(3)}{m.group(4)}" if m and m.group(2) else ""
    return f"{kind}{yymm}{digest}"[:16]


def split_account(account: str) -> tuple[str, str]:
    """``"6100 Cloud services"`` → ``("6100", "Cloud services")``; an account without a number
    before its name is its own number and has no name."""
    head, _, rest = account.strip().partition(" ")
    if rest and any(ch.isdigit() for ch in head):
        return head, rest.strip()
    return account.strip(), ""


def for_export(entries: Iterable[Entry], reversal: str) -> list[Entry]:
    """The entries with reversals represented one way only: ``reversal="entry"`` — every
    auto-reversing entry is followed by its reversal entry (added when missing) and no entry keeps a
    reversal flag; ``"flag"`` — reversal entries of flagged entries are dropped (the flag posts them)."""
    entries = list(entries)
    flagged = {e.id for e in entries if e.reverses_on}
    out: list[Entry] = []
    if reversal == "flag":
        reversal_ids = {f"{i}-REV" for i in flagged}
        return [e for e in entries if not (e.kind == "reversal" and e.id in reversal_ids)]
    present = {e.id for e in entries}
    for e in entries:
        out.append(dataclasses.replace(e, reverses_on=None) if e.reverses_on else e)
        if e.reverses_on and f"{e.id}-REV" not in present:
            out.append(e.reversal())
    return out


def _checked(entries: Sequence[Entry]) -> None:
    for e in entries:
        Entry(e.id, e.date, e.currency, e.kind, e.lines, e.memo, e.reverses_on)  # re-check balance
    ids: dict[str, str] = {}
    for e in entries:
        s = short_id(e.id)
        if ids.setdefault(s, e.id) != e.id:
            raise JournalFormatError(f"entries {ids[s]} and {e.id} share the short id {s}: rename one")


def to_erp_csv(entries: Iterable[Entry], fmt: str = "generic", *, entity: str = "MAIN") -> str:
    """The entries as one CSV in layout ``fmt`` (``FORMATS``); raises JournalFormatError for a value
    the layout cannot hold, UnbalancedEntry for an entry that does not balance."""
    if fmt not in FORMATS:
        raise JournalFormatError(f"journal format {fmt!r} is not one of {', '.join(FORMATS)}")
    entries = for_export(entries, "flag" if fmt == "netsuite" else "entry")
    _checked(entries)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    if fmt == "generic":
        w.writerow(GENERIC_COLUMNS)
        for e in entries:
            for line in e.lines:
                number, name = split_account(line.account)
                w.writerow([safe_cell(short_id(e.id)), e.date.isoformat(), f"{e.date:%Y-%m}", safe_cell(entity),
                            safe_cell(number), safe_cell(name), safe_cell(line.cost_center),
                            _amount(line.debit, e.currency), _amount(line.credit, e.currency), e.currency,
                            safe_cell(line.memo), e.kind, safe_cell(line.source)])
    elif fmt == "netsuite":
        w.writerow(NETSUITE_COLUMNS)
        for e in entries:
            for line in e.lines:
                for side in (line.debit, line.credit):
                    if side > NETSUITE_MAX_AMOUNT:
                        raise JournalFormatError(
                            f"entry {e.id}: amount {side} exceeds NetSuite's 10 digits before the decimal "
                            "point: split the entry")
                w.writerow([safe_cell(short_id(e.id)), f"{e.date:%m/%d/%Y}", f"{e.date:%b %Y}",
                            safe_cell(entity), e.currency,
                            f"{e.reverses_on:%m/%d/%Y}" if e.reverses_on else "",
                            safe_cell(e.memo[:NETSUITE_MEMO]), safe_cell(line.account),
                            _amount(line.debit, e.currency, blank_zero=True),
                            _amount(line.credit, e.currency, blank_zero=True),
                            safe_cell(line.memo[:NETSUITE_MEMO]), safe_cell(line.cost_center)])
    else:
        w.writerow(SAP_COLUMNS)
        for e in entries:
            for line in e.lines:
                debit = line.debit > 0
                row = {"BUKRS": entity, "BLDAT": f"{e.date:%Y%m%d}", "BUDAT": f"{e.date:%Y%m%d}",
                       "MONAT": f"{e.date:%m}", "BLART": "SA", "WAERS": e.currency, "XBLNR": sap_reference(e.id),
                       "BKTXT": e.memo or e.kind, "BSCHL": "40" if debit else "50",
                       "HKONT": split_account(line.account)[0],
                       "WRBTR": _amount(line.debit if debit else line.credit, e.currency),
                       "KOSTL": line.cost_center, "SGTXT": line.memo, "ZUONR": short_id(e.id)}
                w.writerow([safe_cell(_sap_field(k, v, e)) for k, v in row.items()])
    return out.getvalue()


def _sap_field(name: str, value: str, e: Entry) -> str:
    length, strict = SAP_FIELDS[name]
    if len(value) <= length:
        return value
    if strict:
        raise JournalFormatError(f"entry {e.id}: SAP field {name} holds at most {length} characters, "
                                 f"{value!r} has {len(value)}: map it to a shorter code in the ledger map")
    return value[:length]


def _amount(value: Decimal, currency: str, *, blank_zero: bool = False) -> str:
    if blank_zero and not value:
        return ""
    return f"{round_money(value, currency)}"


def journal_rows(text: str) -> list[dict[str, str]]:
    """A written journal read back (for checks): one dict per line."""
    return list(csv.DictReader(io.StringIO(text)))


def period_of(day: dt.date) -> str:
    return f"{day:%Y-%m}"
