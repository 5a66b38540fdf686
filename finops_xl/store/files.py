"""The store's DuckDB files: opening one (with the store's session settings), and what a file that
cannot be opened, or is another application's, is said to be."""

from __future__ import annotations

import contextlib
from pathlib import Path

import duckdb

from finops_xl.store.errors import StoreUnreadableError


def connect(path: Path | str, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """Open a DuckDB database with the store's session settings (UTC time zone)."""
    try:
        con = duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:
        raise StoreUnreadableError(_open_failure(path, exc)) from None
    con.execute("SET TimeZone = 'UTC'")
    return con


def _open_failure(path: Path | str, exc: duckdb.Error) -> str:
    """One line, in the user's words, on why the store file at ``path`` cannot be opened."""
    text = str(exc)
    with contextlib.suppress(OSError):
        if Path(path).stat().st_size == 0:
            return (f"{path} is an empty file (0 bytes), not a cost store: if it was one, restore it from "
                    "a backup; otherwise delete it, and the next load starts a new store there")
    if any(w in text for w in _DAMAGED):
        return (f"the cost store {path} is damaged ({text.splitlines()[0].removeprefix('IO Error: ')}): "
                "restore it from a backup, or load the exports into a new store")
    if "not a valid DuckDB database" in text:
        return (f"{path} is not a finops-xl cost store (it is not a DuckDB database file): give the file "
                "`finops-xl ingest --store` wrote, or load your exports into a new one")
    if "Is a directory" in text:
        return f"{path} is a folder, not a cost store file: give the store file (e.g. {Path(path) / 'finops.duckdb'})"
    if "lock" in text.lower():
        return (f"the cost store {path} is open for writing in another program (a load or allocation "
                "running now?): wait for it to finish and try again")
    if "Permission denied" in text:
        return (f"the cost store {path} cannot be read: permission denied (ask its owner for access, or "
                "run the command as the user that loads it)")
    if "serialization version" in text or "newer version" in text or "older version" in text:
        return (f"the cost store {path} was written by another DuckDB version than this finops-xl uses: "
                "install the finops-xl that wrote it, or load the exports into a new store")
    first = text.splitlines()[0] if text else type(exc).__name__
    return f"the cost store {path} cannot be opened: {first.removeprefix('IO Error: ')}"



#: DuckDB's words for a damaged database file (truncated, overwritten, bad checksums).
_DAMAGED = ("Corrupt database file", "Could not read enough bytes", "does not match stored checksum")


def _refuse_foreign(path: Path) -> None:
    """Refuse to make a store of a DuckDB file that holds another application's tables (an empty
    database becomes a store)."""
    con = connect(path, read_only=True)
    try:
        tables = [t for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_catalog = current_database() "
            "ORDER BY table_name").fetchall()]
    except duckdb.Error as exc:
        raise StoreUnreadableError(f"the cost store {path} is damaged ({str(exc).splitlines()[0]}): "
                                   "restore it from a backup, or load the exports into a new store") from None
    finally:
        con.close()
    if tables and not {"charges", "manifest"} <= set(tables):
        shown = ", ".join(tables[:6]) + (f" and {len(tables) - 6} more" if len(tables) > 6 else "")
        raise StoreUnreadableError(
            f"{path} is not a finops-xl cost store: it is a DuckDB database of another application "
            f"(tables {shown}); nothing was changed: give --store a new file (or a store's file)")


