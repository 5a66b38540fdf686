"""Tag taxonomy, account hierarchy and rule validation."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from finops_xl.allocation.hierarchy import load_hierarchy
from finops_xl.allocation.rules import RuleError, load_rules, rules_from_dict
from finops_xl.allocation.taxonomy import TagDimension, Taxonomy, fold_key
from finops_xl.data import allocation_rules

TEAM = TagDimension("team", ("team", "owner-team", "owner_team"),
                    {"payments": ("payments-team",), "data-platform": ("data platform",)})


def test_key_aliases_ignore_case_separators_and_provider_prefixes():
    tax = Taxonomy((TEAM,))
    store_keys = ["Team", "user:Owner_Team", "owner-team", "teams", "environment"]
    assert tax.matching_keys("team", store_keys) == ["Team", "owner-team", "user:Owner_Team"]
    assert fold_key("user:Owner_Team") == fold_key("owner-team") == "ownerteam"


@pytest.mark.parametrize("raw,canonical", [
    ("Payments", "payments"), ("payments-team", "payments"), ("PAYMENTS_TEAM", "payments"),
    ("Data Platform", "data-platform"), ("data_platform", "data-platform"), ("Search", "search"),
    ("", None), (None, None),
])
def test_value_normalization(raw, canonical):
    assert TEAM.normalize(raw) == canonical


def test_sql_resolution_matches_the_python_rule():
    """The SQL the engine runs gives the same canonical values as TagDimension.normalize."""
    tax = Taxonomy((TEAM,))
    rows = ['{"Team": "Payments"}', '{"owner_team": "payments-team", "team": "Data Platform"}',
            '{"user:owner-team": "search"}', '{"env": "prod"}', None]
    con = duckdb.connect()
    con.execute("CREATE TABLE t (Tags JSON)")
    con.executemany("INSERT INTO t VALUES (?)", [[r] for r in rows])
    keys = [k for (k,) in con.execute("SELECT DISTINCT unnest(json_keys(Tags)) FROM t").fetchall()]
    got = [v for (v,) in con.execute(f"SELECT {tax.sql('team', keys)} FROM t").fetchall()]
    # first alias in rule order wins: "team"/"Team" before owner-team/owner_team
    assert got == ["payments", "data-platform", "search", None, None]


def test_demo_rules_load():
    rules = load_rules(allocation_rules())
    assert rules.owner == "team"
    assert [p.id for p in rules.pools] == ["shared-network", "security-tooling", "support", "untagged"]
    assert sum(rules.pools[2].percentages.values()) == Decimal(100)
    assert rules.hierarchy is not None and rules.hierarchy.rows["210987654301"]["team"] == "payments"


BASE = {"owner": "team", "taxonomy": {"team": {"keys": ["team"]}}}


@pytest.mark.parametrize("pools,rule,field,fragment", [
    ([{"id": "net", "filter": {"colour": "blue"}, "split": "even"}], "net", "filter.colour", "unknown dimension"),
    ([{"id": "sup", "filter": {"service": "Support"}, "split": "fixed",
       "percentages": {"a": 60, "b": 30}}], "sup", "percentages", "sum to 90, not 100"),
    ([{"id": "loop", "filter": {"service": "X"}, "split": "even", "to": ["loop"]}], "loop", "to", "never itself"),
    ([{"id": "a", "filter": {"service": "X"}, "split": "fixed", "percentages": {"b": 100}},
      {"id": "b", "filter": {"service": "Y"}, "split": "even"}], "a", "percentages.b", "cannot receive from a pool"),
    ([{"id": "x", "filter": {"service": "X"}, "split": "weighted"}], "x", "split", "not a split method"),
    ([{"id": "x", "filter": {}, "split": "even"}], "x", "filter", "at least one dimension"),
    ([{"id": "d", "filter": {"service": "X"}, "split": "driver"}], "d", "drivers", "needs drivers"),
    ([{"id": "x", "filter": {"service": "X"}, "split": "even"},
      {"id": "x", "filter": {"service": "Y"}, "split": "even"}], "x", "id", "two pools"),
])
def test_rule_errors_name_the_rule_and_field(pools, rule, field, fragment):
    with pytest.raises(RuleError) as err:
        rules_from_dict({**BASE, "pools": pools})
    found = [f for f in err.value.findings if f.rule == rule and f.field == field]
    assert found and fragment in found[0].message, err.value.findings
    assert f"rule {rule!r}, field {field!r}" in str(err.value)


def test_owner_must_be_a_taxonomy_dimension():
    with pytest.raises(RuleError, match="'squad' is not a taxonomy dimension"):
        rules_from_dict({"owner": "squad", "taxonomy": {"team": {}}})


def test_hierarchy_from_csv_yaml_and_excel(tmp_path):
    (tmp_path / "h.csv").write_text("Sub Account,Team,Business-Unit\n111,payments,Commerce\n222,search,\n")
    (tmp_path / "h.yaml").write_text("- {sub_account: '111', team: payments, business_unit: Commerce}\n"
                                     "- {sub_account: '222', team: search}\n")
    import openpyxl
    from openpyxl.worksheet.table import Table

    wb = openpyxl.Workbook()
    ws = wb.active
    for row in (["sub_account", "team", "business_unit"], ["111", "payments", "Commerce"], ["222", "search", None]):
        ws.append(row)
    ws.add_table(Table(displayName="Accounts", ref="A1:C3"))
    wb.save(tmp_path / "h.xlsx")
    for name in ("h.csv", "h.yaml", "h.xlsx"):
        h = load_hierarchy(tmp_path / name)
        assert h.rows == {"111": {"team": "payments", "business_unit": "Commerce"}, "222": {"team": "search"}}, name
    (tmp_path / "dup.csv").write_text("sub_account,team\n111,a\n111,b\n")
    with pytest.raises(ValueError, match="row 2 repeats sub_account '111'"):
        load_hierarchy(tmp_path / "dup.csv")
