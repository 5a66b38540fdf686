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

from finops_xl.focus import convert, staging
from finops_xl.focus.reader import FocusFile, check_files
from finops_xl.store import companions, opencost
from finops_xl.store.errors import IngestError, Notice, Problem
from finops_xl.store.load_checks import (  # noqa: F401
    _key_columns,
    _refuse_duplicate_charges,
    _unify_account_spellings,
)
from finops_xl.store.load_inputs import _changed, _stat, unique_inputs  # noqa: F401
from finops_xl.store.load_report import (  # noqa: F401
    _SOURCE_PATH,
    FileReport,
    LoadReport,
    Progress,
    SliceChange,
    _noop,
)
from finops_xl.store.sources import (
    Inputs,
    Skipped,
    SourceFile,
    find_inputs,
    reader_sql,
    sql_identifier,
    sql_literal,
)
from finops_xl.store.store import (
    CostStore,
    connect,
    cube_insert_sql,
    ensure_schema,
    slice_totals_sql,
    table_columns,
)


#: progress(stage, fraction): stage is a short phrase ("validating aws-2025-01.parquet"), fraction
#: the share of the whole load done so far, 0.0 to 1.0.
def validate(
    paths: Sequence[str | os.PathLike[str]], *, partial: bool = False
) -> tuple[FileReport, ...]:
    """Check exports without loading them; raises IngestError listing every problem.

    Each input is checked once, however often it is reached (see ``find_inputs`` and
    :func:`unique_inputs`).

    Args:
      paths: files or folders.
      partial: accept files that lack mandatory columns (e.g. the FOCUS spec's own examples);
        every value present is still checked.
    """
    inputs = find_inputs(list(paths))
    sources, _, hashes, _ = unique_inputs(inputs, _noop)
    con = connect(":memory:", read_only=False)
    try:
        with tempfile.TemporaryDirectory(prefix="finops-xl-convert-") as work:
            k8s_sources, sources = opencost.split(sources)
            if k8s_sources:
                ensure_schema(con)  # an empty store to check OpenCost exports against
            k8s = opencost.stage(con, k8s_sources, None)
            sources, origins, _ = _convert_native(con, sources, None, work)
            reports, _, _ = _validate_all(con, sources, partial=partial, hashes=None, progress=_noop,
                                          origins=origins, problems=opencost.problems(k8s))
    finally:
        con.close()
    return tuple(reports) + tuple(
        FileReport(s.label, s.format, s.size, "", n, "", (), (), opencost.FORMAT,
                   tuple(x for x in k8s.notices if s.label in x.file.split(", ")), (str(s.path),))
        for s, n in zip(k8s_sources, k8s.file_rows if k8s else ()))


