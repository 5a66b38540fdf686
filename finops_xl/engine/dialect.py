"""One source of SQL: statements are written in DuckDB's dialect and transpiled for Spark.

``to_spark`` parses a DuckDB statement with sqlglot, rewrites the few constructs whose meaning
sqlglot cannot carry across on its own, and writes Spark SQL:

- JSON is text on Spark: ``CAST(x AS JSON)`` keeps the text;
- ``tags->>'key'`` reads one key of a JSON object, by name, whatever characters the key holds
  (``eks:cluster-name``), as ``from_json(tags, 'map<string,string>')['key']``;
- ``json_keys(tags)`` lists an object's keys (``map_keys``); ``json_valid(x)`` is true when the
  text parses (``get_json_object(x, '$') IS NOT NULL``), null for null;
- ``regexp_full_match(s, p)`` matches the whole string (``s RLIKE '^(?:p)$'``);
- ``isfinite(x)`` is neither NaN nor infinite;
- ``array_agg(DISTINCT x)`` is ``collect_set(x)`` (the distinct values, without nulls, in any
  order; callers read it as a set).

Everything else (types, ``GROUP BY ALL``, ``count_if``, ``TRY_CAST``, null ordering, window
functions, ``date_trunc``) is sqlglot's own DuckDB → Spark translation. The tests run the same
statements on both engines and compare the results.
"""

from __future__ import annotations

import functools

import sqlglot
from sqlglot import exp

_TAG_MAP = "map<string,string>"


def _json_map(node: exp.Expression) -> exp.Expression:
    return exp.Anonymous(this="from_json", expressions=[node, exp.Literal.string(_TAG_MAP)])


def _json_key(path: exp.Expression) -> str | None:
    if isinstance(path, exp.Literal) and path.is_string:
        key = path.this
        return key[2:] if key.startswith("$.") else key
    if isinstance(path, exp.JSONPath):
        parts = [p for p in path.expressions if not isinstance(p, exp.JSONPathRoot)]
        if len(parts) == 1 and isinstance(parts[0], exp.JSONPathKey):
            return str(parts[0].this)
    return None


def _rewrite(node: exp.Expression) -> exp.Expression:
    if isinstance(node, exp.Cast) and node.to.is_type(exp.DataType.Type.JSON):
        return exp.cast(node.this, exp.DataType.Type.VARCHAR)
    if isinstance(node, exp.JSONExtractScalar):
        key = _json_key(node.expression)
        if key is not None:
            return exp.Bracket(this=_json_map(node.this), expressions=[exp.Literal.string(key)])
    if isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Distinct) \
            and len(node.this.expressions) == 1:
        # one pass (a set per group) rather than Spark's row expansion for each DISTINCT aggregate
        return exp.Anonymous(this="collect_set", expressions=[node.this.expressions[0]])
    if isinstance(node, exp.JSONKeys):
        return exp.Anonymous(this="map_keys", expressions=[_json_map(node.this)])
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        if isinstance(pattern, exp.Literal):
            pattern = exp.Literal.string(f"^(?:{pattern.this})$")
        return exp.RegexpLike(this=node.this, expression=pattern)
    if isinstance(node, exp.Anonymous):
        name = str(node.this).lower()
        args = node.expressions
        if name == "json_valid" and len(args) == 1:
            parsed = exp.Not(this=exp.Is(
                this=exp.Anonymous(this="get_json_object", expressions=[args[0].copy(), exp.Literal.string("$")]),
                expression=exp.Null()))
            return exp.If(this=exp.Not(this=exp.Is(this=args[0].copy(), expression=exp.Null())),
                          true=parsed, false=exp.Null())
        if name == "isfinite" and len(args) == 1:
            x = args[0]
            return exp.and_(
                exp.Not(this=exp.Anonymous(this="isnan", expressions=[x.copy()])),
                exp.Anonymous(this="abs", expressions=[x.copy()])
                < exp.Anonymous(this="double", expressions=[exp.Literal.string("inf")]))
    return node


@functools.lru_cache(maxsize=512)
def to_spark(sql: str) -> str:
    """``sql`` (one DuckDB statement) as Spark SQL."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    for _ in range(4):  # a rewrite may uncover another (a JSON cast inside a JSON cast)
        before = tree.sql(dialect="duckdb")
        tree = tree.transform(_rewrite)
        if tree.sql(dialect="duckdb") == before:
            break
    return tree.sql(dialect="spark")
