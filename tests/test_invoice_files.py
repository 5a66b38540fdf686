"""``--invoice`` reads, besides the AP list, the providers' own documented invoice listings:

- AWS: the response of the Invoicing API's ListInvoiceSummaries (``aws invoicing
  list-invoice-summaries``), fields as documented in the AWS Billing and Cost Management API
  Reference — InvoiceSummary (InvoiceId, AccountId, IssuedDate, BillingPeriod, Entity,
  BaseCurrencyAmount) and InvoiceCurrencyAmount (TotalAmount, CurrencyCode):
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_invoicing_InvoiceSummary.html
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_invoicing_InvoiceCurrencyAmount.html
  https://docs.aws.amazon.com/aws-cost-management/latest/APIReference/API_invoicing_Entity.html
- Azure: the Billing REST API's Invoices - List By Billing Account response (``value[]`` of invoices,
  ``name`` and ``properties`` invoiceDate, billedAmount {currency, value}, billingProfileId):
  https://learn.microsoft.com/en-us/rest/api/billing/invoices/list-by-billing-account
  https://learn.microsoft.com/en-us/javascript/api/@azure/arm-billing/invoiceproperties

Neither provider documents the columns of its console's invoice CSV download, so a CSV that is not
an AP list is refused, naming the file, the row and the columns, and what to give instead.
The invoice values below are typed into the test files and read back."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from finops_xl.cli import main
from finops_xl.close.invoice_files import InvoiceFileError, load_invoices
from tests.conftest import refusal
from tests.test_accruals import charge, write

D = Decimal

AWS = {"InvoiceSummaries": [
    {"AccountId": "111122223333", "InvoiceId": "EUINGB25-123456", "IssuedDate": "2025-04-02T00:00:00+00:00",
     "BillingPeriod": {"Month": 3, "Year": 2025}, "InvoiceType": "INVOICE",
     "Entity": {"InvoicingEntity": "Amazon Web Services EMEA SARL"},
     "BaseCurrencyAmount": {"TotalAmount": "310.00", "TotalAmountBeforeTax": "300.00", "CurrencyCode": "USD"},
     "PaymentCurrencyAmount": {"TotalAmount": "2852.00", "CurrencyCode": "NOK"}},
    {"AccountId": "111122223333", "InvoiceId": "EUINGB25-123457", "IssuedDate": 1743552000,
     "BillingPeriod": {"Month": 3, "Year": 2025},
     "BaseCurrencyAmount": {"TotalAmount": "12.34", "CurrencyCode": "USD"}},
]}

AZURE = {"value": [
    {"id": "/providers/Microsoft.Billing/billingAccounts/ba1/billingProfiles/bp1/invoices/G012345678",
     "name": "G012345678", "type": "Microsoft.Billing/billingAccounts/billingProfiles/invoices",
     "properties": {"invoiceDate": "2025-04-05T00:00:00.0000000Z", "billingProfileId": "/providers/bp1",
                    "billedAmount": {"currency": "EUR", "value": 155.0},
                    "amountDue": {"currency": "EUR", "value": 155.0},
                    "invoicePeriodStartDate": "2025-03-01T00:00:00.0000000Z",
                    "invoicePeriodEndDate": "2025-03-31T00:00:00.0000000Z"}},
]}


def test_aws_list_invoice_summaries(tmp_path):
    path = tmp_path / "aws-invoices.json"
    path.write_text(json.dumps(AWS))
    first, second = load_invoices(path)
    assert (first.invoice_id, first.amount, first.currency, first.date) == (
        "EUINGB25-123456", D("310.00"), "USD", dt.date(2025, 4, 2))
    assert first.billing_account == "111122223333" and first.issuer == "Amazon Web Services EMEA SARL"
    # IssuedDate as epoch seconds (the API's timestamp): 1743552000 = 2025-04-02T00:00:00Z
    assert (second.invoice_id, second.amount, second.date) == ("EUINGB25-123457", D("12.34"), dt.date(2025, 4, 2))
    assert "InvoiceSummaries[1]" in second.source


def test_azure_invoices_list(tmp_path):
    path = tmp_path / "azure-invoices.json"
    path.write_text(json.dumps(AZURE))
    [inv] = load_invoices(path)
    assert (inv.invoice_id, inv.amount, inv.currency, inv.date) == ("G012345678", D("155.0"), "EUR",
                                                                    dt.date(2025, 4, 5))
    bare = tmp_path / "az-cli.json"  # `az billing invoice list` prints the list itself
    bare.write_text(json.dumps(AZURE["value"]))
    [again] = load_invoices(bare)
    assert (again.invoice_id, again.amount, again.currency, again.date) == (
        inv.invoice_id, inv.amount, inv.currency, inv.date)


def test_an_ap_list_still_reads(tmp_path):
    path = tmp_path / "ap.csv"
    path.write_text("invoice_id,date,amount,currency\nINV-1,2025-04-02,310.00,USD\n")
    [inv] = load_invoices(path)
    assert (inv.invoice_id, inv.amount) == ("INV-1", D("310.00"))


def test_an_unknown_csv_layout_is_refused_naming_file_row_columns_and_fix(tmp_path):
    path = tmp_path / "console-download.csv"
    msg = refusal(load_invoices, path, "Invoice ID,Billing period,Total (USD)\nX1,2025-03,310.00\n",
                  InvoiceFileError)
    assert "\n" not in msg
    assert str(path) in msg and "row 1" in msg and "invoice_id" in msg and "Total (USD)" in msg
    assert "list-invoice-summaries" in msg and "az billing invoice list" in msg


def test_a_bad_value_in_a_provider_file_names_the_entry_and_field(tmp_path):
    bad = json.loads(json.dumps(AWS))
    bad["InvoiceSummaries"][1]["BaseCurrencyAmount"]["TotalAmount"] = "twelve"
    path = tmp_path / "aws.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(InvoiceFileError, match=r"aws.json: InvoiceSummaries\[1\]: field "
                                               r"BaseCurrencyAmount.TotalAmount: 'twelve' is not a number"):
        load_invoices(path)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"invoices": []}))
    with pytest.raises(InvoiceFileError, match="neither"):
        load_invoices(other)


def test_close_reconciles_against_the_aws_invoice_listing(tmp_path, capsys):
    """March: USD 10.00 a day for 31 days, no InvoiceId in the data; the AWS listing has one invoice of
    310.00 for it: the tie-out reads the invoice total 310.00 from the file."""
    src = write(tmp_path / "march.csv", (charge(dt.date(2025, 3, d), 10, "1", "Compute", "EC2")
                                         for d in range(1, 32)))
    store = tmp_path / "finops.duckdb"
    assert main(["ingest", "--quiet", "--store", str(store), str(src)]) == 0
    listing = tmp_path / "aws.json"
    listing.write_text(json.dumps({"InvoiceSummaries": AWS["InvoiceSummaries"][:1]}))
    capsys.readouterr()
    assert main(["close", "--store", str(store), "--month", "2025-03", "--invoice", str(listing)]) == 0
    out = capsys.readouterr().out
    assert "invoice reconciliation 2025-03 USD (1 invoice(s))" in out
    assert any("Invoice total" in line and "310.00" in line for line in out.splitlines()), out
    bad = tmp_path / "console.csv"
    bad.write_text("Invoice ID,Total\nX,1\n")
    assert main(["close", "--store", str(store), "--month", "2025-03", "--invoice", str(bad)]) == 1
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "row 1" in err and str(bad) in err
