"""What a Delta write needs around it: the test hook that stops a writer at a chosen point of a
store commit, and stderr kept clean of what delta-rs' threads print when a write fails."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
import time
from collections.abc import Iterator

#: Test hook: a writer stops for FINOPS_XL_TEST_PAUSE_SECONDS (default 60) at the stage this names,
#: saying so on stderr, so that a test can kill it there: ``writing charges`` (while Delta writes
#: the charges; any table: ``writing TABLE``), ``cost_daily`` (the charges committed, the cube not
#: yet), ``tables`` (the sliced tables committed, the small ones not yet), ``history`` (the history
#: row written, the pointer not yet).
PAUSE_ENV = "FINOPS_XL_TEST_PAUSE"

#: The process's stderr while a Delta write has it captured (``quiet_stderr``).
_stderr_fd: int | None = None


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Capture what delta-rs' threads print on stderr during a write: a failed write (a full disk, a
    file-size limit) makes them print Rust panics there, beside the one-line error the user gets.
    What a write that succeeds printed is passed on."""
    global _stderr_fd
    if _stderr_fd is not None or threading.current_thread() is not threading.main_thread():
        yield
        return
    import tempfile

    with contextlib.suppress(Exception):
        sys.stderr.flush()
    try:
        saved = os.dup(2)
        captured = tempfile.TemporaryFile()
    except OSError:
        yield
        return
    os.dup2(captured.fileno(), 2)
    _stderr_fd = saved
    ok = False
    try:
        yield
        ok = True
    finally:
        if not ok and not _python_stderr_is_fd2():  # delta-rs' threads report a moment later
            _settle(captured.fileno())
        elif not ok:
            # delta-rs' threads go on printing a moment after a failed write returns: the process's
            # fd 2 stays away from the user (they print nothing else of use), while Python's own
            # stderr, where the one-line error goes, keeps writing to the real one
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_WRONLY)
                os.dup2(null, 2)
                os.close(null)
                sys.stderr = os.fdopen(saved, "w", buffering=1, encoding=sys.stderr.encoding,
                                       errors="backslashreplace")
                saved = None
        if saved is not None:
            os.dup2(saved, 2)
            os.close(saved)
        _stderr_fd = None
        with captured:
            captured.seek(0)
            text = captured.read()
        if ok and text:
            with contextlib.suppress(OSError):
                os.write(2, text)


def _python_stderr_is_fd2() -> bool:
    try:
        return sys.stderr.fileno() == 2
    except (AttributeError, OSError, ValueError):
        return False  # replaced (a test's capture, an embedding host): left alone


def _settle(fd: int, quiet: float = 0.2, longest: float = 1.5) -> None:
    """Wait until nothing more has been written to ``fd`` for ``quiet`` seconds (``longest`` at most)."""
    end = time.monotonic() + longest
    size, still = -1, time.monotonic()
    while time.monotonic() < end:
        now = os.fstat(fd).st_size
        if now != size:
            size, still = now, time.monotonic()
        elif time.monotonic() - still >= quiet:
            return
        time.sleep(0.02)


def pause(stage: str) -> None:
    """Stop here a while if ``$FINOPS_XL_TEST_PAUSE`` names ``stage`` (tests kill the writer there)."""
    if os.environ.get(PAUSE_ENV) != stage:
        return
    os.write(_stderr_fd if _stderr_fd is not None else 2,
             f"finops-xl: paused at {stage} ({PAUSE_ENV})\n".encode())
    end = time.monotonic() + float(os.environ.get(PAUSE_ENV + "_SECONDS") or 60)
    while time.monotonic() < end:
        time.sleep(0.05)


def paused_reader(reader, stage: str):
    """``reader``'s batches, pausing at ``stage`` after the first one (a write under way)."""
    import pyarrow as pa

    def batches():
        for i, batch in enumerate(reader):
            yield batch
            if i == 0:
                pause(stage)
    return pa.RecordBatchReader.from_batches(reader.schema, batches())
