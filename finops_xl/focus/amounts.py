"""Amounts written as text: plain numbers, spreadsheet-formatted numbers, decimal commas; and the
largest total the store can hold.

**Decimal mark, per file.** A European spreadsheet saves CSV with ``;`` between fields and a decimal
comma (``1,25`` is one and a quarter, ``1.250,50`` is twelve hundred and fifty and a half). Read as
a US number, ``1,250`` would be 1250: a thousand times too much. So a file that is not
comma-separated has its numbers looked at first (:func:`decimal_mark`): a value only a decimal
comma explains (``1,25``, ``0,5``, ``1.234,50``) makes the comma the file's decimal mark, as does a
``1,250`` in a ``;`` file (the European Excel export); a value only a decimal point explains
(``1.25``, ``1,234.50``) makes it the point. A file with both kinds, or a ``;`` file whose only
separators are groups of three after a point (``1.250``: 1.25 or 1250?), is refused naming the
value. A comma-separated file keeps the decimal point: its commas separate fields.
"""

from __future__ import annotations

import dataclasses

from finops_xl.store.errors import Problem

#: A number as spreadsheets format it: optional sign or accounting parentheses, optional currency
#: sign, thousands separators in groups of three, decimal point. Only read when a plain number fails.
_FORMATTED_NUMBER = r"^\(?[-+]?[$€£¥]?[-+]?([0-9]{1,3}(,[0-9]{3})+|[0-9]+)(\.[0-9]+)?\)?$"

#: The same with a decimal comma and dots (or nothing) between groups of three: ``1.234,50``.
_COMMA_NUMBER = r"^\(?[-+]?[$€£¥]?[-+]?([0-9]{1,3}(\.[0-9]{3})+|[0-9]+)(,[0-9]+)?\)?$"

#: The largest magnitude a DECIMAL(38,12) holds (26 digits before the point).
STORE_LIMIT = 10**26


def number_from_text(src: str, sql_type: str, decimal_comma: bool = False) -> str:
    """SQL reading a decimal from text: plain (``1234.5``, ``1E-7``) or formatted (``$1,234.50``,
    ``(12.00)`` for -12.00); with ``decimal_comma``, ``1.234,50`` and ``1,25`` instead."""
    t = f"trim({src})"
    sign = f"(CASE WHEN {t} LIKE '(%)' THEN -1 ELSE 1 END)"
    parens = f"({t} LIKE '(%)') = ({t} LIKE '(%')"
    if decimal_comma:
        plain = f"CASE WHEN NOT contains({t}, '.') THEN TRY_CAST(NULLIF({t}, '') AS {sql_type}) END"
        formatted = (
            f"CASE WHEN regexp_full_match({t}, '{_COMMA_NUMBER}') AND {parens} "
            f"THEN TRY_CAST(replace(regexp_replace({t}, '[$€£¥.()]', '', 'g'), ',', '.') AS {sql_type}) "
            f"* {sign} END"
        )
        return f"coalesce({plain}, {formatted})"
    plain = f"TRY_CAST(NULLIF({t}, '') AS {sql_type})"
    formatted = (
        f"CASE WHEN regexp_full_match({t}, '{_FORMATTED_NUMBER}') AND {parens} "
        f"THEN TRY_CAST(regexp_replace({t}, '[$€£¥,()]', '', 'g') AS {sql_type}) * {sign} END"
    )
    return f"coalesce({plain}, {formatted})"


def _bare(src: str) -> str:
    """The value without spaces, currency signs and accounting parentheses."""
    return f"regexp_replace(trim({src}), '[$€£¥() ]', '', 'g')"


#: What a value's separators say about the decimal mark (SQL regexes over :func:`_bare`).
_ONLY_COMMA = (r"^[-+]?([0-9]+,[0-9]{1,2}|[0-9]+,[0-9]{4,}|[0-9]{4,},[0-9]+|,[0-9]+"
               r"|[0-9]{1,3}(\.[0-9]{3})+,[0-9]+)$")
_GROUPS_COMMA = r"^[-+]?[0-9]{1,3}(,[0-9]{3})+$"  # 1,250: thousands, or a decimal comma
_ONLY_POINT = (r"^[-+]?([0-9]*\.[0-9]{1,2}|[0-9]*\.[0-9]{4,}|[0-9]{4,}\.[0-9]+|\.[0-9]+"
               r"|[0-9]{1,3}(,[0-9]{3})+\.[0-9]+)([eE][-+]?[0-9]+)?$")
_GROUPS_POINT = r"^[-+]?[0-9]{1,3}(\.[0-9]{3})+$"  # 1.250: a decimal point, or thousands


@dataclasses.dataclass(frozen=True)
class DecimalMark:
    """The decimal mark of one file, and what in the file decided it.

    Attributes:
      comma: True if numbers use a decimal comma (``1.234,50``).
      problem: set if the file's numbers do not agree on one mark (the load is refused).
    """

    comma: bool = False
    problem: Problem | None = None


def mark_probes(sources: list[str]) -> list[str]:
    """Aggregates over the numeric text columns ``sources`` (SQL identifiers): for each of the four
    patterns, how many values match it."""
    out = []
    for pattern in (_ONLY_COMMA, _GROUPS_COMMA, _ONLY_POINT, _GROUPS_POINT):
        terms = [f"count_if(regexp_full_match({_bare(s)}, '{pattern}'))" for s in sources]
        out.append(" + ".join(terms) if terms else "0")
    return out


def conditions(sources: list[str]) -> dict[str, str]:
    """Per kind of evidence, SQL true on a row holding it in one of ``sources`` (to locate it)."""
    def any_of(pattern: str) -> str:
        return " OR ".join(f"regexp_full_match({_bare(s)}, '{pattern}')" for s in sources)
    return {"comma": f"({any_of(_ONLY_COMMA)}) OR ({any_of(_GROUPS_COMMA)})",
            "point": any_of(_ONLY_POINT), "groups": any_of(_GROUPS_POINT)}


def decide(counts: tuple[int, int, int, int], delimiter: str) -> str:
    """``comma``, ``point``, ``mixed`` (both marks) or ``ambiguous`` (only ``1.250``-like values
    in a ``;`` file), from :func:`mark_probes`' counts."""
    only_comma, groups_comma, only_point, groups_point = counts
    comma = only_comma > 0 or (groups_comma > 0 and delimiter == ";")
    point = only_point > 0
    if comma and point:
        return "mixed"
    if comma:
        return "comma"
    if not point and groups_point and delimiter == ";":
        return "ambiguous"
    return "point"
