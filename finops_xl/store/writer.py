"""A writer's life cycle on a store folder: lock, repair, work, commit (``store.delta``).

1. the folder is made if there is none (a new store) and checked (a folder that is not a store, a
   v1 store file, are refused, saying what to do);
2. the writer lock ``<store>/.lock`` is taken (a second writer waits, saying for whom; gives up after
   ``FINOPS_XL_LOCK_TIMEOUT`` seconds);
3. what a writer that died left (table versions beyond the current commit, their files, spill folders)
   is removed (``repair.repair``);
4. the caller works on the transaction's DuckDB connection; on success its changes become one store
   commit (``delta.Transaction.commit`` then the pointer); on any error, SIGTERM or Ctrl-C what it
   wrote is removed and the store is as before.

New files take the store folder's permissions (a folder of mode 700 keeps files 600), so a store
readable by its owner alone stays so.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import signal
import stat
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import duckdb

from finops_xl.store import delta, repair
from finops_xl.store.errors import StoreError, StoreTerminated, StoreUnreadableError
from finops_xl.store.lock import _command, exclusive_lock
from finops_xl.store.signals import WriterSignals

_UNCHANGED = "nothing was changed"


@contextlib.contextmanager
def _umask_of(folder: Path) -> Iterator[None]:
    """New files and folders get ``folder``'s permission bits (files without execute)."""
    if sys.platform == "win32":
        yield
        return
    mode = stat.S_IMODE(folder.stat().st_mode)
    old = os.umask(0o777 & ~mode)
    try:
        yield
    finally:
        os.umask(old)


def _prepare(store) -> tuple[Path, bool]:
    """The store's folder, made if there is none (and whether it was); refuses what is not a store."""
    path: Path = store.path
    if path.is_file():
        from finops_xl.store.files import _refuse_foreign

        _refuse_foreign(path)  # another application's database: said so, never called an old store
        raise StoreError(
            f"the cost store {path} is a single-file store of an earlier finops-xl, which this version reads "
            f"but does not write: convert it once with `finops-xl migrate --store {path}` (the file is kept "
            f"as {path.name}.v1), then run this command again; {_UNCHANGED}")
    store._check_folder(reading=False)
    made = not path.exists()
    try:
        path.mkdir(parents=True, exist_ok=True)
        if not delta.is_store_folder(path):
            delta.create_pointer(path)
    except OSError as exc:
        raise _os_failure(exc, path, f"creating the cost store {path}") from None
    return path, made


def _prepare_existing(store) -> Path:
    """The folder of an existing store folder (refusing anything else)."""
    path: Path = store.path
    if path.is_file():
        _prepare(store)  # its message
    if not delta.is_store_folder(path):
        store._check_folder(reading=True)
        raise StoreError(f"no cost store at {path}")
    return path


@contextlib.contextmanager
def _held_lock(path: Path) -> Iterator[None]:
    """The writer lock of the store folder ``path`` (an OSError taking it: one line)."""
    try:
        with _umask_of(path):  # the lock file, too, is made with the folder's permissions
            locked = exclusive_lock(path / ".lock", path)
            locked.__enter__()
    except OSError as exc:
        raise _os_failure(exc, path, "taking the store's lock") from None
    try:
        yield
    finally:
        locked.__exit__(None, None, None)


@contextlib.contextmanager
def locked_store(path: Path) -> Iterator[None]:
    """The writer lock of the store folder ``path``, with what dead writers left removed."""
    with _held_lock(path), _umask_of(path):
        repair.repair(path)
        yield


