"""Invoices for the reconciliation (``finops-xl close --invoice FILE``), in any of the layouts read:

- **AP list** (CSV, ``reconciliation.load_ap_list``): ``invoice_id, date, amount, currency`` and
  optional ``fx_rate, issuer, billing_account``.
- **AWS** (JSON): the response of the Invoicing API's ``ListInvoiceSummaries``, as
  ``aws invoicing list-invoice-summaries --selector ResourceType=ACCOUNT_ID,Value=<id> --filter
  BillingPeriod={Month=3,Year=2025}`` prints it: ``{"InvoiceSummaries": [...]}``. Per summary
  (AWS Billing and Cost Management API Reference, InvoiceSummary and InvoiceCurrencyAmount):
  ``InvoiceId`` → invoice id; ``BaseCurrencyAmount.TotalAmount`` (the amount charged after tax, in
  the product and service currency — the currency the billing data is in) and
  ``BaseCurrencyAmount.CurrencyCode`` → amount and currency; ``IssuedDate`` (ISO 8601 or epoch
  seconds) → date; ``AccountId`` → billing account; ``Entity.InvoicingEntity`` → issuer.
  ``PaymentCurrencyAmount`` (the customer's payment currency) is not read. Reference:
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_invoicing_InvoiceSummary.html
- **Azure** (JSON): the Billing REST API's *Invoices - List By Billing Account / Billing Profile*
  response ``{"value": [...]}``, or the bare list ``az billing invoice list`` prints. Per invoice:
  ``name`` → invoice id; ``properties.billedAmount`` {``currency``, ``value``} (the total charges of
  the invoice period) → amount and currency; ``properties.invoiceDate`` → date;
  ``properties.billingProfileId`` → billing account; issuer ``Microsoft``. Reference:
  https://learn.microsoft.com/en-us/rest/api/billing/invoices/list-by-billing-account

Neither AWS nor Azure documents the columns of the invoice CSV its console downloads, so no such
layout is guessed: a CSV without the AP list's columns is refused, naming the file, row 1, the
columns it has and the layouts to give instead. Every refusal is one line naming the file, the
entry (``InvoiceSummaries[3]``, ``value[0]``) or row, and the field.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from finops_xl.close.reconciliation import AP_COLUMNS, APListError, Invoice, load_ap_list

_LAYOUTS = ("an AP list CSV (invoice_id, date, amount, currency), the JSON of "
            "`aws invoicing list-invoice-summaries`, or the JSON of `az billing invoice list` "
            "(the Billing REST API's invoice list)")


class InvoiceFileError(ValueError):
    """An invoice file that cannot be read (one line: file, entry or row, field, and the fix)."""


def load_invoices(path: str | Path) -> tuple[Invoice, ...]:
    """The invoices of ``path`` in any layout the module docstring lists.

    Raises InvoiceFileError (or ``reconciliation.APListError`` for a bad AP list row); nothing is
    returned from a file with a problem."""
    path = Path(path)
    if not path.is_file():
        raise InvoiceFileError(f"{path}: no such file: give the invoices as {_LAYOUTS}")
    text = path.read_text(encoding="utf-8-sig")
    if text.lstrip().startswith(("{", "[")):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvoiceFileError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}): give {_LAYOUTS}") from None
        if isinstance(data, dict) and isinstance(data.get("InvoiceSummaries"), list):
            return tuple(_aws(path, i, s) for i, s in enumerate(data["InvoiceSummaries"]))
        items = data.get("value") if isinstance(data, dict) else data
        if isinstance(items, list) and all(isinstance(v, dict) and "properties" in v for v in items):
            return tuple(_azure(path, i, v) for i, v in enumerate(items))
        raise InvoiceFileError(f"{path}: neither the AWS ListInvoiceSummaries response (InvoiceSummaries) "
                               f"nor an Azure invoice list (value[].properties): give {_LAYOUTS}")
    header = text.splitlines()[0] if text.strip() else ""
    names = [h.strip() for h in next(csv.reader([header]), [])]
    missing = [c for c in AP_COLUMNS if c not in {n.lower().replace(" ", "_") for n in names}]
    if missing:
        raise InvoiceFileError(
            f"{path}: row 1: not an AP list: column(s) {', '.join(missing)} missing (the header has: "
            f"{', '.join(names) or 'nothing'}); the providers do not document their console's invoice CSV, "
            f"so it is not read: give {_LAYOUTS}")
    try:
        return load_ap_list(path)
    except APListError as exc:
        raise InvoiceFileError(" ".join(str(exc).split())) from None


def _field(path: Path, where: str, obj: dict, dotted: str, required: bool = True):
    value = obj
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value in (None, "") and required:
        raise InvoiceFileError(f"{path}: {where}: field {dotted} is missing: the listing must hold it for "
                               "every invoice (export it again, or give an AP list CSV)")
    return value


def _amount(path: Path, where: str, dotted: str, value) -> Decimal:
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or isinstance(value, bool):
        raise InvoiceFileError(f"{path}: {where}: field {dotted}: {value!r} is not a number (e.g. 1234.56)")
    return amount


def _currency(path: Path, where: str, dotted: str, value) -> str:
    code = str(value).strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise InvoiceFileError(f"{path}: {where}: field {dotted}: {value!r} is not an ISO 4217 code (e.g. USD)")
    return code


def _date(path: Path, where: str, dotted: str, value) -> dt.date:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.datetime.fromtimestamp(value, dt.timezone.utc).date()
    try:
        return dt.datetime.fromisoformat(str(value).strip()[:19]).date()
    except ValueError:
        raise InvoiceFileError(f"{path}: {where}: field {dotted}: {value!r} is not a date "
                               "(ISO 8601 or epoch seconds)") from None


def _aws(path: Path, i: int, s) -> Invoice:
    where = f"InvoiceSummaries[{i}]"
    if not isinstance(s, dict):
        raise InvoiceFileError(f"{path}: {where}: not an invoice summary object")
    return _invoice(path, where, s, invoice_id="InvoiceId", amount="BaseCurrencyAmount.TotalAmount",
                    currency="BaseCurrencyAmount.CurrencyCode", date="IssuedDate",
                    issuer=_field(path, where, s, "Entity.InvoicingEntity", required=False) or None,
                    account="AccountId")


def _azure(path: Path, i: int, v: dict) -> Invoice:
    return _invoice(path, f"value[{i}]", v, invoice_id="name", amount="properties.billedAmount.value",
                    currency="properties.billedAmount.currency", date="properties.invoiceDate",
                    issuer="Microsoft", account="properties.billingProfileId")


def _invoice(path: Path, where: str, obj: dict, *, invoice_id: str, amount: str, currency: str,
             date: str, issuer: str | None, account: str) -> Invoice:
    """One invoice of a provider listing, from the dotted fields that hold its parts (the issuer is
    given: read from the entry, or the provider itself)."""
    value = _amount(path, where, amount, _field(path, where, obj, amount))
    code = _currency(path, where, currency, _field(path, where, obj, currency))
    issued = _field(path, where, obj, date, required=False)
    return Invoice(str(_field(path, where, obj, invoice_id)), value, code,
                   _date(path, where, date, issued) if issued not in (None, "") else None,
                   issuer, _field(path, where, obj, account, required=False) or None, None,
                   f"{path}, {where}")
