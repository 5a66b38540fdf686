"""Allocation rules from Excel tables in a workbook."""

from __future__ import annotations

from decimal import Decimal

import openpyxl
import pytest
from openpyxl.worksheet.table import Table

from finops_xl.allocation.rules import RuleError
from finops_xl.allocation.rules_table import load_rules_workbook


def workbook(path, pools_rows, taxonomy_rows=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Allocation rules"
    taxonomy_rows = taxonomy_rows or [
        ["dimension", "keys", "values", "owner"],
        ["team", "team, owner-team", "payments: payments-team, Payments; ml: ml-team", "yes"],
        ["cluster", "kubernetes_cluster", None, None],
    ]
    for r in taxonomy_rows:
        ws.append(r)
    last_col = "ABCDEFG"[len(taxonomy_rows[0]) - 1]
    ws.add_table(Table(displayName="AllocationTaxonomy", ref=f"A1:{last_col}{len(taxonomy_rows)}"))
    start = len(taxonomy_rows) + 3
    for i, r in enumerate(pools_rows):
        for j, v in enumerate(r):
            ws.cell(start + i, 1 + j, v)
    ws.add_table(Table(displayName="AllocationPools", ref=f"A{start}:F{start + len(pools_rows) - 1}"))
    wb.save(path)
    return path


HEADER = ["pool", "filter", "split", "percentages", "to", "basis"]


def test_rules_from_workbook_tables(tmp_path):
    path = workbook(tmp_path / "rules.xlsx", [
        HEADER,
        ["shared-network", "service_category = Networking", "proportional", None, None, None],
        ["support", "service = AWS Support (Business); service = Microsoft Unified Support", "fixed",
         "payments = 60; ml = 40", None, None],
        ["untagged", "owner =", "even", None, "payments, ml", "direct_and_shared"],
    ])
    rules = load_rules_workbook(path)
    assert rules.owner == "team"
    assert rules.taxonomy.dimension("team").normalize("payments-team") == "payments"
    net, support, untagged = rules.pools
    assert net.filter == {"service_category": ("Networking",)}
    assert support.filter == {"service": ("AWS Support (Business)", "Microsoft Unified Support")}
    assert support.percentages == {"payments": Decimal(60), "ml": Decimal(40)}
    assert untagged.filter == {"owner": (None,)} and untagged.to == ("payments", "ml")
    assert untagged.basis == "direct_and_shared"


def test_retired_values_from_the_taxonomy_table(tmp_path):
    path = workbook(tmp_path / "rules.xlsx", [HEADER, ["all", "owner =", "even", None, "payments", None]], [
        ["dimension", "keys", "values", "owner", "retired"],
        ["team", "team", "crm: crm-team; payments: payments-team", "yes", "CRM-Team, legacy"],
    ])
    rules = load_rules_workbook(path)
    assert rules.taxonomy.dimension("team").retired == ("crm", "legacy")  # canonical spellings


def test_workbook_rule_errors_name_the_rule_and_field(tmp_path):
    path = workbook(tmp_path / "bad.xlsx", [
        HEADER,
        ["support", "service = Support", "fixed", "payments = 60; ml = 30", None, None],
        ["net", "colour = blue", "even", None, None, None],
    ])
    with pytest.raises(RuleError) as err:
        load_rules_workbook(path)
    text = str(err.value)
    assert "rule 'support', field 'percentages': percentages sum to 90, not 100" in text
    assert "rule 'net', field 'filter.colour': unknown dimension 'colour'" in text
    assert str(path) in text


def test_cli_allocates_with_workbook_rules(tmp_path, sample_csv, capsys):
    from finops_xl.cli import main
    from finops_xl.store.ingest import ingest

    store = tmp_path / "s.duckdb"
    ingest([sample_csv], store)
    path = workbook(tmp_path / "rules.xlsx", [HEADER, ["rest", "owner =", "proportional", None, None, None]],
                    [["dimension", "keys", "values", "owner"], ["business_unit", "business_unit", None, "yes"]])
    assert main(["allocate", "--store", str(store), "--rules", str(path)]) == 0
    out = capsys.readouterr().out
    assert "owner: business_unit; pools: rest" in out
