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
from collections.abc import Callable

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
class Layout:
    """The columns of the table a load inserts into (name → SQL type, in order), and SQL over a
    staged row for those the files do not give (``SOURCE_PATH`` names the row's file)."""

    columns: dict[str, str]
    extra: dict[str, str]


@dataclasses.dataclass(frozen=True)
class Staged:
    """The staged rows of some files: ``table`` (a quoted table name) holds the typed columns
    ``targets`` (store name → SQL type) of every file in ``paths``; with ``layout``, every column of
    that layout first, in its order (the table can become the load's table: :func:`adopt`)."""

    table: str
    targets: dict[str, str]
    paths: frozenset[str]
    layout: Layout | None = None


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
    con: duckdb.DuckDBPyConnection, files: list[FocusFile],
    layout: Callable[[list[FocusFile]], Layout] | None = None,
) -> tuple[list[list[Problem]], dict[str, Staged]]:
    """``check_files(con, files)``, reading each group of CSV files once into a staged table.

    Returns each file's problems and, by file path, the staged rows of every valid CSV file. The caller
    drops the tables (:func:`drop`) once it has loaded them. Where the files are one group, ``layout``
    (given the files) is the layout of the table they load into: the staged table holds its columns.
    """
    results: dict[int, list[Problem]] = {}
    staged: dict[str, Staged] = {}
    groups = read_together(files)
    shape = layout(files) if layout is not None and len(groups) == 1 else None
    for members in groups:
        first = files[members[0]]
        stage = _stage(con, [files[i] for i in members], shape) if first.source.format in _CSV else None
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
        info = Staged(table, first.target_types(), frozenset(str(files[i].source.path) for i in members), shape)
        staged.update({p: info for p in info.paths})
    _beyond_limit_together(files, results)
    if any(results.values()):
        drop(con, staged)
        staged = {}
    return [results[i] for i in range(len(files))], staged


def _stage(con: duckdb.DuckDBPyConnection, files: list[FocusFile],
           layout: Layout | None = None) -> tuple[str, list[tuple[str, str]]] | None:
    """One pass over ``files`` (one dialect and header) into a table: (its name, the probe columns);
    None when the files cannot be read that way (``check_files`` says why). Without ``layout`` the
    table is temporary and holds the typed columns of the files; with it, the columns of ``layout``
    in its order, typed as it says (as ``insert_sql`` would insert them)."""
    first = files[0]
    types = first.target_types()
    typed = {m.target: f"CAST({first.expression(m)} AS {types[m.target]})" for m in first.maps}
    if layout is None:
        columns = [f"{sql} AS {_q(name)}" for name, sql in typed.items()]
    else:
        columns = [f"{_insert_item(name, sql_type, typed, layout.extra)} AS {_q(name)}"
                   for name, sql_type in layout.columns.items()]
    items = _probe_items(first)
    table = sql_identifier(f"__finops_xl_staged_{next(_names)}")
    kind = "TEMP TABLE" if layout is None else "TABLE"
    # First as if no row were short: a short row stops that reader, and most files have none. Then
    # the padding probe is false on every row, and no second pass over the file has to tell a
    # missing last field from an empty one (``csvfiles.padded_rows``). A file that has short rows
    # (or cannot be read so) is read with its short rows padded, as every other reader does.
    for padded in (False, True):
        probes = [f"{'false' if alias == _PADDING and not padded else sql} AS {sql_identifier(alias)}"
                  for alias, sql in items]
        reader = reader_sql([f.source for f in files], filename_column=SOURCE_PATH, pad_short_rows=padded)
        try:
            con.execute(f"CREATE {kind} {table} AS SELECT {sql_identifier(SOURCE_PATH)}, "
                        f"{', '.join(columns + probes)} FROM {reader}")
            return table, items
        except duckdb.Error:
            con.execute(f"DROP TABLE IF EXISTS {table}")
    return None


def insert_sql(stage: Staged, paths: list[str], columns: dict[str, str], extra: dict[str, str]) -> str:
    """``INSERT INTO charges`` of the staged rows of the files ``paths``: every column of
    ``columns`` (the table's, name → type), ``extra`` (name → SQL over the staged row) where given,
    null where the files lack it."""
    held = {t: _q(t) for t in (stage.layout.columns if stage.layout is not None else stage.targets)}
    items = [f"{_insert_item(name, sql_type, held, extra)} AS {_q(name)}" for name, sql_type in columns.items()]
    where = ""
    if set(paths) != stage.paths:
        where = f" WHERE {sql_identifier(SOURCE_PATH)} IN ({', '.join(sql_literal(p) for p in paths)})"
    return f"INSERT INTO charges BY NAME SELECT {', '.join(items)} FROM {stage.table}{where}"


def _insert_item(name: str, sql_type: str, typed: dict[str, str], extra: dict[str, str]) -> str:
    """The value a load inserts into column ``name``: ``extra``'s SQL where given, else the file's
    typed value (``typed``: name → SQL) as ``sql_type``, else null."""
    if name in extra:
        return f"CAST({extra[name]} AS {sql_type})"
    if name in typed:
        return f"CAST({typed[name]} AS {sql_type})"
    return f"CAST(NULL AS {sql_type})"


def adopt(con: duckdb.DuckDBPyConnection, staged: dict[str, Staged], paths: list[str],
          columns: dict[str, str], table: str = "charges") -> bool:
    """Make the staged rows of ``paths`` the table ``table`` (empty, with ``columns``) without
    copying them, where one staged table holds exactly those files in exactly that layout: its probe
    columns are dropped and it takes the table's name. False (nothing changed) where it cannot;
    the caller then inserts with :func:`insert_sql`."""
    stages = {id(staged.get(p)): staged.get(p) for p in paths}
    stage = next(iter(stages.values())) if len(stages) == 1 else None
    if stage is None or stage.layout is None or stage.paths != set(paths):
        return False
    have = column_types(con, stage.table)
    if list(have.items())[1:len(columns) + 1] != list(columns.items()):
        return False
    if con.execute(f"SELECT count(*) FROM {sql_identifier(table)}").fetchall()[0][0]:
        return False
    for name in have:
        if name not in columns:
            con.execute(f"ALTER TABLE {stage.table} DROP COLUMN {sql_identifier(name)}")
    con.execute(f"DROP TABLE {sql_identifier(table)}")
    con.execute(f"ALTER TABLE {stage.table} RENAME TO {sql_identifier(table)}")
    return True


def column_types(con: duckdb.DuckDBPyConnection, table: str) -> dict[str, str]:
    """Column name → type of the table ``table`` (a quoted name), in order."""
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE {table}").fetchall()}


def drop(con: duckdb.DuckDBPyConnection, staged: dict[str, Staged]) -> None:
    """Free the staged tables."""
    for table in {s.table for s in staged.values()}:
        con.execute(f"DROP TABLE IF EXISTS {table}")

