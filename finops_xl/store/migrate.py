"""``finops-xl migrate``: a v1 store (one DuckDB file, with its allocation and savings files beside
it) converted, in place, into a store folder (``store.delta``).

The file's tables become Delta tables of a new folder built beside it; then the file (and its
allocation and savings files) are renamed ``<name>.v1`` and the folder takes the store's name, so
``--store PATH`` keeps naming the store. The v1 files are kept until the user deletes them. The v1
writer lock is held throughout, so no v1 writer runs meanwhile; a migration that fails leaves the
file as it was and no folder.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import shutil
import stat
import time
from pathlib import Path

import duckdb

from finops_xl.store import delta
from finops_xl.store.errors import StoreError
from finops_xl.store.lock import _command, exclusive_lock
from finops_xl.store.sources import sql_identifier, sql_literal
from finops_xl.store.store import ALLOCATION_TABLES, SAVINGS_TABLES, CostStore, connect
from finops_xl.store.tables import cube_monthly_sql, ensure_schema
from finops_xl.store.writer import _os_failure, _umask_of


@dataclasses.dataclass(frozen=True)
class Migration:
    """What a migration did: the store folder, the v1 files kept (renamed), rows per table."""

    store: Path
    kept: tuple[Path, ...]
    rows: dict[str, int]
    seconds: float


def _types(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str]:
    return {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}


def migrate(path: str | os.PathLike[str]) -> Migration:
    """Convert the v1 store at ``path`` into a store folder at the same path."""
    started = time.monotonic()
    store = CostStore(path)
    target = store.path
    if delta.is_store_folder(target):
        raise StoreError(f"{target} is a store folder already: nothing to migrate")
    if not target.is_file():
        raise StoreError(f"no v1 store file at {target}: `finops-xl migrate` converts the single-file store of "
                         "an earlier finops-xl (give its path with --store)")
    from finops_xl.store.files import _refuse_foreign

    _refuse_foreign(target)  # another application's database is no store to migrate
    kept = [p for p in (target, store.allocation_path, store.savings_path) if p.is_file()]
    backups = [p.with_name(p.name + ".v1") for p in kept]
    taken = [b for b in backups if b.exists()]
    if taken:
        raise StoreError(f"{taken[0]} exists already: move it away, then migrate again; nothing was changed")
    with store.reader():
        pass  # a damaged or foreign file: its one-line message, before anything is written
    work = target.with_name(f".{target.name}.migrate-{os.getpid()}")
    folder = target.with_name(f".{target.name}.v2-{os.getpid()}")
    try:
        with exclusive_lock(target.with_name(target.name + ".lock"), target):
            shutil.copyfile(target, work)
            con = connect(work, read_only=False)
            try:
                ensure_schema(con)  # an older v1 layout brought up to date first (on the copy)
                attached = {}
                for p, alias, tables in ((store.allocation_path, "allocation", ALLOCATION_TABLES),
                                         (store.savings_path, "savings", SAVINGS_TABLES)):
                    if p.is_file():
                        con.execute(f"ATTACH {sql_literal(str(p))} AS {alias} (READ_ONLY)")
                        have = {t for (t,) in con.execute(
                            "SELECT table_name FROM information_schema.tables WHERE table_catalog = ?",
                            [alias]).fetchall()}
                        attached.update({t: f"{alias}.main.{sql_identifier(t)}" for t in tables if t in have})
                own = [t for (t,) in con.execute(
                    "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
                    "AND table_schema = 'main' ORDER BY table_name").fetchall()]
                relations = {t: sql_identifier(t) for t in own} | attached
                relations[delta.SLICED[2]] = f"({cube_monthly_sql('cost_daily')})"  # derived: a v1 store has none
                mode = stat.S_IMODE(target.stat().st_mode)
                folder.mkdir()
                os.chmod(folder, mode | ((mode & 0o444) >> 2) | 0o700)  # the file's readers, as a folder
                umask = contextlib.ExitStack()
                umask.enter_context(_umask_of(folder))
                delta.write_pointer(folder, None)
                tables, columns, rows = {}, {}, {}
                for table, rel in relations.items():
                    columns[table] = _types(con, rel)
                    rows[table] = int(con.execute(f"SELECT count(*) FROM {rel}").fetchall()[0][0])
                    if table in delta.SLICED:
                        sql = f"SELECT *, {delta.slice_partition_sql()} FROM {rel}"
                        tables[table] = delta._write(folder / table, con, sql, mode="overwrite",
                                                     partition_by=[delta.PERIOD, delta.SLICE])
                    else:
                        tables[table] = delta._write(folder / table, con, f"SELECT * FROM {rel}", mode="overwrite")
            finally:
                con.close()
            record = delta.StoreCommit(1, dt.datetime.now(dt.UTC).replace(tzinfo=None), _command(), "migrate",
                                       tables, columns, {"from": str(target), "tables": rows})
            import pyarrow as pa
            from deltalake import DeltaTable, write_deltalake

            write_deltalake(str(folder / delta.COMMITS), pa.table({
                "commit": pa.array([1], pa.int64()), "committed_at": pa.array([record.committed_at], pa.timestamp("us")),
                "command": [record.command], "kind": ["migrate"], "record": [json.dumps(record.to_json(), default=str)]}))
            tables[delta.COMMITS] = DeltaTable(str(folder / delta.COMMITS)).version()
            delta.write_pointer(folder, dataclasses.replace(record, tables=tables))
            umask.close()
            for p, b in zip(kept, backups):
                os.replace(p, b)
            os.replace(folder, target)
    except OSError as exc:
        shutil.rmtree(folder, ignore_errors=True)
        raise _os_failure(exc, target.parent, f"migrating the cost store {target}") from None
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        if "umask" in locals():
            umask.close()
        with contextlib.suppress(OSError):
            work.unlink()
        with contextlib.suppress(OSError):
            target.with_name(target.name + ".lock").unlink()
    return Migration(target, tuple(backups), rows, time.monotonic() - started)
