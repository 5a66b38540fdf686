"""Load FOCUS exports into the cost store, restatement-safe and all-or-nothing.

A *slice* is what a provider restates as a whole: (ProviderName, BillingAccountId,
BillingPeriodStart). One load (one call of ``ingest``, all of its files together) replaces every
slice it contains: the slice's rows afterwards are exactly the rows of this load. So

- loading the same files again changes nothing (it is recognised by content hash and skipped);
- loading a newer export of a month replaces the older rows, never adds to them;
- an export split into several part files must be loaded in one call (a folder, or all the parts),
  because a later load that contains a slice replaces all of that slice.

Steps of a load:

1. find the inputs and hash them; skip if this exact set of files is already the current version
   of every slice it covers;
2. map and validate every file (``focus.reader``); any problem in any file aborts the whole load;
3. in one transaction on the writer's private copy: insert the rows of every file, tagged with the
   load id; total the new slices; delete the previous rows of those slices; record the manifest,
   slice versions and normalizations;
4. swap the copy in (``store.CostStore.writer``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_xl.focus import convert
from finops_xl.focus.reader import FocusFile, Normalization, check_files
from finops_xl.store.errors import IngestError, Notice
from finops_xl.store.sources import (
    SourceFile, content_hash, discover, reader_sql, sql_identifier, sql_literal,
)
from finops_xl.store.store import CostStore, connect, cube_insert_sql, slice_totals_sql, table_columns

#: progress(stage, fraction): stage is a short phrase ("validating aws-2025-01.parquet"), fraction
#: the share of the whole load done so far, 0.0 to 1.0.
Progress = Callable[[str, float], None]

#: Column name under which a multi-file reader reports each row's file.
_SOURCE_PATH = "__finops_xl_source_path"


@dataclasses.dataclass(frozen=True)
class SliceChange:
    """One slice written by a load.

    Attributes:
      provider, billing_account, billing_period_start: the slice's key.
      rows, billed_cost, effective_cost: the new version's row count and exact totals.
      replaced_rows: rows of the previous version removed (0 for a slice new to the store).
      is_new: True when the store had no version of this slice.
    """

    provider: str
    billing_account: str
    billing_period_start: dt.datetime
    rows: int
    billed_cost: Decimal
    effective_cost: Decimal
    replaced_rows: int
    is_new: bool


@dataclasses.dataclass(frozen=True)
class FileReport:
    """One input file as validated (and loaded).

    Attributes:
      label: the file as the user named it.  format: csv, csv.gz or parquet.  bytes: its size.
      focus_version: detected from its columns.  rows: data rows.
      content_hash: sha256 of its bytes.  normalizations: what was repaired.
      extras: its non-FOCUS columns, as stored (``x_``-prefixed).
      native_format: for a native export converted to FOCUS, its format (a key of
        ``focus.convert.FORMATS``, ``azure`` for an actual + amortized pair); None for a FOCUS file.
        The label then names every file of the group, and format is ``<native format>`` too.
      notices: what the load could not determine or chose for this input (it still loaded).
    """

    label: str
    format: str
    bytes: int
    focus_version: str
    rows: int
    content_hash: str
    normalizations: tuple[Normalization, ...]
    extras: tuple[str, ...]
    native_format: str | None = None
    notices: tuple[Notice, ...] = ()


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What a load did.

    Attributes:
      load_id: the load's id in the manifest (None when nothing was loaded).
      files: per input file.  slices: per slice written.
      rows: rows loaded.  unchanged: True when the inputs were already current (nothing written).
      seconds: wall time.
    """

    load_id: int | None
    files: tuple[FileReport, ...]
    slices: tuple[SliceChange, ...]
    rows: int
    unchanged: bool
    seconds: float

    @property
    def replaced(self) -> tuple[SliceChange, ...]:
        return tuple(s for s in self.slices if not s.is_new)

    @property
    def added(self) -> tuple[SliceChange, ...]:
        return tuple(s for s in self.slices if s.is_new)


def _noop(stage: str, fraction: float) -> None:
    return None


