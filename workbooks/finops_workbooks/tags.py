"""The "Tag governance" sheet (in the Showback workbook): untagged and unallocatable spend before any
policy spread, month by month, with native share formulas; allocation coverage by how cost reached
its owner; tag-key compliance; untagged spend by account; the top untagged resources. The numbers
are ``finops_xl.report.governance.tag_governance``'s; this module only lays them out."""

from __future__ import annotations

from finops_workbooks import formats as f
from finops_workbooks.draft import start_sheet
from finops_workbooks.model import Formula, Sheet, ref
from finops_xl.report.governance import TagGovernance

SHEET = "Tag governance"
_SHARE = f.CHANGE.but(number_format=f.PERCENT)
_COVERAGE_PARTS = (("by_tag", "By tag"), ("by_hierarchy", "By hierarchy or account default"),
                   ("shared_by_rule", "Shared services, by rule"),
                   ("spread_by_policy", "Untagged, spread by policy"), ("unallocated", "Unallocated"))


def tags_sheet(g: TagGovernance) -> Sheet:
    s = start_sheet(SHEET, f"Tag governance, {g.month:%B %Y}",
                    "Spend before any policy spreads it. Untagged: no owner tag "
                    f"({g.owner_dimension}). Unallocatable: no tag, account default or hierarchy entry "
                    f"reaches it. Target: {g.target:.0%} untagged.")
    # untagged by month: amounts, with the shares as native formulas
    s.put_row(4, 1, ("Month", "Total cost", "Untagged", "Untagged %", "Unallocatable", "Unallocatable %",
                     "Target"), f.HEADER)
    r = 5
    for t in (t for t in g.trend if t.month <= g.month):
        s.put(r, 1, t.month, f.MONTH_CELL)
        s.put_row(r, 2, (t.total, t.untagged), f.MONEY)
        s.put(r, 4, Formula(f'=IF({ref(r, 2)}=0,"",{ref(r, 3)}/{ref(r, 2)})'), _SHARE)
        s.put(r, 5, t.unallocatable, f.MONEY)
        s.put(r, 6, Formula(f'=IF({ref(r, 2)}=0,"",{ref(r, 5)}/{ref(r, 2)})'), _SHARE)
        s.put(r, 7, g.target, _SHARE)
        r += 1
    r = s.section(r + 1, "Allocation coverage: how cost reached its owner",
                  ("Month", *(label for _, label in _COVERAGE_PARTS), "By tag or hierarchy %"), f.HEADER)
    for c in g.coverage:
        if not c.total or c.month > g.month:
            continue
        r += 1
        s.put(r, 1, c.month, f.MONTH_CELL)
        s.put_row(r, 2, tuple(getattr(c, k) for k, _ in _COVERAGE_PARTS), f.MONEY)
        s.put(r, 7, Formula(f'=IF(SUM({ref(r, 2)}:{ref(r, 6)})=0,"",'
                            f'({ref(r, 2)}+{ref(r, 3)})/SUM({ref(r, 2)}:{ref(r, 6)}))'), _SHARE)
    r = s.section(r + 2, "Tag-key compliance", ("Tag", "Valid", "Non-standard value", "Missing", "Valid %"), f.HEADER)
    for c in g.compliance:
        r += 1
        s.put(r, 1, c.dimension)
        s.put_row(r, 2, (c.compliant, c.nonstandard, c.missing), f.MONEY)
        s.put(r, 5, Formula(f'=IF(SUM({ref(r, 2)}:{ref(r, 4)})=0,"",{ref(r, 2)}/SUM({ref(r, 2)}:{ref(r, 4)}))'),
              _SHARE)
    r = s.section(r + 2, "Untagged spend by account",
                  ("Account", "Untagged", "Unallocatable", "Account total"), f.HEADER)
    for a in g.by_account:
        r += 1
        s.put(r, 1, a.label)
        s.put_row(r, 2, (a.untagged, a.unallocatable, a.total), f.MONEY)
    r = s.section(r + 2, "Top untagged resources", ("Resource", "Account", "Service", "Cost"), f.HEADER)
    for x in g.resources:
        r += 1
        s.put_row(r, 1, (x.resource_name or x.resource_id, x.account, x.service or ""))
        s.put(r, 4, x.cost, f.MONEY)
    s.width(1, 44)
    for c in range(2, 8):
        s.width(c, 18)
    return s.build()
