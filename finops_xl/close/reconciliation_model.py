"""What an invoice reconciliation reads and gives: invoices and the AP list, reconciling items and
the result (``reconciliation`` re-exports them)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable
from decimal import Context, Decimal, InvalidOperation, localcontext
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb

from finops_xl.inputs import InputError, csv_rows
from finops_xl.months import add_months, as_month  # noqa: F401 - re-exported
from finops_xl.store.errors import Problem
from finops_xl.store.sources import sql_literal

if TYPE_CHECKING:
    pass


ZERO = Decimal(0)
#: Arithmetic context for sums of DECIMAL(38,12) amounts: wide enough that + and − are exact (the
#: default 28 digits would round a 38-digit amount).
EXACT = Context(prec=100)

#: Reconciling-item categories, in statement order.
CATEGORIES = ("tax", "credit", "marketplace", "rounding", "fx", "missing_data", "timing", "restatement",
              "unexplained")
#: Categories that can be booked on their own lines (``reconcile(separate=...)``).
SEPARABLE = ("tax", "credit", "marketplace")

_LABELS = {
    "tax": "Tax", "credit": "Credits", "marketplace": "Marketplace", "rounding": "Rounding",
    "fx": "FX", "missing_data": "Missing data", "timing": "Timing", "restatement": "Restatement after close",
    "unexplained": "Unexplained",
}

#: AP list columns: required, then optional.
AP_COLUMNS = ("invoice_id", "date", "amount", "currency")
AP_OPTIONAL = ("fx_rate", "issuer", "billing_account")


# ---- months ---------------------------------------------------------------------------------------


def sql_timestamp(d: dt.date | dt.datetime) -> str:
    """A date (midnight) or naive-UTC datetime as a SQL TIMESTAMP literal."""
    if isinstance(d, dt.datetime):
        return f"TIMESTAMP '{d.replace(tzinfo=None).isoformat(sep=' ')}'"
    return f"TIMESTAMP '{d.isoformat()} 00:00:00'"


def _in_list(values: Iterable[str]) -> str:
    values = sorted(set(values))
    return "(" + ", ".join(sql_literal(v) for v in values) + ")" if values else "(NULL)"


# ---- invoices and the AP list --------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Invoice:
    """One invoice as the payer sees it.

    Attributes:
      invoice_id: as the provider prints it (matches ``charges.InvoiceId``).
      amount: the invoice total in ``currency`` (spend positive).
      currency: ISO 4217 code of the invoice.
      date: invoice date (AP lists); None for invoices taken from the data.
      issuer, billing_account: who issued it and for which account (informational).
      fx_rate: units of the billing currency per unit of ``currency``, when they differ (the rate
        AP booked it at); None to take it from ``reconcile(fx_rates=...)``.
      source: where it came from (``data`` or ``<file>, row N``).
    """

    invoice_id: str
    amount: Decimal
    currency: str
    date: dt.date | None = None
    issuer: str | None = None
    billing_account: str | None = None
    fx_rate: Decimal | None = None
    source: str = ""


class APListError(InputError):
    """An AP list that cannot be used; ``problems`` names file, row and column of each."""

    what = "the AP list"


_AMOUNT = re.compile(r"-?(\d+|\d{1,3}(,\d{3})+)(\.\d+)?")


def parse_amount(text: str) -> Decimal | None:
    """A decimal amount as written in a CSV (``1234.5``, ``-1,234.50``); None if it is not one."""
    text = text.strip()
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return Decimal(text.replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
        return None


def amount_field(val: dict[str, str], column: str, problems: list[Problem], label: str,
                 row: int) -> Decimal | None:
    """The row's ``column`` as an amount (``parse_amount``), or None with the problem noted."""
    amount = parse_amount(val[column])
    if amount is None:
        problems.append(Problem(label, "not a number (use e.g. 1234.56)", row=row, column=column,
                                value=val[column]))
    return amount


