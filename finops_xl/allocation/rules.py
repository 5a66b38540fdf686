"""Allocation rules: what an analyst writes down, checked before anything runs.

Rules are a YAML file (or the same structure from another source)::

    owner: team                      # the taxonomy dimension that names an owner
    taxonomy:                        # canonical dimensions read from tags (see taxonomy.py)
      team:
        keys: [team, owner-team, owner_team]
        values: {payments: [payments-team], data-platform: [data platform team]}
      environment: {keys: [env, environment]}
    account_defaults:                # sub-account id -> owner, when a row carries no owner tag
      "210987654301": payments
    hierarchy: accounts.csv          # sub-account -> business_unit, product, team, cost_center
    pools:                           # shared costs, split in this order
      - id: shared-network
        filter: {service_category: Networking}
        split: proportional          # even | proportional | fixed | driver
      - id: support
        filter: {service: [AWS Support, Microsoft Support]}
        split: fixed
        percentages: {payments: 40, search: 35, web: 25}
      - id: untagged
        filter: {owner: null}        # what no tag, default or mapping owns
        split: proportional

Order of operations (documented, tested):

1. Each charge group gets its **direct owner** by precedence: the owner tag (through the taxonomy) →
   ``account_defaults`` for its sub-account → the account hierarchy's owner column → none.
2. Each group goes to the **first pool** whose filter matches it (pools are tried in the listed order;
   a pool filter claims matching groups whether or not they have a direct owner, unless the filter
   says ``owner: null``). Groups in no pool stay **direct** (or **UNALLOCATED** without an owner).
3. Pools are split in the listed order. Receivers are the owners with direct cost in the same month
   and currency (``to:`` narrows them; ``fixed`` and ``driver`` name their own). ``proportional``
   weighs them by that direct EffectiveCost; with ``basis: direct_and_shared`` a pool also weighs
   what earlier pools gave each owner (so a later pool may "receive from" an earlier one). A pool
   never receives from itself or from a later pool.
4. A pool with no receivers in a month goes to **UNALLOCATED**, never vanishes.

A problem is reported as ``RuleError`` listing every finding with the rule and field it concerns.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from finops_xl.allocation.rules_model import (  # noqa: F401  (the rules' structure, as before)
    FILTER_COLUMNS,
    METHODS,
    ROUNDING,
    UNALLOCATED,
    Finding,
    KubernetesSplit,
    Pool,
    RuleError,
    Rules,
    rules_from_dict,
)
from finops_xl.allocation.rules_table import load_rules_workbook


def load_rules(path: str | Path) -> Rules:
    """Rules from a YAML file, or from the allocation tables of an Excel workbook (.xlsx/.xlsm,
    see ``rules_table``); relative file names inside are relative to the file."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        if not path.is_file():
            raise RuleError([Finding("(file)", "path", f"no such file: {path}")], str(path))
        return load_rules_workbook(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise RuleError([Finding("(file)", "path", f"no such file: {path}")], str(path)) from None
    except yaml.YAMLError as exc:
        raise RuleError([Finding("(file)", "yaml", f"not valid YAML: {exc}")], str(path)) from None
    if not isinstance(data, dict):
        raise RuleError([Finding("(file)", "yaml", "the file must hold a mapping of sections")], str(path))
    return rules_from_dict(data, base_dir=path.parent, source=str(path))
