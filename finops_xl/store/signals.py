"""SIGTERM (what schedulers and ``docker stop`` send) during a store write: it stops the writer with
the store unchanged while the write has not landed, and waits for the last atomic step once it has
begun (``armed`` off), so a write is never left half-landed by the signal."""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

from finops_xl.store.errors import StoreTerminated


class WriterSignals:
    """SIGTERM raises StoreTerminated while armed (main thread only); once disarmed, it waits."""

    def __init__(self) -> None:
        self.armed = True
        self.pending = False
        self.terminated = False
        self.previous = None

    def stopped(self) -> StoreTerminated:
        return StoreTerminated("terminated (SIGTERM) before the write landed: the store is unchanged and "
                               "what the write had written removed; run the command again")

    def handler(self, signum, frame) -> None:
        if self.armed:
            self.armed = False
            self.terminated = True
            raise self.stopped()
        self.pending = True

    @contextlib.contextmanager
    def installed(self) -> Iterator[WriterSignals]:
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
