"""The store's writer lock: one per real store file, saying who holds it, with a wait limit.

Every writer of a store (a load, an allocation, a change to the savings ledger) takes an exclusive
lock on ``<real store path>.lock`` — the path with symbolic links resolved, so writers that name one
store through two paths share one lock. The holder writes its pid, command and start time into the
lock file; a writer that has waited a second says who it waits for, and gives up after
``FINOPS_XL_LOCK_TIMEOUT`` seconds (default 600) with a message naming the holder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import shlex
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from finops_xl.store.errors import StoreError

LOCK_TIMEOUT_ENV = "FINOPS_XL_LOCK_TIMEOUT"
#: Seconds a writer waits for another one before giving up, unless FINOPS_XL_LOCK_TIMEOUT says.
LOCK_TIMEOUT = 600.0
#: Seconds of silent waiting before a writer says whom it waits for.
WAIT_NOTICE_AFTER = 1.0
_POLL = 0.1


def lock_timeout() -> float:
    """The wait limit in seconds (``$FINOPS_XL_LOCK_TIMEOUT``, else LOCK_TIMEOUT)."""
    text = os.environ.get(LOCK_TIMEOUT_ENV, "").strip()
    if not text:
        return LOCK_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not seconds >= 0:
        raise StoreError(f"{LOCK_TIMEOUT_ENV}={text!r} is not a number of seconds: set it to how long a "
                         f"load may wait for another one to finish (e.g. {LOCK_TIMEOUT:g}), or unset it")
    return seconds


def _command() -> str:
    argv = list(sys.argv)
    # the console script, or ``python -m finops_xl.cli``
    if argv and argv[0].endswith(("cli.py", "cli/__main__.py", "cli\\__main__.py", "finops-xl", "finops-xl.exe")):
        argv[0] = "finops-xl"
    text = shlex.join(argv) if argv else "python"
    return text if len(text) <= 120 else text[:117] + "..."


def _holder(fh) -> str:
    """Who holds the lock, as the holder wrote it: 'pid N (command ...) since ...'."""
    try:
        fh.seek(0)
        info = json.loads(fh.read().decode("utf-8") or "{}")
        return f"pid {int(info['pid'])} (command {info['command']}) since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process (it did not say which)"


def _try_lock(fd: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            os.lseek(fd, 0, os.SEEK_SET)  # the lock is on the file's first byte
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _unlock(fh) -> None:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        fh.seek(0)
        msvcrt.locking(fh.fileno(), msvcrt.LK_UNLCK, 1)
        return
    import fcntl

    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


@contextlib.contextmanager
def exclusive_lock(lock_path: Path, store: Path) -> Iterator[None]:
    """Hold the writer lock of ``store`` (the file ``lock_path``) for the block.

    Waits for another holder, saying on stderr after WAIT_NOTICE_AFTER seconds whom it waits for;
    raises StoreError after ``lock_timeout()`` seconds. OSErrors (the folder not writable) are the
    caller's to word.
    """
    timeout = lock_timeout()
    fh = os.fdopen(os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o666), "r+b")
    with fh:
        started = time.monotonic()
        said = False
        while not _try_lock(fh.fileno()):
            waited = time.monotonic() - started
            if waited >= timeout:
                raise StoreError(
                    f"gave up after {waited:.0f} s waiting for the lock of the cost store {store}, held "
                    f"by {_holder(fh)}: let that command finish (or stop it if it hangs) and run this one "
                    f"again, or allow a longer wait with {LOCK_TIMEOUT_ENV}=SECONDS; nothing was changed")
            if not said and waited >= WAIT_NOTICE_AFTER:
                print(f"finops-xl: waiting for the store lock held by {_holder(fh)} (the cost store "
                      f"{store}; giving up after {timeout:g} s, {LOCK_TIMEOUT_ENV})", file=sys.stderr,
                      flush=True)
                said = True
            time.sleep(min(_POLL, max(timeout - waited, 0.001)))
        try:
            if sys.platform != "win32":  # Windows: the locked byte cannot be read by the waiters
                since = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
                fh.seek(0)
                fh.truncate()
                fh.write(json.dumps({"pid": os.getpid(), "command": _command(), "since": since}).encode())
                fh.flush()
            yield
        finally:
            with contextlib.suppress(OSError):
                fh.seek(0)
                fh.truncate()
                fh.flush()
            _unlock(fh)