@contextlib.contextmanager
def transaction(store, *, kind: str, writes: tuple[str, ...], stage: bool,
                ddl=None, seed=None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A DuckDB connection whose changes land as one commit of ``store`` (a CostStore)."""
    path, made = _prepare(store)
    try:
        with _transaction(path, kind=kind, writes=writes, stage=stage, ddl=ddl, seed=seed) as con:
            yield con
    except BaseException:
        if made and delta.read_pointer(path) is None:  # a first write that did not land: no store
            shutil.rmtree(path, ignore_errors=True)
        raise


@contextlib.contextmanager
def _interruptible() -> Iterator[None]:
    """Ctrl-C stops the writer's DuckDB queries too: DuckDB interrupts a running query for a SIGINT
    handler of the program's own, not for Python's default one (measured: the query ran on to its end)."""
    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
        yield
        return

    def handler(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _transaction(path: Path, *, kind, writes, stage, ddl, seed) -> Iterator[duckdb.DuckDBPyConnection]:
    with WriterSignals().installed() as signals, _interruptible(), _held_lock(path):
        with _umask_of(path):
            try:
                repair.repair(path)
                marking = repair.writing_marker(path)
                started = marking.__enter__()
            except OSError as exc:
                raise _os_failure(exc, path, f"preparing to write the cost store {path}") from None
            try:
                tx = None
                try:
                    tx = delta.Transaction(path, kind=kind, writes=writes, stage=stage, ddl=ddl, seed=seed)
                    con = tx.open()
                    yield con
                    record = tx.commit(_command())
                    signals.armed = False  # the pointer's rename is atomic: once done, it landed
                    if record is not None:
                        delta.write_pointer(path, record)
                except BaseException as exc:
                    if tx is not None:
                        tx.close()
                    with contextlib.suppress(Exception):
                        repair.repair(path, since=started)
                    raise _mapped(exc, path, signals) from None
                finally:
                    if tx is not None:
                        tx.close()
            finally:
                marking.__exit__(None, None, None)


def _space(path: Path) -> str:
    free = ""
    with contextlib.suppress(OSError):
        free = f" ({shutil.disk_usage(path).free / 2**20:,.1f} MiB free now)"
    return (f"a load needs free space for its new data only (the slices it replaces, about the size of its "
            f"input files){free}: free some space, or move the store (--store) to a larger disk")


def _os_failure(exc: OSError, path: Path, doing: str) -> StoreError:
    """One line for an OSError met while ``doing`` on the store folder ``path``."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StoreError(f"{doing} failed: {exc.filename or path}: {os.strerror(exc.errno)}; {_space(path)}; "
                          f"{_UNCHANGED}")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return StoreError(f"{doing} failed: {exc.filename or path}: {os.strerror(exc.errno)}; a write of the "
                          f"cost store creates files in its folder {path} (its lock, new table versions): "
                          f"make it writable for you, or give --store a folder you can write; {_UNCHANGED}")
    words = exc.strerror or str(exc)
    if exc.errno == errno.EFBIG:
        words += (" (the file system, or a file-size limit such as `ulimit -f`, does not allow a data file "
                  "of this load)")
    return StoreError(f"{doing} failed: {exc.filename or path}: {words}; {_UNCHANGED}")


def _mapped(exc: BaseException, path: Path, signals) -> BaseException:
    """The error to raise for ``exc`` met while writing the store at ``path``."""
    if isinstance(exc, duckdb.InterruptException) or (
            isinstance(exc, RuntimeError) and "interrupted" in str(exc)):
        return signals.stopped() if signals.terminated else KeyboardInterrupt()
    if isinstance(exc, (StoreError, StoreTerminated, KeyboardInterrupt)):
        return exc
    if isinstance(exc, OSError):
        return _os_failure(exc, path, f"writing the cost store {path}")
    text = str(exc)
    if "No space left" in text or "Disk quota" in text:
        return StoreError(f"writing the cost store {path} failed: No space left on device; {_space(path)}; "
                          f"{_UNCHANGED}")
    code = re.search(r"\(os error (\d+)\)", text)
    if code and int(code.group(1)) in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EACCES, errno.EPERM, errno.EROFS):
        n = int(code.group(1))
        if n == errno.EFBIG:
            return StoreError(f"writing the cost store {path} failed: {os.strerror(n)} (the file system, or a "
                              "file-size limit such as `ulimit -f`, does not allow a data file of this load); "
                              f"{_UNCHANGED}")
        return _os_failure(OSError(n, os.strerror(n)), path, f"writing the cost store {path}")
    if type(exc).__module__.startswith("deltalake") or type(exc).__name__ in ("DeltaError", "DeltaProtocolError",
                                                                               "CommitFailedError"):
        first = text.splitlines()[0] if text else type(exc).__name__
        return StoreUnreadableError(f"writing the cost store {path} failed: {first}; {_UNCHANGED}")
    return exc