def ingest(
    paths: Sequence[str | os.PathLike[str]],
    store: CostStore | str | os.PathLike[str] | None = None,
    *,
    progress: Progress | None = None,
    kubernetes: opencost.AllocationOptions | None = None,
) -> LoadReport:
    """Load FOCUS exports (files or folders of CSV, CSV.gz, Parquet) into the store as one load.

    OpenCost CSV exports among the inputs load into ``kubernetes_allocation``, never ``charges``
    (read as ``kubernetes`` says: see ``store.opencost``).

    Each input is loaded once however often it is reached (the same path, spelling, folder or bytes
    under another name: see ``LoadReport.skipped``). A file that changes while the load reads it
    stops the load. Returns a LoadReport; raises IngestError (store unchanged) if any input is
    invalid.
    """
    started = time.monotonic()
    progress = progress or _noop
    store = store if isinstance(store, CostStore) else CostStore(store)
    inputs = find_inputs(list(paths))
    originals, skipped, hashes, stats = unique_inputs(inputs, progress)
    sources = list(originals)
    try:
        with store.writer() as con, tempfile.TemporaryDirectory(prefix="finops-xl-convert-") as work:
            k8s_sources, sources = opencost.split(sources)
            k8s = opencost.stage(con, k8s_sources, hashes, kubernetes)
            groups = convert.native_groups(con, sources)
            # an Azure export alone: the companion the month was loaded from completes it
            sources, hashes, groups = companions.complete(con, sources, hashes, groups)
            group_hashes = _group_hashes(groups, hashes)
            if not group_hashes or _already_current(con, sorted(group_hashes)):
                if k8s is None or k8s.unchanged:
                    return LoadReport(None, (), (), 0, True, time.monotonic() - started, tuple(skipped))
                skipped += [Skipped(s.label, "already the current version of its slices") for s in sources]
                sources, groups = [], ([], [])  # the charges are current: load the allocations alone
            progress("converting native exports to FOCUS", 0.12)
            sources, origins, hashes = _convert_native(con, sources, hashes, work, groups=groups)
            load_id = opencost.next_load_id(con)
            reports, files, staged = _validate_all(
                con, sources, partial=False, hashes=hashes, progress=progress, origins=origins,
                problems=opencost.problems(k8s), stage=True, layout=lambda fs: _layout(con, fs, load_id))
            _check_delivery_rows(con, inputs, originals)
            loaded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
            con.execute("BEGIN TRANSACTION")
            notices = _add_new_columns(con, files)
            columns = table_columns(con, "charges")
            plans: dict[tuple, list[int]] = {}
            for i, f in enumerate(files):
                plans.setdefault(f.plan_key(), []).append(i)
            total_rows = sum(r.rows for r in reports) or 1
            done_rows = 0
            for members in plans.values():
                paths = [str(files[i].source.path) for i in members]
                if len(plans) == 1 and staging.adopt(con, staged, paths, columns):
                    # the CSV rows staged by validation, in this table's layout, are its rows
                    progress(f"loading {total_rows:,} rows", 0.95)
                    break
                # one reader over every file sharing a plan: DuckDB parallelizes across the files
                # and writes row groups straight to storage
                extra = _lineage(load_id, [files[i] for i in members])
                stages = {id(staged.get(p)) for p in paths}
                if paths[0] in staged and len(stages) == 1:  # CSV rows typed once, by validation
                    sql = staging.insert_sql(staged[paths[0]], paths, columns, extra)
                else:
                    reader = reader_sql([files[i].source for i in members], filename_column=_SOURCE_PATH)
                    sql = "INSERT INTO charges BY NAME " + files[members[0]].select_sql(
                        columns, extra=extra, reader=reader)
                rows = sum(reports[i].rows for i in members)
                base, share = done_rows / total_rows, rows / total_rows
                _execute_with_progress(
                    con, sql,
                    lambda q, b=base, w=share: progress(f"loading {total_rows:,} rows", 0.4 + 0.55 * (b + w * q)),
                )
                done_rows += rows
            staging.drop(con, staged)
            progress("checking for charges given twice", 0.95)
            _refuse_duplicate_charges(con, load_id)
            notices += _unify_account_spellings(con, load_id)
            progress("replacing restated slices", 0.96)
            slices, replaced = _replace_slices(con, load_id, loaded_at)
            notices += replaced
            k8s = opencost.write(con, k8s, load_id)
            notices += k8s.notices if k8s else ()
            changed = _changed(originals, stats)
            if changed:
                raise IngestError(changed)
            _record(con, load_id, loaded_at, reports, notices)
            con.execute("COMMIT")
            progress("done", 1.0)
    except IngestError as exc:
        changed = _changed(originals, stats)
        if changed and not any("changed while" in p.message for p in exc.problems):
            raise IngestError(changed + list(exc.problems)) from None
        raise
    return LoadReport(
        load_id, tuple(reports), tuple(slices), sum(r.rows for r in reports), False,
        time.monotonic() - started, tuple(skipped), tuple(notices), k8s,
    )