def validate(
    paths: Sequence[str | os.PathLike[str]], *, partial: bool = False
) -> tuple[FileReport, ...]:
    """Check exports without loading them; raises IngestError listing every problem.

    Args:
      paths: files or folders.
      partial: accept files that lack mandatory columns (e.g. the FOCUS spec's own examples);
        every value present is still checked.
    """
    sources = discover(list(paths))
    con = connect(":memory:", read_only=False)
    try:
        with tempfile.TemporaryDirectory(prefix="finops-xl-convert-") as work:
            sources, origins, _ = _convert_native(con, sources, None, work)
            reports, _ = _validate_all(con, sources, partial=partial, hashes=None, progress=_noop,
                                       origins=origins)
    finally:
        con.close()
    return reports


def ingest(
    paths: Sequence[str | os.PathLike[str]],
    store: CostStore | str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
) -> LoadReport:
    """Load FOCUS exports (files or folders of CSV, CSV.gz, Parquet) into the store as one load.

    Returns a LoadReport; raises IngestError (store unchanged) if any input is invalid.
    """
    started = time.monotonic()
    progress = progress or _noop
    store = store if isinstance(store, CostStore) else CostStore(store)
    sources = discover(list(paths))
    total_bytes = sum(s.size for s in sources) or 1
    hashes = {}
    done = 0
    for s in sources:
        progress(f"hashing {s.label}", 0.1 * done / total_bytes)
        hashes[s.path] = content_hash(s.path)
        done += s.size
    with store.writer() as con, tempfile.TemporaryDirectory(prefix="finops-xl-convert-") as work:
        groups = convert.native_groups(con, sources)
        group_hashes = _group_hashes(groups, hashes)
        if _already_current(con, sorted(group_hashes)):
            return LoadReport(None, (), (), 0, True, time.monotonic() - started)
        progress("converting native exports to FOCUS", 0.12)
        sources, origins, hashes = _convert_native(con, sources, hashes, work, groups=groups)
        reports, files = _validate_all(con, sources, partial=False, hashes=hashes, progress=progress,
                                       origins=origins)
        load_id = int(con.execute("SELECT coalesce(max(load_id), 0) + 1 FROM manifest").fetchall()[0][0])
        loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        con.execute("BEGIN TRANSACTION")
        _add_new_columns(con, files)
        columns = table_columns(con, "charges")
        groups: dict[tuple, list[int]] = {}
        for i, f in enumerate(files):
            groups.setdefault(f.plan_key(), []).append(i)
        total_rows = sum(r.rows for r in reports) or 1
        done_rows = 0
        for members in groups.values():
            # one reader over every file sharing a plan: DuckDB parallelizes across the files
            # and writes row groups straight to storage
            reader = reader_sql([files[i].source for i in members], filename_column=_SOURCE_PATH)
            labels = " ".join(
                f"WHEN {sql_literal(str(files[i].source.path))} THEN {sql_literal(reports[i].label)}"
                for i in members
            )
            sql = "INSERT INTO charges BY NAME " + files[members[0]].select_sql(
                columns,
                extra={"x_LoadId": str(load_id),
                       "x_SourceFile": f"CASE {sql_identifier(_SOURCE_PATH)} {labels} END"},
                reader=reader,
            )
            rows = sum(reports[i].rows for i in members)
            base, share = done_rows / total_rows, rows / total_rows
            _execute_with_progress(
                con, sql,
                lambda q, b=base, w=share: progress(f"loading {total_rows:,} rows", 0.4 + 0.55 * (b + w * q)),
            )
            done_rows += rows
        progress("replacing restated slices", 0.96)
        slices = _replace_slices(con, load_id, loaded_at)
        _record(con, load_id, loaded_at, reports)
        con.execute("COMMIT")
        progress("done", 1.0)
    return LoadReport(
        load_id, tuple(reports), tuple(slices), sum(r.rows for r in reports), False,
        time.monotonic() - started,
    )


def _group_hashes(groups: tuple[list[SourceFile], list[convert.NativeGroup]], hashes: dict) -> list[str]:
    """The content hash of every load unit: each FOCUS file, and each native group as one."""
    focus, native = groups
    return ([hashes[s.path] for s in focus]
            + [convert.group_hash([hashes[s.path] for s in g.sources]) for g in native])


