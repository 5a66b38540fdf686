"""A CSV read once by a load: parsed, typed and validated in one pass, loaded from what that pass kept.

``check_files`` validates a file by one aggregate query over its rows, then a load reads the file a
second time to type and insert them. For Parquet that second read is cheap; for CSV text it is the
parse again and every typing expression again. Here one pass over each group of CSV files (same
dialect and header) writes a temporary table of

- the file's path (``reader.SOURCE_PATH``),
- every mapped column typed as the store holds it (``FocusFile.expression``, the form that repairs
  what it may: for a file that passes validation it gives the values the plain form gives),
- one column per row check, normalization probe, closed value set, money total and padding probe
  (what ``FocusFile.validation_sql`` aggregates),

then the validation aggregates that table (set-based, columnar, no text parsed again) and the load
inserts from it (:func:`insert_sql`). A group that cannot be read, or that fails, falls back to
``check_files``, so every message is the one a file read directly gives.
"""

from __future__ import annotations

import dataclasses
import itertools

import duckdb

from finops_xl.focus.reader import FocusFile, _beyond_limit_together, _q, check_files, read_together
from finops_xl.errors import Problem
from finops_xl.sources import reader_sql, sql_identifier, sql_literal

#: Column of a staged table (and of a multi-file reader) naming each row's file.
SOURCE_PATH = "__finops_xl_source_path"

_CSV = ("csv", "csv.gz")
_names = itertools.count(1)
#: The probe column counting rows whose last field is null (read padded, a short row's is).
_PADDING = "__finops_xl_l"


@dataclasses.dataclass(frozen=True)
class Staged:
    """The staged rows of some files: ``table`` (a quoted temporary table name) holds the typed
    columns ``targets`` (store name → SQL type) of every file in ``paths``."""

    table: str
    targets: dict[str, str]
    paths: frozenset[str]


def _probe_items(f: FocusFile) -> list[tuple[str, str]]:
    """(column alias, per-row SQL) for each value ``FocusFile._count_sql`` aggregates, in its order."""
    items = [(f"__finops_xl_c{i}", c.condition) for i, c in enumerate(f._checks())]
    items += [(f"__finops_xl_p{i}", cond) for i, (_, cond) in enumerate(f._normalization_probes())]
    items += [(f"__finops_xl_s{i}", f"CAST({_q(m.source)} AS VARCHAR)") for i, m in enumerate(f._value_sets())]
    items += [(f"__finops_xl_m{i}", f"abs(TRY_CAST({f.expression(m)} AS DOUBLE))")
              for i, m in enumerate(f._money())]
    if f._csv_columns():
        items.append((_PADDING, f"{_q(f.source.columns[-1])} IS NULL"))
    return items


def _aggregate_sql(items: list[tuple[str, str]]) -> str:
    """The aggregate list over a staged table, matching ``FocusFile._count_sql`` value for value."""
    parts = ["count(*)"]
    for alias, _ in items:
        kind = alias.split("_")[-1][0]
        col = sql_identifier(alias)
        if kind in ("c", "p", "l"):
            parts.append(f"count_if({col})")
        elif kind == "s":
            parts.append(f"array_agg(DISTINCT {col})")
        else:
            parts.append(f"sum({col})")
    return ", ".join(parts)


def check_and_stage(
    con: duckdb.DuckDBPyConnection, files: list[FocusFile]
) -> tuple[list[list[Problem]], dict[str, Staged]]:
    """``check_files(con, files)``, reading each group of CSV files once into a staged table.

    Returns each file's problems and, by file path, the staged rows of every valid CSV file. The caller
    drops the tables (:func:`drop`) once it has loaded them.
    """
    results: dict[int, list[Problem]] = {}
    staged: dict[str, Staged] = {}
    for members in read_together(files):
        first = files[members[0]]
        stage = _stage(con, [files[i] for i in members]) if first.source.format in _CSV else None
        if stage is None:
            for i, found in zip(members, check_files(con, [files[i] for i in members])):
                results[i] = found
            continue
        table, items = stage
        by_path = {r[0]: tuple(r[1:]) for r in con.sql(
            f"SELECT {sql_identifier(SOURCE_PATH)}, {_aggregate_sql(items)} FROM {table} GROUP BY 1").fetchall()}
        # the same counts check_files gets: the same problems (rows located in the file itself)
        for i in members:
            results[i] = files[i]._absorb(by_path.get(str(files[i].source.path)))
        if any(results[i] for i in members):
            con.execute(f"DROP TABLE {table}")
            continue
        info = Staged(table, first.target_types(), frozenset(str(files[i].source.path) for i in members))
        staged.update({p: info for p in info.paths})
    _beyond_limit_together(files, results)
    if any(results.values()):
        drop(con, staged)
        staged = {}
    return [results[i] for i in range(len(files))], staged


def _stage(con: duckdb.DuckDBPyConnection, files: list[FocusFile]) -> tuple[str, list[tuple[str, str]]] | None:
    """One pass over ``files`` (one dialect and header) into a temporary table: (its name, the
    probe columns); None when the files cannot be read that way (``check_files`` says why)."""
    first = files[0]
    types = first.target_types()
    typed = [f"CAST({first.expression(m)} AS {types[m.target]}) AS {_q(m.target)}" for m in first.maps]
    items = _probe_items(first)
    table = sql_identifier(f"__finops_xl_staged_{next(_names)}")
    # First as if no row were short: a short row stops that reader, and most files have none. Then
    # the padding probe is false on every row, and no second pass over the file has to tell a
    # missing last field from an empty one (``csvfiles.padded_rows``). A file that has short rows
    # (or cannot be read so) is read with its short rows padded, as every other reader does.
    for padded in (False, True):
        probes = [f"{'false' if alias == _PADDING and not padded else sql} AS {sql_identifier(alias)}"
                  for alias, sql in items]
        reader = reader_sql([f.source for f in files], filename_column=SOURCE_PATH, pad_short_rows=padded)
        try:
            con.execute(f"CREATE TEMP TABLE {table} AS SELECT {sql_identifier(SOURCE_PATH)}, "
                        f"{', '.join(typed + probes)} FROM {reader}")
            return table, items
        except duckdb.Error:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return None


def insert_sql(stage: Staged, paths: list[str], columns: dict[str, str], extra: dict[str, str]) -> str:
    """``INSERT INTO charges`` of the staged rows of the files ``paths``: every column of
    ``columns`` (the table's, name → type), ``extra`` (name → SQL over the staged row) where given,
    null where the files lack it."""
    items = []
    for name, sql_type in columns.items():
        if name in extra:
            items.append(f"{extra[name]} AS {_q(name)}")
        elif name in stage.targets:
            items.append(f"CAST({_q(name)} AS {sql_type}) AS {_q(name)}")
        else:
            items.append(f"CAST(NULL AS {sql_type}) AS {_q(name)}")
    where = ""
    if set(paths) != stage.paths:
        where = f" WHERE {sql_identifier(SOURCE_PATH)} IN ({', '.join(sql_literal(p) for p in paths)})"
    return f"INSERT INTO charges BY NAME SELECT {', '.join(items)} FROM {stage.table}{where}"


def drop(con: duckdb.DuckDBPyConnection, staged: dict[str, Staged]) -> None:
    """Free the staged tables."""
    for table in {s.table for s in staged.values()}:
        con.execute(f"DROP TABLE IF EXISTS {table}")