def _check_delivery_rows(con: duckdb.DuckDBPyConnection, inputs: Inputs, sources: list[SourceFile]) -> None:
    """Each part of an Azure delivery holds the data rows its manifest says (``dataRowCount``)."""
    expected = {p: n for d in inputs.deliveries for p, n in d.rows.items()}
    mine = [s for s in sources if s.path in expected]
    if not mine:
        return
    problems = []
    for s in mine:
        try:
            n = int(con.execute(f"SELECT count(*) FROM {s.reader_sql()}").fetchall()[0][0])
        except duckdb.Error:
            continue  # unreadable files are reported by validation
        if n != expected[s.path]:
            problems.append(Problem(s.label, (
                f"holds {n:,} data rows but the delivery manifest says {expected[s.path]:,}: the part was "
                f"cut short or changed in transit; download it again")))
    if problems:
        raise IngestError(problems)


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
                                   tuple(convert.group_notices(con, group)),
                                   tuple(str(s.path) for s in group.sources))
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
    problems: Sequence[Problem] = (),
    stage: bool = False,
    layout: Callable[[list[FocusFile]], staging.Layout] | None = None,
) -> tuple[list[FileReport], list[FocusFile], dict[str, staging.Staged]]:
    """Map and validate every source (``focus.reader``): the reports, the files, and (with
    ``stage``) the staged rows of each CSV file by path (``focus.staging``: read once, loaded from
    there; in the layout ``layout`` gives for the files, where they are read as one). Raises
    IngestError listing every problem."""
    problems = list(problems)  # found in the load's other files (its OpenCost exports)
    candidates: list[FocusFile] = []
    for s in sources:
        try:
            candidates.append(FocusFile(con, s, partial=partial))
        except IngestError as exc:
            problems.extend(exc.problems)
    progress(f"validating {len(candidates)} file(s)", 0.15)
    reports: list[FileReport] = []
    files: list[FocusFile] = []
    if stage:
        checked, staged = staging.check_and_stage(con, candidates, layout)
    else:
        checked, staged = check_files(con, candidates), {}
    for f, found in zip(candidates, checked):
        if found:
            problems.extend(found)
            continue
        s = f.source
        rows = f.rows or 0
        norms = [dataclasses.replace(n, rows=rows) if n.rows == 0 else n for n in f.column_normalizations]
        norms.extend(f.value_normalizations())
        files.append(f)
        native_format, size, notices, paths = (origins or {}).get(s.path, (None, s.size, (), (str(s.path),)))
        reports.append(FileReport(
            s.label, native_format or s.format, size, f.version, rows,
            hashes[s.path] if hashes else "", tuple(norms), f.extras, native_format, notices + f.notices, paths,
        ))
    if problems:
        staging.drop(con, staged)
        raise IngestError(problems)
    return reports, files, staged


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


#: At most this many columns that are not FOCUS may be added to ``charges`` by one load. The
#: columns a load adds stay for good, so a file that would add more (a wide spreadsheet saved over
#: an export, a pivoted tag report) is refused rather than widening the store silently.
MAX_NEW_COLUMNS = 200


def _lineage(load_id: int, files: list[FocusFile]) -> dict[str, str]:
    """SQL of the lineage columns of a load's rows (over a row with ``_SOURCE_PATH``)."""
    labels = " ".join(f"WHEN {sql_literal(str(f.source.path))} THEN {sql_literal(f.source.label)}" for f in files)
    return {"x_LoadId": str(load_id), "x_SourceFile": f"CASE {sql_identifier(_SOURCE_PATH)} {labels} END"}


def _new_columns(con: duckdb.DuckDBPyConnection, files: list[FocusFile]) -> dict[str, tuple[str, str, str]]:
    """The 1.3 and extra columns ``files`` bring that ``charges`` lacks, in the order they are added:
    lower-case name → (name, type, label of the first file bringing it)."""
    existing = {k.lower() for k in table_columns(con, "charges")}
    new: dict[str, tuple[str, str, str]] = {}
    for f in files:
        for name, sql_type in f.target_types().items():
            if name.lower() not in existing and name.lower() not in new:
                new[name.lower()] = (name, sql_type, f.source.label)
    return new


def _layout(con: duckdb.DuckDBPyConnection, files: list[FocusFile], load_id: int) -> staging.Layout:
    """The layout ``charges`` has once a load of ``files`` has added its new columns."""
    columns = table_columns(con, "charges")
    columns.update({name: sql_type for name, sql_type, _ in _new_columns(con, files).values()})
    return staging.Layout(columns, _lineage(load_id, files))


