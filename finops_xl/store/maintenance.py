"""Looking after a store folder: its history, the versions kept for a signed close (pins), and
``vacuum`` (small files compacted, old versions removed, never a pinned one).

A *pin* keeps one store commit readable for good: the close of a locked month pins the commit it
read (``pin``), so that its figures can be reproduced whatever lands later; ``vacuum`` never removes
a file a pinned commit needs. Pins are small JSON files in ``<store>/_pins/``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
import time
from pathlib import Path

from finops_xl.store import delta, repair
from finops_xl.store.errors import StoreError

PINS = "_pins"


@dataclasses.dataclass(frozen=True)
class Pin:
    """A store commit kept readable: why (``reason``), by whom, since when."""

    commit: int
    reason: str
    by: str
    at: dt.datetime
    name: str


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-")[:60] or "pin"


def pin(store, commit: int, reason: str, by: str = "") -> Pin:
    """Keep ``commit`` of ``store`` (a CostStore) readable until ``unpin``."""
    every = {c.commit for c in store.history()}
    if commit not in every:
        raise StoreError(f"the cost store {store.path} has no version {commit} to keep")
    folder = store.path / PINS
    folder.mkdir(exist_ok=True)
    name = f"{commit}-{_slug(reason)}"
    p = Pin(commit, reason, by, dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0), name)
    tmp = folder / f".{name}.{os.getpid()}"
    tmp.write_text(json.dumps({"commit": commit, "reason": reason, "by": by, "at": p.at.isoformat()}))
    os.replace(tmp, folder / f"{name}.json")
    return p


def unpin(store, name: str) -> None:
    """Let vacuum remove the commit pin ``name`` kept (``Pin.name``)."""
    (store.path / PINS / f"{name}.json").unlink(missing_ok=True)


def pins(store) -> list[Pin]:
    """The store's pins, oldest commit first."""
    out = []
    for f in sorted((store.path / PINS).glob("*.json")) if (store.path / PINS).is_dir() else []:
        try:
            d = json.loads(f.read_text())
            out.append(Pin(int(d["commit"]), d.get("reason", ""), d.get("by", ""),
                           dt.datetime.fromisoformat(d["at"]), f.stem))
        except (OSError, ValueError, KeyError):
            continue
    return sorted(out, key=lambda p: p.commit)


@dataclasses.dataclass(frozen=True)
class Vacuum:
    """What vacuum did: files compacted into fewer, old files removed, bytes freed, versions kept."""

    compacted: int
    removed: int
    freed: int
    kept_commits: tuple[int, ...]
    commit: int | None
    seconds: float


def vacuum(store, *, keep_days: float = 7.0, compact: bool = True) -> Vacuum:
    """Compact the store's small files and remove files no kept commit needs.

    Kept: the current commit, every commit of the last ``keep_days`` days and every pinned commit.
    Earlier commits stay in the history but can no longer be read (``--as-of`` says so)."""
    from deltalake import DeltaTable

    from finops_xl.store.lock import _command
    from finops_xl.store.writer import _prepare_existing, locked_store

    started = time.monotonic()
    path = _prepare_existing(store)
    compacted = removed = freed = 0
    with locked_store(path), repair.writing_marker(path):  # killed midway: the next writer repairs
        head = delta.read_pointer(path)
        if head is None:
            raise StoreError(f"the cost store {path} is empty: nothing to vacuum")
        commit_no = None
        if compact:
            tables = dict(head.tables)
            changed = {}
            for table in delta.SLICED:
                if table not in tables:
                    continue
                dt_ = DeltaTable(str(path / table), version=tables[table])
                if dt_.version() != tables[table]:
                    continue
                metrics = DeltaTable(str(path / table)).optimize.compact(target_size=128 * 2**20)
                n = int(metrics.get("numFilesRemoved", 0))
                if n:
                    tables[table] = DeltaTable(str(path / table)).version()
                    changed[table] = {"files_removed": n, "files_added": int(metrics.get("numFilesAdded", 0))}
                    compacted += n
            if changed:
                record = delta.StoreCommit(head.commit + 1, dt.datetime.now(dt.UTC).replace(tzinfo=None),
                                           _command(), "vacuum", tables, head.columns, {"compacted": changed})
                record = delta.append_commit(path, record)
                delta.write_pointer(path, record)
                head, commit_no = record, record.commit
        every = delta.commits(path, head)
        cutoff = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(days=keep_days)
        pinned = {p.commit for p in pins(store)}
        kept = [c for c in every if c.commit == head.commit or c.committed_at >= cutoff or c.commit in pinned]
        kept = [c for c in kept if c.commit == head.commit or readable(path, c.commit) is None]  # not gone already
        for folder in repair.delta_tables(path):
            needed = set()
            if folder.name == delta.COMMITS:  # the history: its current version holds every commit
                needed.update(os.path.realpath(f) for f in delta.table_files(folder, head.tables[folder.name])[0])
            for c in kept:
                if folder.name in c.tables:
                    needed.update(os.path.realpath(f) for f in delta.table_files(folder, c.tables[folder.name])[0])
            for f in folder.rglob("*.parquet"):
                if "_delta_log" in f.parts or os.path.realpath(f) in needed:
                    continue
                try:
                    if f.stat().st_mtime >= cutoff.replace(tzinfo=dt.UTC).timestamp():
                        continue  # written within the kept days (an unfinished writer's are repair's)
                    size = f.stat().st_size
                    f.unlink()
                except OSError:
                    continue
                removed += 1
                freed += size
        gone = [c.commit for c in every if c not in kept]
        _record_vacuumed(path, max(gone, default=0), pinned)
    return Vacuum(compacted, removed, freed, tuple(c.commit for c in kept), commit_no, time.monotonic() - started)


VACUUMED = "_vacuumed.json"


def _record_vacuumed(path: Path, before: int, pinned: set[int]) -> None:
    """Remember that commits up to ``before`` (but the pinned ones) can no longer be read."""
    if not before:
        return
    tmp = path / f".{VACUUMED}.{os.getpid()}"
    tmp.write_text(json.dumps({"removed_up_to": before, "pinned": sorted(pinned),
                               "at": dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0).isoformat()}))
    os.replace(tmp, path / VACUUMED)


def readable(path: Path, commit: int) -> str | None:
    """None if ``commit`` of the store at ``path`` can be read; else why not (vacuumed)."""
    try:
        d = json.loads((path / VACUUMED).read_text())
    except (OSError, ValueError):
        return None
    if commit <= int(d.get("removed_up_to", 0)) and commit not in set(d.get("pinned", [])):
        return (f"version {commit} of the cost store {path} was removed by `finops-xl vacuum` on {d.get('at', '?')} "
                "(only the versions of its last days and those a locked close keeps are kept)")
    return None