def _convert_native(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    hashes: dict | None,
    work: str,
    *,
    groups: tuple[list[SourceFile], list[convert.NativeGroup]] | None = None,
) -> tuple[list[SourceFile], dict, dict | None]:
    """Convert the native exports among ``sources`` to FOCUS Parquet files in ``work``.

    Returns the sources to load (FOCUS files as given, one converted file per native group), each
    converted file's (native format, original bytes), and the content hashes by source path (a
    group's hash combines its files' hashes).
    """
    focus, native = groups if groups is not None else convert.native_groups(con, sources)
    out = list(focus)
    origins: dict = {}
    new_hashes = {s.path: hashes[s.path] for s in focus} if hashes is not None else None
    for i, group in enumerate(native):
        path = Path(work) / f"native-{i}.parquet"
        convert.convert_group(con, group, path)
        converted = SourceFile(path.absolute(), group.label, "parquet", path.stat().st_size)
        out.append(converted)
        origins[converted.path] = (group.format, sum(s.size for s in group.sources),
                                   tuple(convert.group_notices(con, group)))
        if new_hashes is not None:
            new_hashes[converted.path] = convert.group_hash([hashes[s.path] for s in group.sources])
    return out, origins, new_hashes


def _validate_all(
    con: duckdb.DuckDBPyConnection,
    sources: list[SourceFile],
    *,
    partial: bool,
    hashes: dict | None,
    progress: Progress,
    origins: dict | None = None,
) -> tuple[list[FileReport], list[FocusFile]]:
    problems = []
    candidates: list[FocusFile] = []
    for s in sources:
        try:
            candidates.append(FocusFile(con, s, partial=partial))
        except IngestError as exc:
            problems.extend(exc.problems)
    progress(f"validating {len(candidates)} file(s)", 0.15)
    reports: list[FileReport] = []
    files: list[FocusFile] = []
    for f, found in zip(candidates, check_files(con, candidates)):
        if found:
            problems.extend(found)
            continue
        s = f.source
        rows = f.rows or 0
        norms = [dataclasses.replace(n, rows=rows) if n.rows == 0 else n for n in f.column_normalizations]
        norms.extend(f.value_normalizations())
        files.append(f)
        native_format, size, notices = (origins or {}).get(s.path, (None, s.size, ()))
        reports.append(FileReport(
            s.label, native_format or s.format, size, f.version, rows,
            hashes[s.path] if hashes else "", tuple(norms), f.extras, native_format, notices,
        ))
    if problems:
        raise IngestError(problems)
    return reports, files


def _already_current(con: duckdb.DuckDBPyConnection, hashes: list[str]) -> bool:
    """True if the latest load of exactly these file contents is still every slice's version."""
    row = con.execute(
        """
        WITH loads AS (
            SELECT load_id, list_sort(list(content_hash)) AS hashes FROM manifest GROUP BY load_id
        )
        SELECT max(load_id) FROM loads WHERE hashes = ?::VARCHAR[]
        """,
        [hashes],
    ).fetchall()[0]
    if row is None or row[0] is None:
        return False
    load_id = row[0]
    covered, current = con.execute(
        """
        SELECT
          (SELECT count(DISTINCT (s->>'ProviderName', s->>'BillingAccountId', s->>'BillingPeriodStart'))
             FROM (SELECT unnest(CAST(slices AS JSON[])) AS s FROM manifest WHERE load_id = $1)),
          (SELECT count(*) FROM slices WHERE load_id = $1)
        """,
        [load_id],
    ).fetchall()[0]
    return covered > 0 and covered == current


def _add_new_columns(con: duckdb.DuckDBPyConnection, files: list[FocusFile]) -> None:
    """Add to ``charges`` the 1.3 and extra columns a file brings that the store lacks."""
    existing = {k.lower() for k in table_columns(con, "charges")}
    for f in files:
        for name, sql_type in f.target_types().items():
            if name.lower() not in existing:
                con.execute(f"ALTER TABLE charges ADD COLUMN {sql_identifier(name)} {sql_type}")
                existing.add(name.lower())


