"""The tag taxonomy: canonical dimensions (team, environment, cost center, …) read from messy tags.

Real tags disagree on spelling: ``Team``, ``team``, ``owner-team``, ``owner_team``, ``user:Team`` (an
AWS cost-allocation tag), ``Payments`` and ``payments-team`` for the same team. A taxonomy names each
canonical dimension once, with

- **key aliases**, matched ignoring case and separators (``-``, ``_``, space, ``.``) and ignoring a
  provider prefix (``user:``, ``aws:``, ``tag:``, ``ms:``, ``goog-``, …): the first alias found on a
  row wins, in the order listed;
- **value maps**: canonical value → its variants, matched the same forgiving way. A value with no
  mapping is kept, lower-cased and trimmed (``Search`` → ``search``).

``Taxonomy.sql`` turns a dimension into a SQL expression over a ``Tags`` JSON column, using the tag
keys that actually occur in the store (found once, matched in Python, then used as plain JSON
look-ups), so resolving a dimension costs a few ``->>`` per row.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping

from finops_xl.store.sources import json_key, sql_literal

#: Prefixes providers put in front of tag keys (AWS CUR ``user:``/``aws:``, Azure ``ms:``, …).
PROVIDER_PREFIXES = ("user:", "aws:", "tag:", "tags:", "resourcetags:", "ms:", "azure:", "gcp:",
                     "goog-", "label:", "labels.")


def fold(text: str) -> str:
    """``text`` lower-cased with separators removed: ``Owner-Team`` and ``owner_team`` → ``ownerteam``."""
    return re.sub(r"[\s\-_.]", "", str(text)).lower()


def fold_key(key: str) -> str:
    """A tag key folded, and without a provider prefix: ``user:Owner_Team`` → ``ownerteam``."""
    k = str(key).strip().lower()
    for prefix in PROVIDER_PREFIXES:
        if k.startswith(prefix):
            k = k[len(prefix):]
            break
    return fold(k)


@dataclasses.dataclass(frozen=True)
class TagDimension:
    """One canonical dimension.

    Attributes:
      name: canonical name (``team``).
      keys: tag key aliases, in priority order.
      values: canonical value → variants that mean it.
      retired: canonical values that no longer exist (a team that was dissolved, a product that was
        shut down); their resources are optimization findings (``retired-owner``).
    """

    name: str
    keys: tuple[str, ...]
    values: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    retired: tuple[str, ...] = ()

    def value_map(self) -> dict[str, str]:
        """Folded variant → canonical value (canonical values map to themselves)."""
        out: dict[str, str] = {}
        for canonical, variants in self.values.items():
            for v in (canonical, *variants):
                out[fold(v)] = canonical
        return out

    def normalize(self, value: str | None) -> str | None:
        """The canonical spelling of one tag value (Python twin of the SQL, for small inputs)."""
        if value is None or str(value).strip() == "":
            return None
        return self.value_map().get(fold(value), str(value).strip().lower())


@dataclasses.dataclass(frozen=True)
class Taxonomy:
    """The canonical dimensions, in order."""

    dimensions: tuple[TagDimension, ...] = ()

    def __post_init__(self):
        names = [d.name for d in self.dimensions]
        if len(set(names)) != len(names):
            raise ValueError(f"taxonomy dimensions must be unique: {names}")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(d.name for d in self.dimensions)

    def dimension(self, name: str) -> TagDimension:
        for d in self.dimensions:
            if d.name == name:
                return d
        raise KeyError(name)

    def matching_keys(self, name: str, store_keys: Iterable[str]) -> list[str]:
        """The store's actual tag keys that are aliases of dimension ``name``, in alias order
        (keys equal after folding keep the store's order by name, for a stable result)."""
        dim = self.dimension(name)
        by_fold: dict[str, list[str]] = {}
        for k in sorted(set(store_keys)):
            by_fold.setdefault(fold_key(k), []).append(k)
        found: list[str] = []
        for alias in dim.keys:
            for k in by_fold.get(fold_key(alias), []):
                if k not in found:
                    found.append(k)
        return found

    def sql(self, name: str, store_keys: Iterable[str], tags: str = "Tags") -> str:
        """SQL for dimension ``name``'s canonical value on a row (NULL when the row has none)."""
        dim = self.dimension(name)
        keys = self.matching_keys(name, store_keys)
        if not keys:
            return "CAST(NULL AS VARCHAR)"
        raw = "coalesce(" + ", ".join(
            f"NULLIF(trim({json_key(tags, k)}), '')" for k in keys) + ")"
        if len(keys) == 1:
            raw = raw[len("coalesce("):-1]
        folded = f"regexp_replace(lower({raw}), '[\\s\\-_.]', '', 'g')"
        mapping = dim.value_map()
        if not mapping:
            return f"lower({raw})"
        cases = " ".join(f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in sorted(mapping.items()))
        return f"(CASE {folded} {cases} ELSE lower({raw}) END)"


def taxonomy_from_dict(spec: Mapping) -> Taxonomy:
    """A taxonomy from the ``taxonomy`` section of the rules (see ``rules.py``)."""
    dims = []
    for name, body in (spec or {}).items():
        body = body or {}
        keys = body.get("keys") or [name]
        if isinstance(keys, str):
            keys = [keys]
        values = {}
        for canonical, variants in (body.get("values") or {}).items():
            if isinstance(variants, str):
                variants = [variants]
            values[str(canonical)] = tuple(str(v) for v in (variants or ()))
        retired = body.get("retired") or ()
        if isinstance(retired, str):
            retired = [retired]
        dim = TagDimension(str(name), tuple(str(k) for k in keys), values)
        dims.append(dataclasses.replace(dim, retired=tuple(dim.normalize(str(v)) for v in retired)))
    return Taxonomy(tuple(dims))
