"""Journal entries: one model for every entry the close posts.

An entry is a set of lines on one date; each line debits or credits one GL account for one cost
center, with a memo and a source reference (what produced it: an accrual, a commitment, a rule).
An entry balances exactly — Σ debits = Σ credits to the cent — or it is an error, never a file.
Amounts are Decimal, in the entry's currency, rounded to the currency's minor unit; debits and
credits are both positive numbers in their own column (the ERP convention).

Mappings from the business to the ledger live in one table (``LedgerMap``): owner → cost center,
service category → expense GL account, plus the balance-sheet accounts the close uses.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path

from finops_xl.names import suggest
from finops_xl.money import round_money

ZERO = Decimal(0)


class UnbalancedEntry(ValueError):
    """An entry whose debits and credits differ; nothing is exported."""


@dataclasses.dataclass(frozen=True)
class Line:
    """One journal line.

    Attributes:
      account: GL account.  cost_center: cost center ('' for balance-sheet lines).
      debit, credit: amounts ≥ 0 in the entry currency (one of them is 0).
      memo: what it is, in words.  source: what produced it (e.g. ``accrual:2025-01:payments``).
    """

    account: str
    cost_center: str
    debit: Decimal
    credit: Decimal
    memo: str
    source: str = ""


@dataclasses.dataclass(frozen=True)
class Entry:
    """A balanced journal entry.

    Attributes:
      id: unique id (e.g. ``ACCR-2025-01``).  date: posting date.  currency: ISO 4217.
      kind: accrual, reversal, true-up, prepaid-purchase, amortization, write-off, …
      lines: its lines.  reverses_on: for auto-reversing entries, the reversal date.
      memo: the entry's description.
    """

    id: str
    date: dt.date
    currency: str
    kind: str
    lines: tuple[Line, ...]
    memo: str = ""
    reverses_on: dt.date | None = None

    def __post_init__(self):
        debits = sum((l.debit for l in self.lines), ZERO)
        credits = sum((l.credit for l in self.lines), ZERO)
        if debits != credits:
            raise UnbalancedEntry(f"entry {self.id} ({self.kind}, {self.date}) does not balance: "
                                  f"debits {debits} ≠ credits {credits}")
        for line in self.lines:
            if line.debit < 0 or line.credit < 0 or (line.debit and line.credit):
                raise UnbalancedEntry(f"entry {self.id}: line {line.account}/{line.cost_center} must "
                                      "have either a positive debit or a positive credit")

    @property
    def total(self) -> Decimal:
        return sum((l.debit for l in self.lines), ZERO)

    def reversal(self, entry_id: str | None = None) -> Entry:
        """The same entry with debits and credits swapped, on ``reverses_on`` (accrual + reversal
        nets to zero, line by line)."""
        if self.reverses_on is None:
            raise ValueError(f"entry {self.id} is not auto-reversing")
        lines = tuple(dataclasses.replace(l, debit=l.credit, credit=l.debit,
                                          memo=f"Reversal: {l.memo}") for l in self.lines)
        return Entry(entry_id or f"{self.id}-REV", self.reverses_on, self.currency, "reversal", lines,
                     f"Reversal of {self.id}")


def entry(id: str, date: dt.date, currency: str, kind: str, debits: Iterable[tuple],
          credits: Iterable[tuple], memo: str = "", reverses_on: dt.date | None = None) -> Entry:
    """Build an entry from (account, cost_center, amount, memo, source) tuples; amounts are rounded
    to the currency's minor unit and zero lines dropped. Raises UnbalancedEntry if it does not
    balance after rounding (round the parts so they add up first, e.g. ``showback.round_parts``)."""
    lines = []
    for side, items in (("debit", debits), ("credit", credits)):
        for account, cost_center, amount, line_memo, *source in items:
            amount = round_money(Decimal(amount), currency)
            if amount == 0:
                continue
            if amount < 0:  # a negative debit is a credit, and the other way round
                side_ = "credit" if side == "debit" else "debit"
                amount = -amount
            else:
                side_ = side
            lines.append(Line(account, cost_center or "", amount if side_ == "debit" else ZERO,
                              amount if side_ == "credit" else ZERO, line_memo,
                              source[0] if source else ""))
    return Entry(id, date, currency, kind, tuple(lines), memo, reverses_on)


@dataclasses.dataclass(frozen=True)
class LedgerMap:
    """Where amounts post.

    Attributes:
      cost_centers: owner → cost center (unknown owners post to ``default_cost_center``).
      expense_accounts: service category → GL account (others to ``expense_account``).
      expense_account, accrued_liabilities, accounts_payable, prepaid_current, prepaid_noncurrent,
      cash: the default GL accounts.  receivable: a refund the provider owes (commitment termination).
      entity: the company / subsidiary the journal posts in.  central_cost_center: where cloud cost
      lands before chargeback.  asset_under_construction, capitalized_software,
      accumulated_amortization, software_amortization: capitalization (``close.capitalization``).
      fx_difference: the reporting-currency translation difference (``close.reporting_currency``).
    """

    cost_centers: Mapping[str, str] = dataclasses.field(default_factory=dict)
    expense_accounts: Mapping[str, str] = dataclasses.field(default_factory=dict)
    default_cost_center: str = "UNASSIGNED"
    expense_account: str = "6100 Cloud services"
    accrued_liabilities: str = "2150 Accrued liabilities"
    accounts_payable: str = "2000 Accounts payable"
    prepaid_current: str = "1400 Prepaid expenses (current)"
    prepaid_noncurrent: str = "1450 Prepaid expenses (non-current)"
    cash: str = "1000 Cash"
    receivable: str = "1300 Receivable from cloud providers"
    entity: str = "MAIN"
    central_cost_center: str = "CLOUD-CENTRAL"
    asset_under_construction: str = "1700 Software under construction"
    capitalized_software: str = "1710 Internal-use software"
    accumulated_amortization: str = "1719 Accumulated amortization of software"
    software_amortization: str = "6800 Amortization of capitalized software"
    fx_difference: str = "7900 Currency translation difference"

    def cost_center(self, owner: str | None) -> str:
        return self.cost_centers.get(owner or "", self.default_cost_center)

    def account(self, service_category: str | None) -> str:
        return self.expense_accounts.get(service_category or "", self.expense_account)


def _xlsx_rows(path: Path) -> io.StringIO:
    """The close workbook's "Ledger map" sheet (header kind, key, value) as CSV text."""
    from openpyxl import load_workbook

    wb = load_workbook(path, read_only=True, data_only=True)
    if "Ledger map" not in wb.sheetnames:
        raise ValueError(f"{path}: no sheet named 'Ledger map' (the close workbook's ledger map sheet); "
                         f"sheets: {', '.join(wb.sheetnames)}")
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    started = False
    for row in wb["Ledger map"].iter_rows(values_only=True):
        cells = ["" if v is None else str(v) for v in row[:3]]
        if not started:
            started = cells == ["kind", "key", "value"]
            if started:
                w.writerow(cells)
            continue
        if any(cells):
            w.writerow(cells)
    if not started:
        raise ValueError(f"{path}: sheet 'Ledger map' has no header row kind, key, value")
    out.seek(0)
    return out


