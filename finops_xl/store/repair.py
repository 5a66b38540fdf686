"""Repair of a store folder after a writer that did not finish: what it left is removed under the
writer lock (``repair``), guided by the marker a writer keeps while at work (``writing_marker``)."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from pathlib import Path
from typing import Iterator

from finops_xl.store.delta import _NEW_POINTER, _TMP, _WRITING, POINTER, read_pointer, table_files


def delta_tables(store: Path) -> list[Path]:
    """The Delta table folders in ``store``."""
    try:
        return sorted(p for p in store.iterdir() if (p / "_delta_log").is_dir())
    except FileNotFoundError:
        return []


_LOG_FILE = re.compile(r"^(\d{20})\.(json|checkpoint\.parquet|crc|checkpoint\..*\.parquet)$")


def repair(store: Path, since: float | None = None) -> list[Path]:
    """Remove what writers that did not finish left: table versions beyond the current commit's, the
    files they added, tables no commit knows, spill folders and markers. ``since``: when the
    unfinished writer started (epoch seconds); default: the earliest marker's time (no marker:
    versions beyond the pointer's are still removed). Call with the writer lock held."""
    removed: list[Path] = []
    markers = sorted(store.glob(f"{_WRITING}*.json"))
    starts = []
    for m in markers:
        with contextlib.suppress(OSError, ValueError):
            starts.append(float(json.loads(m.read_text())["started"]))
        if not starts:
            with contextlib.suppress(OSError):
                starts.append(m.stat().st_mtime - 1)
    if since is None and starts:
        since = min(starts)
    head = read_pointer(store)
    pinned = head.tables if head else {}
    for folder in delta_tables(store):
        version = pinned.get(folder.name)
        if version is None:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
            continue
        log = folder / "_delta_log"
        for f in list(log.iterdir()):
            m = _LOG_FILE.match(f.name)
            if m and int(m.group(1)) > version:
                f.unlink(missing_ok=True)
                removed.append(f)
            elif f.name == "_last_checkpoint":
                with contextlib.suppress(OSError, ValueError, KeyError):
                    if int(json.loads(f.read_text())["version"]) > version:
                        f.unlink(missing_ok=True)
                        removed.append(f)
            elif not m and f.is_file() and since is not None and f.stat().st_mtime >= since:
                f.unlink(missing_ok=True)  # a commit being written (delta-rs' temporary file)
                removed.append(f)
        if since is None:
            continue
        active = {os.path.realpath(p) for p in table_files(folder, version)[0]}
        for f in folder.rglob("*"):
            if "_delta_log" in f.parts or not f.is_file():
                continue
            try:
                young = f.stat().st_mtime >= since
            except OSError:
                continue
            if young and os.path.realpath(f) not in active:
                f.unlink(missing_ok=True)
                removed.append(f)
    for spill in store.glob(f"{_TMP}-*"):
        shutil.rmtree(spill, ignore_errors=True)
        removed.append(spill)
    for m in store.glob(f".{POINTER}.*"):
        if m.name.startswith(_NEW_POINTER):
            with contextlib.suppress(OSError):
                if time.time() - m.stat().st_mtime < 60:
                    continue  # a new store's first pointer, being written by a writer not yet locked
        m.unlink(missing_ok=True)
    for m in markers:
        m.unlink(missing_ok=True)
    return removed


@contextlib.contextmanager
def writing_marker(store: Path) -> Iterator[float]:
    """Mark a writer at work for the block (``repair`` uses the mark after a crash)."""
    started = time.time() - 1.0  # file times may be coarse: a little earlier is safe
    marker = store / f"{_WRITING}{os.getpid()}.json"
    marker.write_text(json.dumps({"pid": os.getpid(), "started": started}))
    try:
        yield started
    finally:
        marker.unlink(missing_ok=True)