def load_ap_list(path: str | Path) -> tuple[Invoice, ...]:
    """Invoices from an AP (accounts payable) list CSV.

    Columns (header names are case-insensitive): ``invoice_id``, ``date`` (YYYY-MM-DD), ``amount``
    (plain decimal; ``1,234.50`` thousands separators accepted), ``currency`` (ISO 4217); optional
    ``fx_rate`` (billing currency per unit of the invoice currency), ``issuer``, ``billing_account``.

    Raises APListError listing every problem with its file, data row (1-based, header excluded) and
    column. Nothing is returned from a file with any problem.
    """
    from finops_xl.focus.reader import iso_currency_codes

    label = str(path)
    problems: list[Problem] = []
    invoices: list[Invoice] = []
    seen: dict[str, int] = {}
    currencies = iso_currency_codes()
    for i, val in csv_rows(path, AP_COLUMNS, AP_OPTIONAL, APListError):
        bad = len(problems)
        if not val["invoice_id"]:
            problems.append(Problem(label, "empty invoice_id", row=i, column="invoice_id"))
        elif val["invoice_id"] in seen:
            problems.append(Problem(label, f"invoice_id repeats row {seen[val['invoice_id']]}",
                                    row=i, column="invoice_id", value=val["invoice_id"]))
        else:
            seen[val["invoice_id"]] = i
        try:
            date = dt.date.fromisoformat(val["date"])
        except ValueError:
            date = None
            problems.append(Problem(label, "not a date (use YYYY-MM-DD)", row=i, column="date",
                                    value=val["date"]))
        amount = amount_field(val, "amount", problems, label, i)
        currency = val["currency"].upper()
        if currency not in currencies:
            problems.append(Problem(label, "not an ISO 4217 currency code (e.g. USD)", row=i,
                                    column="currency", value=val["currency"]))
        rate = None
        if val.get("fx_rate"):
            rate = parse_amount(val["fx_rate"])
            if rate is None or rate <= 0:
                problems.append(Problem(label, "fx_rate must be a positive number", row=i,
                                        column="fx_rate", value=val["fx_rate"]))
        if len(problems) == bad:
            invoices.append(Invoice(val["invoice_id"], amount, currency, date,
                                    val.get("issuer") or None, val.get("billing_account") or None,
                                    rate, f"{label}, row {i}"))
    if problems:
        raise APListError(problems)
    return tuple(invoices)


# ---- results --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class InvoiceLine:
    """One invoice of the month and the store rows it bills.

    Attributes:
      invoice: the invoice.  amount: its total in the reconciliation's currency.
      rows, charges: the store rows carrying its InvoiceId and Σ of their BilledCost.
    """

    invoice: Invoice
    amount: Decimal
    rows: int
    charges: Decimal


@dataclasses.dataclass(frozen=True)
class ReconcilingItem:
    """One reconciling item: what it adds from the allocated total to the invoice total.

    Attributes:
      category: one of ``CATEGORIES``.
      amount: in the reconciliation's currency (exact Decimal).
      description: what it is, in words.
      invoice_id: the invoice it concerns (None for month-level items).
      rows: how many source rows ``sql`` returns.
      sql: a self-contained query returning the item's source rows, so it can be walked back:
        ``charges`` rows for row items (amount = ``sign`` × Σ BilledCost) and for invoice items
        (the invoice's rows; see ``reference``); ``slice_history`` versions for restatements
        (amount = Σ BilledCost where ``version = 'current'`` − where ``version = 'at close'``).
      sign: for row items, +1 or −1; 0 for the others.
      reference: for invoice items, the invoice amount in the reconciliation's currency.
    """

    category: str
    amount: Decimal
    description: str
    invoice_id: str | None
    rows: int
    sql: str
    sign: int = 0
    reference: Decimal | None = None

    def source_rows(self, con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyRelation:
        """The rows behind the item (a DuckDB relation over ``con``)."""
        return con.sql(self.sql)


@dataclasses.dataclass(frozen=True)
class Reconciliation:
    """The month's invoice-to-allocation statement.

    Attributes:
      month, currency: the billing month (first day) and billing currency.
      basis: ``allocation`` or ``charges`` (no allocation in the store: its charges stand in).
      basis_note: the comparison basis in words (which allocation run, which loads, the close).
      invoices: the month's invoices.  invoice_total: Σ of their amounts in ``currency``.
      allocated_gross: Σ allocated BilledCost for the month (or the charges standing in for it).
      allocated_total: allocated_gross less the ``separate`` items (what the statement compares).
      separate: categories booked on their own lines.
      items: the reconciling items, in ``CATEGORIES`` order.
      notes: anything the reader should know (skipped invoices, assumptions).
    """

    month: dt.date
    currency: str
    basis: str
    basis_note: str
    invoices: tuple[InvoiceLine, ...]
    invoice_total: Decimal
    allocated_gross: Decimal
    allocated_total: Decimal
    separate: tuple[str, ...]
    items: tuple[ReconcilingItem, ...]
    notes: tuple[str, ...] = ()

    @property
    def difference(self) -> Decimal:
        """invoice total − allocated total − Σ items: 0 exactly when the statement ties."""
        with localcontext(EXACT):
            return self.invoice_total - self.allocated_total - sum((i.amount for i in self.items), ZERO)

    @property
    def ties(self) -> bool:
        return self.difference == 0

    def by_category(self) -> dict[str, Decimal]:
        """Every category (zeros included, so ``unexplained`` always shows) → its total."""
        out = {c: ZERO for c in CATEGORIES}
        with localcontext(EXACT):
            for i in self.items:
                out[i.category] += i.amount
        return out

    def summary(self) -> tuple[tuple[str, Decimal], ...]:
        """The statement as (label, amount) lines for a sheet, exact (round when presenting)."""
        alloc = "Allocated total" if self.basis == "allocation" else "Store charges (no allocation)"
        if self.separate:
            alloc += " excl. " + ", ".join(_LABELS[c].lower() for c in self.separate)
        lines = [("Invoice total", self.invoice_total), (alloc, self.allocated_total)]
        lines += [(_LABELS[c], v) for c, v in self.by_category().items()]
        lines.append(("Difference", self.difference))
        return tuple(lines)
