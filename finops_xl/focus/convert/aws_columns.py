"""The AWS CUR's column layouts, and one lookup over them.

Three layouts name the same attributes:

- **legacy CUR** (``aws-cur``): ``category/Attribute`` (``lineItem/UnblendedCost``), tags in
  ``resourceTags/user:Team`` columns, cost categories in ``costCategory/<name>`` columns;
- **legacy CUR in the Athena layout** (``aws-cur-athena``: the Parquet/CSV AWS writes for Athena, and
  tools that query it): the same columns in snake case (``line_item_unblended_cost``), product
  attributes flattened (``product_product_name``), tags flattened to ``resource_tags_user_<key>`` /
  ``resource_tags_aws_<key>`` and cost categories to ``cost_category_<name>`` columns;
- **CUR 2.0 / Data Exports** (``aws-cur2``): snake case too, but product attributes, tags and cost
  categories in the map columns ``product``, ``resource_tags`` and ``cost_category`` (JSON text when
  exported as CSV).

A legacy name is turned into its snake spelling (:func:`snake_name`), so the converter asks for each
attribute once, by its snake name, whatever the layout.
"""

from __future__ import annotations

import re

from finops_xl.focus.convert.common import Header, is_text, lit, money, q, tags_object, text, timestamp

_LEGACY_MARKER = "lineItem/LineItemType"
_SNAKE_MARKER = "line_item_line_item_type"
#: CUR 2.0's map columns: a snake-case file with one of them is CUR 2.0.
_CUR2_MAPS = ("product", "resource_tags", "cost_category", "discount")


def snake_name(legacy: str) -> str:
    """Snake spelling of a legacy CUR column: ``reservation/ReservationARN`` →
    ``reservation_reservation_a_r_n`` (every capital starts a new word, as AWS maps them)."""
    category, _, attribute = legacy.partition("/")

    def snake(part: str) -> str:
        return re.sub(r"[A-Z]", lambda m: "_" + m.group(0).lower(), part).lstrip("_").lower()

    return f"{snake(category)}_{snake(attribute)}"


def is_legacy(names: list[str]) -> bool:
    return any(n.lower() == _LEGACY_MARKER.lower() for n in names)


def is_snake(names: list[str]) -> bool:
    return any(n.lower() == _SNAKE_MARKER for n in names)


def is_athena(names: list[str]) -> bool:
    """A snake-case CUR in the legacy CUR's Athena layout: no CUR 2.0 map column, and flattened
    tag, cost category or product-name columns that CUR 2.0 does not have."""
    lower = {n.lower() for n in names}
    if not is_snake(names) or lower & set(_CUR2_MAPS):
        return False
    return "product_product_name" in lower or any(
        n.startswith(("resource_tags_", "cost_category_")) for n in lower)


def is_cur2(names: list[str]) -> bool:
    return is_snake(names) and not is_athena(names)


class Columns:
    """Look up a CUR column by its snake name in a legacy, Athena or CUR 2.0 header."""

    def __init__(self, header: Header):
        self.header = header
        self.by_snake: dict[str, str] = {}
        for name, _ in header.columns:
            key = snake_name(name) if "/" in name else name.lower()
            self.by_snake.setdefault(key, name)

    def _real(self, names: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(self.by_snake[n] for n in names if n in self.by_snake)

    def text(self, *names: str) -> str:
        real = self._real(names)
        return text(self.header, *real) if real else "CAST(NULL AS VARCHAR)"

    def money(self, *names: str) -> str:
        real = self._real(names)
        return money(self.header, *real) if real else "CAST(NULL AS DECIMAL(38,12))"

    def timestamp(self, *names: str) -> str:
        real = self._real(names)
        return timestamp(self.header, *real) if real else "CAST(NULL AS TIMESTAMP)"

    def product(self, attribute: str) -> str:
        """A product attribute: its own column (legacy ``product/region``; CUR 2.0
        ``product_region_code``) or the key of CUR 2.0's ``product`` map."""
        direct = self._real((f"product_{attribute}",))
        if direct:
            return text(self.header, *direct)
        m = self.header.find("product")
        if m is None:
            return "CAST(NULL AS VARCHAR)"
        if is_text(self.header.type_of(m)):  # the map written as JSON text (CUR 2.0 as CSV)
            return f"NULLIF(trim(json_extract_string(TRY_CAST({q(m)} AS JSON), {lit('$.' + attribute)})), '')"
        return f"NULLIF(trim(element_at({q(m)}, {lit(attribute)})[1]), '')"

    def _map_entries(self, name: str, rename: str = "e.key") -> str | None:
        """SQL for the entries of a CUR 2.0 map column (a MAP, or its JSON text in a CSV) as a list
        of STRUCT(key, value), keys renamed by the SQL ``rename`` of ``e.key``; None if absent."""
        m = self.header.find(name)
        if m is None:
            return None
        col = (f"TRY_CAST(TRY_CAST(NULLIF(trim({q(m)}), '') AS JSON) AS MAP(VARCHAR, VARCHAR))"
               if is_text(self.header.type_of(m)) else q(m))
        return (f"coalesce(list_transform(map_entries({col}), lambda e: struct_pack("
                f"key := {rename}, value := NULLIF(e.value, ''))), [])")

    def _flattened(self, prefixes: tuple[str, ...], key) -> list[str]:
        """STRUCT(key, value) SQL for each column whose name starts with one of ``prefixes``
        (case-insensitive); ``key(name)`` gives the key."""
        out = []
        for name, t in self.header.columns:
            if name.lower().startswith(prefixes) and name.lower() not in _CUR2_MAPS:
                value = q(name) if is_text(t) else f"CAST({q(name)} AS VARCHAR)"
                out.append(f"struct_pack(key := {lit(key(name))}, value := NULLIF(trim({value}), ''))")
        return out

    def tags(self) -> str:
        """SQL for the Tags JSON object: user tags by their name (legacy ``user:Team`` → ``Team``,
        snake ``user_team`` → ``team``), AWS tags with their ``aws:`` / ``aws_`` prefix."""
        entries = self._map_entries(
            "resource_tags", "CASE WHEN starts_with(e.key, 'user_') THEN e.key[6:] ELSE e.key END")
        if entries is not None:
            return tags_object(entries)

        def legacy_key(name: str) -> str:
            key = name.split("/", 1)[1]
            return key[5:] if key.startswith("user:") else key

        def athena_key(name: str) -> str:
            key = name[len("resource_tags_"):]
            return key[5:] if key.lower().startswith("user_") else key

        pairs = self._flattened(("resourcetags/",), legacy_key) + self._flattened(("resource_tags_",), athena_key)
        return tags_object(f"[{', '.join(pairs)}]") if pairs else "CAST(NULL AS VARCHAR)"

    def cost_categories(self) -> str:
        """SQL for the cost categories as a JSON object (category name → value): legacy
        ``costCategory/<name>`` columns, Athena ``cost_category_<name>`` columns, or CUR 2.0's
        ``cost_category`` map; NULL when the row has none."""
        entries = self._map_entries("cost_category")
        if entries is not None:
            return tags_object(entries)
        pairs = (self._flattened(("costcategory/",), lambda n: n.split("/", 1)[1])
                 + self._flattened(("cost_category_",), lambda n: n[len("cost_category_"):]))
        return tags_object(f"[{', '.join(pairs)}]") if pairs else "CAST(NULL AS VARCHAR)"
