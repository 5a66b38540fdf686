"""Writing a store file safely: a private copy, swapped in whole, never left behind.

``swapped(target, lock)`` is the writer's life cycle (see ``store.py`` for why the store is copied):

1. follow symbolic links: the copy and the lock are beside the real file, so a linked store stays a
   link and is updated, and two paths to one store share one lock (``lock.exclusive_lock``);
2. under the lock, remove what writers that died (SIGKILL, a power cut) left: their
   ``<file>.next-<pid>`` copies and DuckDB's spill folder ``<file>.tmp``;
3. check there is free space for the copy (a load needs free space of the whole store plus the new
   data), copy the file keeping its mode and, where allowed, its owner;
4. hand the copy to the caller; on success checkpoint, close and rename it over the file.

SIGTERM (what schedulers and ``docker stop`` send) and Ctrl-C while a writer runs remove the copy and
end in ``StoreTerminated`` / ``KeyboardInterrupt``. Every OS error of the store's own files (disk
full, read-only or protected folder, a damaged file) becomes one ``StoreError`` line naming the path
and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from finops_xl.store.errors import StoreError, StoreTerminated
from finops_xl.store.lock import exclusive_lock

_UNCHANGED = "nothing was changed"
#: DuckDB's words for a store file that is damaged (truncated, overwritten, bad checksums).
_DAMAGE = ("Corrupt database file", "Could not read enough bytes", "checksum", "not a valid DuckDB")
_OS_WORDS = {errno.ENOSPC: "No space left on device", errno.EFBIG: "File too large",
             errno.EROFS: "Read-only file system", errno.EACCES: "Permission denied",
             errno.EPERM: "Operation not permitted", errno.EDQUOT: "Disk quota exceeded"}


def real_path(path: Path) -> Path:
    """``path`` with every symbolic link resolved (the file a write must replace)."""
    return Path(os.path.realpath(path))


def size_text(n: int | float) -> str:
    return f"{n / 2**30:.1f} GiB" if n >= 2**30 else f"{n / 2**20:.1f} MiB"


def space_needed(target: Path, free: int | None = None) -> str:
    """What a write of ``target`` needs in free space, in words (and what is free now)."""
    try:
        size = target.stat().st_size
    except OSError:
        size = 0
    if free is None:
        with contextlib.suppress(OSError):
            free = shutil.disk_usage(target.parent).free
    now = f"; {size_text(free)} free now" if free is not None else ""
    return (f"a load needs free space of the whole store ({size_text(size)}, for its copy) plus the new "
            f"data{now}: free some space or move the store (--store) to a larger disk")


def os_failure(exc: OSError, target: Path, doing: str) -> StoreError:
    """One line, naming the path and the fix, for an OSError met while ``doing`` on ``target``."""
    path = exc.filename or target
    words = _OS_WORDS.get(exc.errno) or exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(f"{doing} in {target.parent} failed: {words}; {space_needed(target)}; "
                          f"{_UNCHANGED}")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(f"{doing} failed: {path}: {words}; a write of the cost store needs to create "
                          f"files in its folder {target.parent} (its copy and lock): make it writable for "
                          f"you, or give --store a folder you can write; {_UNCHANGED}")
    if exc.errno == errno.EFBIG:
        words += (" (the file system, or a file-size limit such as `ulimit -f`, does not allow a file "
                  "the size of the store)")
    return StoreError(f"{doing} failed: {path}: {words}; {_UNCHANGED}")


def duckdb_failure(exc: duckdb.Error, target: Path, work: Path) -> StoreError | None:
    """The StoreError for a DuckDB error about the store's own copy (None: not about it)."""
    text = str(exc)
    if str(work) not in text and not any(w in text for w in (*_DAMAGE, "No space left", "File too large")):
        return None
    first = (text.splitlines()[0] if text else type(exc).__name__).replace(str(work), str(target))
    for prefix in ("FATAL Error: ", "IO Error: ", "Failed to create checkpoint because of error: "):
        first = first.removeprefix(prefix)
    if any(w in text for w in _DAMAGE):
        return StoreError(f"the cost store {target} is damaged ({first}): restore it from a backup, or "
                          f"load the exports into a new store; {_UNCHANGED}")
    if "No space left" in text or "Disk quota" in text:
        return StoreError(f"writing the cost store's copy in {target.parent} failed: No space left on "
                          f"device; {space_needed(target)}; {_UNCHANGED}")
    return StoreError(f"writing the cost store {target} failed: {first}; {_UNCHANGED}")


def remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _alive(pid: int) -> bool:
    if os.name == "nt":  # pragma: no cover - the lock is held: no other writer of this file runs
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    return True


def remove_leftovers(target: Path) -> list[Path]:
    """Under the lock: delete the copies that writers which no longer run left beside ``target``."""
    gone = []
    pattern = re.compile(re.escape(target.name) + r"\.next-(\d+)(\.wal)?")
    for p in target.parent.iterdir():
        m = pattern.fullmatch(p.name)
        if m and int(m.group(1)) != os.getpid() and not _alive(int(m.group(1))):
            with contextlib.suppress(OSError):
                p.unlink()
                gone.append(p)
    spill = target.with_name(target.name + ".tmp")  # DuckDB's spill files of a killed writer
    if spill.is_dir():
        shutil.rmtree(spill, ignore_errors=True)
    return gone