def _replace_slices(
    con: duckdb.DuckDBPyConnection, load_id: int, loaded_at: dt.datetime
) -> list[SliceChange]:
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_slices AS {slice_totals_sql(f'x_LoadId = {int(load_id)}')}")
    con.execute(
        """
        DELETE FROM cost_daily USING new_slices s
        WHERE cost_daily.ProviderName = s.ProviderName
          AND cost_daily.BillingAccountId = s.BillingAccountId
          AND cost_daily.BillingPeriodStart = s.BillingPeriodStart
        """
    )
    con.execute(cube_insert_sql(f"x_LoadId = {int(load_id)}"))
    con.execute(
        """
        DELETE FROM charges USING new_slices s
        WHERE charges.x_LoadId <> $1
          AND charges.ProviderName = s.ProviderName
          AND charges.BillingAccountId = s.BillingAccountId
          AND charges.BillingPeriodStart = s.BillingPeriodStart
        """,
        [load_id],
    )
    changes = con.execute(
        """
        SELECT n.ProviderName, n.BillingAccountId, n.BillingPeriodStart, n.rows,
               n.BilledCost, n.EffectiveCost, coalesce(o.rows, 0), o.rows IS NULL
        FROM new_slices n LEFT JOIN slices o USING (ProviderName, BillingAccountId, BillingPeriodStart)
        ORDER BY ALL
        """
    ).fetchall()
    con.execute(
        """
        INSERT INTO slice_history
        SELECT n.ProviderName, n.BillingAccountId, n.BillingPeriodStart, $1, $2, n.rows,
               n.BilledCost, n.EffectiveCost, coalesce(o.rows, 0)
        FROM new_slices n LEFT JOIN slices o USING (ProviderName, BillingAccountId, BillingPeriodStart)
        """,
        [load_id, loaded_at],
    )
    con.execute(
        """
        INSERT OR REPLACE INTO slices
        SELECT ProviderName, BillingAccountId, BillingPeriodStart, $1, $2, rows,
               BilledCost, EffectiveCost
        FROM new_slices
        """,
        [load_id, loaded_at],
    )
    return [
        SliceChange(p, a, b, int(n), Decimal(bc or 0), Decimal(ec or 0), int(old), bool(new))
        for p, a, b, n, bc, ec, old, new in changes
    ]


def _record(
    con: duckdb.DuckDBPyConnection, load_id: int, loaded_at: dt.datetime, reports: list[FileReport]
) -> None:
    per_file = con.execute(
        """
        SELECT x_SourceFile, ProviderName, BillingAccountId, BillingPeriodStart, count(*)
        FROM charges WHERE x_LoadId = $1 GROUP BY ALL ORDER BY ALL
        """,
        [load_id],
    ).fetchall()
    slices_of: dict[str, list[dict]] = {}
    for label, p, a, b, n in per_file:
        slices_of.setdefault(label, []).append({
            "ProviderName": p, "BillingAccountId": a,
            "BillingPeriodStart": b.isoformat(), "rows": int(n),
        })
    for r in reports:
        con.execute(
            "INSERT INTO manifest VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, loaded_at, r.label, r.content_hash, r.bytes, r.format,
             r.focus_version, r.rows, json.dumps(slices_of.get(r.label, []))],
        )
        for n in r.normalizations:
            con.execute(
                "INSERT INTO normalizations VALUES (?, ?, ?, ?, ?, ?, ?)",
                [load_id, r.label, n.column, n.original, n.normalized, n.rows, n.note],
            )
    con.execute(
        "INSERT OR REPLACE INTO store_info VALUES ('last_load_id', ?), ('last_loaded_at', ?)",
        [str(load_id), loaded_at.isoformat()],
    )


def _execute_with_progress(
    con: duckdb.DuckDBPyConnection, sql: str, on_fraction: Callable[[float], None]
) -> None:
    """Run ``sql``, reporting DuckDB's own progress estimate while it runs."""
    finished = threading.Event()

    def poll() -> None:
        while not finished.wait(0.25):
            try:
                pct = con.query_progress()
            except duckdb.Error:
                continue
            if pct is not None and pct >= 0:
                on_fraction(min(pct, 100.0) / 100.0)

    watcher = threading.Thread(target=poll, daemon=True)
    watcher.start()
    try:
        con.execute(sql)
    finally:
        finished.set()
        watcher.join()
    on_fraction(1.0)
