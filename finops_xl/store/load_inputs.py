"""A load's inputs: each hashed once, copies under other names skipped, and each file's identity
kept to tell a file changed while the load read it."""

from __future__ import annotations

import concurrent.futures
from pathlib import Path

from finops_xl.store.errors import Problem
from finops_xl.store.sources import (
    Inputs,
    Skipped,
    SourceFile,
    content_hash,
)

#: progress(stage, fraction): stage is a short phrase ("validating aws-2025-01.parquet"), fraction
#: the share of the whole load done so far, 0.0 to 1.0.


#: What identifies a file's bytes on disk between two looks: size, modification time, inode.
_Stat = tuple[int, int, int]
from finops_xl.store.load_report import Progress


def _stat(path: Path) -> _Stat | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def unique_inputs(
    inputs: Inputs, progress: Progress
) -> tuple[list[SourceFile], list[Skipped], dict[Path, str], dict[Path, _Stat | None]]:
    """Hash every input; drop those whose bytes equal an earlier input's.

    Returns (the inputs to load, the skipped ones — from ``find_inputs`` and by content —, content
    hash by path, and each file's size/mtime/inode as they were when hashed, to check later that
    nothing changed while the load read them).
    """
    sources = list(inputs.sources)
    skipped = list(inputs.skipped)
    total_bytes = sum(s.size for s in sources) or 1
    hashes: dict[Path, str] = {}
    stats: dict[Path, _Stat | None] = {}
    first: dict[str, str] = {}
    kept: list[SourceFile] = []
    done = 0
    # hashed two at a time (the hash runs in C with the GIL released), taken in input order
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        digests = []
        for s in sources:
            stats[s.path] = _stat(s.path)
            digests.append(pool.submit(content_hash, s.path))
        for s, future in zip(sources, digests):
            progress(f"hashing {s.label}", 0.1 * done / total_bytes)
            digest = future.result()
            done += s.size
            if digest in first:
                skipped.append(Skipped(s.label, f"the same bytes as {first[digest]} (a copy under another name)"))
                continue
            first[digest] = s.label
            hashes[s.path] = digest
            kept.append(s)
    return kept, skipped, hashes, stats


def _changed(sources: list[SourceFile], stats: dict[Path, _Stat | None]) -> list[Problem]:
    """A problem for every input that is not the file it was when the load hashed it."""
    return [
        Problem(s.label, "changed while it was being loaded (replaced or rewritten, e.g. by a sync "
                         "client delivering a new version); nothing was loaded: run the load again once "
                         "the delivery is complete")
        for s in sources if _stat(s.path) != stats.get(s.path)
    ]