def copy_store(target: Path, work: Path) -> os.stat_result:
    """Copy ``target`` to ``work``, created private (readable and writable by this user alone
    while it is written: ``keep_mode`` gives it ``target``'s mode and owner before the swap).
    Returns ``target``'s stat."""
    st = target.stat()
    free = shutil.disk_usage(target.parent).free
    if free < st.st_size:
        raise StoreError(f"not enough free space in {target.parent} for a load: {space_needed(target, free)}; "
                         f"{_UNCHANGED}")
    os.close(os.open(work, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    shutil.copyfile(target, work)
    return st


def keep_mode(work: Path, st: os.stat_result) -> None:
    """Give ``work`` the mode and, where allowed, the owner and group the store had (``st``)."""
    if hasattr(os, "chown"):
        with contextlib.suppress(OSError):  # only root may give a file away: keep what we can
            os.chown(work, st.st_uid, st.st_gid)
    os.chmod(work, stat.S_IMODE(st.st_mode))


def replace(src: Path, dst: Path, attempts: int = 50) -> None:
    for attempt in range(attempts):
        try:
            os.replace(src, dst)
            break
        except PermissionError:  # Windows: a reader holds the old file open
            if attempt == attempts - 1:
                remove(src)
                raise StoreError(
                    f"cannot replace {dst}: another program holds it open (close Excel's "
                    "connection or the other finops-xl process and retry); nothing was changed"
                ) from None
            time.sleep(0.1)
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(dst.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Signals:
    """SIGTERM raises StoreTerminated while armed (main thread only); once disarmed, it waits."""

    def __init__(self) -> None:
        self.armed = True
        self.pending = False
        self.terminated = False
        self.previous = None

    def stopped(self) -> StoreTerminated:
        return StoreTerminated("terminated (SIGTERM) before the write finished: the store is unchanged "
                               "and the unfinished copy removed; run the command again")

    def handler(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            self.terminated = True
            raise self.stopped()
        self.pending = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[_Signals]:
        main = threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGTERM")
        if main:
            self.previous = signal.signal(signal.SIGTERM, self.handler)
        try:
            yield self
        finally:
            if main:
                signal.signal(signal.SIGTERM, self.previous)
        if self.pending:
            raise StoreTerminated("terminated (SIGTERM) just after the write finished: the store holds "
                                  "it; nothing more was done")


@contextlib.contextmanager
def swapped(target: Path, lock: Path, connect: Callable[[Path], duckdb.DuckDBPyConnection],
            check: Callable[[Path], None] | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection to a private copy of ``target`` (a new file if there is none),
    renamed over it when the block succeeds; ``lock``'s writer lock is held throughout. ``check``
    may refuse the existing ``target`` before anything is copied."""
    target, lock = real_path(target), real_path(lock)
    work = target.with_name(f"{target.name}.next-{os.getpid()}")
    with _Signals().installed() as signals:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            locked = exclusive_lock(lock.with_name(lock.name + ".lock"), lock)
            locked.__enter__()
        except OSError as exc:
            raise os_failure(exc, target, "taking the store's lock") from None
        try:
            try:
                remove_leftovers(target)
                if lock != target:  # the store's lock: no writer of any of its files runs
                    remove_leftovers(lock)
                if check is not None and target.exists():
                    check(target)
                remove(work)
            except OSError as exc:
                raise os_failure(exc, target, f"preparing to write the cost store {target}") from None
            original = None
            try:
                if target.is_file():
                    original = copy_store(target, work)
                con = connect(work)
            except OSError as exc:
                remove(work)
                raise os_failure(exc, target, f"copying the cost store {target}") from None
            except StoreError as exc:  # the copy cannot be opened: say so of the file the user named
                remove(work)
                raise type(exc)(str(exc).replace(str(work), str(target))) from None
            except BaseException:
                remove(work)
                raise
            try:
                yield con
                con.execute("CHECKPOINT")
                con.close()
                if original is not None:
                    keep_mode(work, original)
                signals.armed = False  # the rename is atomic: once done, the write has landed
                replace(work, target)
            except BaseException as exc:
                con.close()
                remove(work)
                if isinstance(exc, duckdb.InterruptException) or (
                        isinstance(exc, RuntimeError) and "interrupted" in str(exc)):
                    # SIGTERM or Ctrl-C inside a DuckDB query (DuckDB reports either as interrupted)
                    raise (signals.stopped() if signals.terminated else KeyboardInterrupt()) from None
                if isinstance(exc, duckdb.Error) and (mapped := duckdb_failure(exc, target, work)):
                    raise mapped from None
                if isinstance(exc, OSError) and exc.filename in (str(work), str(target)):
                    raise os_failure(exc, target, f"writing the cost store {target}") from None
                raise
        finally:
            locked.__exit__(None, None, None)