def _add_new_columns(con: duckdb.DuckDBPyConnection, files: list[FocusFile]) -> list[Notice]:
    """Add to ``charges`` the 1.3 and extra columns a file brings that the store lacks; a notice names
    them. More than :data:`MAX_NEW_COLUMNS` new extra columns are refused."""
    new = _new_columns(con, files)
    by_file: dict[str, list[str]] = {}
    for name, _, label in new.values():
        by_file.setdefault(label, []).append(name)
    extras = [n for n, _, _ in new.values() if n.startswith("x_")]
    if len(extras) > MAX_NEW_COLUMNS:
        problems = []
        for label, names in by_file.items():
            mine = [n for n in names if n.startswith("x_")]
            if not mine:
                continue
            shown = ", ".join(n[2:] for n in mine[:8]) + (", ..." if len(mine) > 8 else "")
            problems.append(Problem(label, (
                f"has {len(mine):,} columns that are not FOCUS columns (first: {shown}); they would be added "
                f"to the store for good, and a FOCUS export has at most a few dozen such columns. Check this "
                f"is the export you meant, or remove the extra columns (at most {MAX_NEW_COLUMNS} new ones per load)")))
        raise IngestError(problems)
    notices = []
    for label, names in by_file.items():
        shown = ", ".join(names[:12]) + (", ..." if len(names) > 12 else "")
        notices.append(Notice(label, f"{len(names)} new column{'s' if len(names) != 1 else ''} added to the "
                                     f"store's charges table: {shown}"))
    for name, sql_type, _ in new.values():
        con.execute(f"ALTER TABLE charges ADD COLUMN {sql_identifier(name)} {sql_type}")
    return notices