def load_ledger_map(path: str | Path) -> LedgerMap:
    """A LedgerMap from a CSV with columns ``kind, key, value`` — or the close workbook's "Ledger
    map" sheet (.xlsx, edited in Excel): kind ``cost_center`` (owner → cost center), ``account``
    (service category → GL account) or ``default`` (key = one of the LedgerMap default fields).
    Line numbers of a workbook count from its header row."""
    path = Path(path)
    centers, accounts, defaults = {}, {}, {}
    fields = {f.name for f in dataclasses.fields(LedgerMap)} - {"cost_centers", "expense_accounts"}
    opened = _xlsx_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else \
        path.open(newline="", encoding="utf-8-sig")
    with opened as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("kind", "key", "value") if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: line 1: the header needs the columns kind, key, value; "
                             f"{', '.join(missing)} missing (found {', '.join(reader.fieldnames or ()) or 'none'})")
        for row in reader:
            line = reader.line_num
            kind, key, value = ((row.get(c) or "").strip() for c in ("kind", "key", "value"))
            if kind == "cost_center":
                centers[key] = value
            elif kind == "account":
                accounts[key] = value
            elif kind == "default":
                if key not in fields:
                    raise ValueError(f"{path}: line {line}: column key: {key!r} is not a default the ledger "
                                     f"map has{suggest(key, fields)} (defaults: {', '.join(sorted(fields))})")
                defaults[key] = value
            else:
                raise ValueError(f"{path}: line {line}: column kind: {kind!r} is not a kind{suggest(kind, KINDS)} "
                                 f"(kinds: cost_center = owner → cost center, account = service category → "
                                 "GL account, default = one of the map's default accounts)")
    return LedgerMap(centers, accounts, **defaults)


#: The kinds of row a ledger map CSV holds.
KINDS = ("cost_center", "account", "default")


CSV_COLUMNS = ("entry_id", "date", "kind", "account", "cost_center", "debit", "credit", "currency",
               "memo", "source", "reverses_on")


def to_csv(entries: Iterable[Entry]) -> str:
    """Entries as CSV lines for ERP import (one row per line; every entry re-checked to balance)."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in entries:
        Entry(e.id, e.date, e.currency, e.kind, e.lines, e.memo, e.reverses_on)  # re-check
        for l in e.lines:
            w.writerow([e.id, e.date.isoformat(), e.kind, l.account, l.cost_center,
                        f"{round_money(l.debit, e.currency)}", f"{round_money(l.credit, e.currency)}",
                        e.currency, l.memo, l.source,
                        e.reverses_on.isoformat() if e.reverses_on else ""])
    return out.getvalue()