def _replace_slices(
    con: duckdb.DuckDBPyConnection, load_id: int, loaded_at: dt.datetime, *, cube: bool = True
) -> tuple[list[SliceChange], list[Notice]]:
    """Record the slices of load ``load_id``; with ``cube`` (not when another engine made the daily
    cube), add the load's rows to ``cost_daily``."""
    con.execute(f"CREATE OR REPLACE TEMP TABLE new_currencies AS {slice_totals_sql(f'x_LoadId = {int(load_id)}', by_currency=True)}")
    con.execute("""
        CREATE OR REPLACE TEMP TABLE new_slices AS
        SELECT ProviderName, BillingAccountId, BillingPeriodStart, sum(rows) AS rows,
               CASE WHEN count(*) = 1 THEN any_value(BillingCurrency) END AS BillingCurrency,
               CASE WHEN count(*) = 1 THEN sum(BilledCost) END AS BilledCost,
               CASE WHEN count(*) = 1 THEN sum(EffectiveCost) END AS EffectiveCost
        FROM new_currencies GROUP BY ALL
    """)
    notices = _fewer_files(con, load_id)
    con.execute(
        """
        DELETE FROM cost_daily USING new_slices s
        WHERE cost_daily.ProviderName = s.ProviderName
          AND cost_daily.BillingAccountId = s.BillingAccountId
          AND cost_daily.BillingPeriodStart = s.BillingPeriodStart
        """
    )
    if cube:
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
               n.BilledCost, n.EffectiveCost, coalesce(o.rows, 0), o.rows IS NULL,
               (SELECT list((c.BillingCurrency, c.rows, c.BilledCost, c.EffectiveCost) ORDER BY c.BillingCurrency)
                FROM new_currencies c WHERE c.ProviderName = n.ProviderName
                  AND c.BillingAccountId = n.BillingAccountId AND c.BillingPeriodStart = n.BillingPeriodStart)
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
        INSERT OR REPLACE INTO slices BY NAME
        SELECT ProviderName, BillingAccountId, BillingPeriodStart, $1 AS load_id, $2 AS loaded_at, rows,
               BilledCost, EffectiveCost, BillingCurrency, NULL AS notes
        FROM new_slices
        """,
        [load_id, loaded_at],
    )
    con.execute(
        """
        INSERT INTO slice_currencies
        SELECT ProviderName, BillingAccountId, BillingPeriodStart, $1, BillingCurrency, rows,
               BilledCost, EffectiveCost
        FROM new_currencies
        """,
        [load_id],
    )
    return [
        SliceChange(p, a, b, int(n), None if bc is None and len(cur) > 1 else Decimal(bc or 0),
                    None if ec is None and len(cur) > 1 else Decimal(ec or 0), int(old), bool(new),
                    tuple((c[0], int(c[1]), Decimal(c[2] or 0), Decimal(c[3] or 0)) for c in cur))
        for p, a, b, n, bc, ec, old, new, cur in changes
    ], notices


def _fewer_files(con: duckdb.DuckDBPyConnection, load_id: int) -> list[Notice]:
    """A warning for every slice this load replaces with fewer rows from files that do not include
    all of those its current version came from: a delivery loaded in parts keeps only the last part."""
    rows = con.execute("""
        WITH old_files AS (
            SELECT s.ProviderName, s.BillingAccountId, s.BillingPeriodStart, s.rows AS old_rows,
                   list(DISTINCT m.source_file ORDER BY m.source_file) AS files
            FROM slices s JOIN new_slices n USING (ProviderName, BillingAccountId, BillingPeriodStart)
            JOIN (SELECT load_id, source_file, unnest(CAST(slices AS JSON[])) AS j FROM manifest) m
              ON m.load_id = s.load_id AND m.j->>'ProviderName' = s.ProviderName
             AND m.j->>'BillingAccountId' = s.BillingAccountId
             AND CAST(m.j->>'BillingPeriodStart' AS TIMESTAMP) = s.BillingPeriodStart
            GROUP BY ALL
        ), new_files AS (
            SELECT ProviderName, BillingAccountId, BillingPeriodStart, count(*) AS new_rows,
                   list(DISTINCT x_SourceFile ORDER BY x_SourceFile) AS files
            FROM charges WHERE x_LoadId = $1 GROUP BY ALL
        )
        SELECT o.ProviderName, o.BillingAccountId, o.BillingPeriodStart, o.old_rows, n.new_rows,
               o.files, n.files
        FROM old_files o JOIN new_files n USING (ProviderName, BillingAccountId, BillingPeriodStart)
        WHERE n.new_rows < o.old_rows AND len(n.files) < len(o.files)
        ORDER BY ALL
    """, [load_id]).fetchall()
    out = []
    for provider, account, start, old_rows, new_rows, old_files, new_files in rows:
        missing = [f for f in old_files if f not in new_files]
        out.append(Notice(", ".join(new_files), (
            f"WARNING: {provider} {account} {start:%Y-%m} is replaced by fewer files than its previous version "
            f"({len(new_files)} instead of {len(old_files)}; {new_rows:,} rows instead of {old_rows:,}); "
            f"not in this load: {', '.join(missing)}. If the month was delivered in parts, load all the parts "
            f"in one command (or their folder)"), count=old_rows - new_rows))
    return out


def _record(
    con: duckdb.DuckDBPyConnection, load_id: int, loaded_at: dt.datetime, reports: list[FileReport],
    notices: list[Notice],
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
            "INSERT INTO manifest (load_id, loaded_at, source_file, content_hash, bytes, format, "
            "focus_version, rows, slices, source_paths) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, loaded_at, r.label, r.content_hash, r.bytes, r.format,
             r.focus_version, r.rows, json.dumps(slices_of.get(r.label, [])), list(r.paths)],
        )
        for n in r.normalizations:
            con.execute(
                "INSERT INTO normalizations VALUES (?, ?, ?, ?, ?, ?, ?)",
                [load_id, r.label, n.column, n.original, n.normalized, n.rows, n.note],
            )
    every = [n for r in reports for n in r.notices] + list(notices)
    for n in every:
        con.execute(
            "INSERT INTO load_notices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [load_id, n.file, n.message, n.row, n.column, n.value, n.count,
             None if n.amount is None else Decimal(n.amount), n.currency],
        )
    # each slice keeps the notices of the files it came from
    for r in reports:
        mine = [str(n) for n in r.notices]
        for sl in slices_of.get(r.label, []) if mine else []:
            con.execute(
                "UPDATE slices SET notes = coalesce(notes, []) || $1::VARCHAR[] WHERE ProviderName = $2 "
                "AND BillingAccountId = $3 AND BillingPeriodStart = CAST($4 AS TIMESTAMP)",
                [mine, sl["ProviderName"], sl["BillingAccountId"], sl["BillingPeriodStart"]])
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
