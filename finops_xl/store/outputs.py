"""No command writes over the cost store, the files beside it, or its own inputs.

``refuse_overwrites(args)`` looks at a parsed command line before the command runs: an output
(``--out``, ``--journal``; ``sample --utilization``) that is — after following symbolic links — the
store folder or anything inside it, its close folder or what is in it (for a v1 store file: the file,
its allocation and savings files, their working files), another DuckDB database, or one of the command's inputs is refused with one line naming it.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from finops_xl.store.errors import StoreError
from finops_xl.store.location import resolve_store_path

CLOSE_FOLDER = "the close folder (saved accruals) of the store"
#: Options whose file or folder a command writes.
OUTPUT_OPTIONS = ("out", "journal")
#: Options naming files a command reads (``paths``: the positional inputs).
INPUT_OPTIONS = ("paths", "rules", "ledger", "budget", "drivers", "unit_costs", "utilization", "model")


def _option(name: str) -> str:
    return "PATH" if name == "paths" else "--" + name.replace("_", "-")


def _real(path) -> Path:
    return Path(os.path.realpath(Path(path).expanduser()))


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links
    except OSError:
        return False


def _is_duckdb(path: Path) -> bool:
    """True for a DuckDB database file (its magic bytes ``DUCK`` at offset 8)."""
    try:
        with open(path, "rb") as fh:
            return fh.read(12)[8:12] == b"DUCK"
    except OSError:
        return False


def store_files(store: Path) -> dict[Path, str]:
    """The files a store at ``store`` (its real path) consists of, each with what it is: a store
    folder (and everything in it: ``refuse_overwrites``) and its close folder; for a v1 store file,
    the file, its allocation and savings files, their working files and its close folder."""
    if not store.is_file():  # a store folder, or one a load would make
        return {store: "the cost store folder", store.with_name(f"{store.name}.close"): CLOSE_FOLDER,
                store.with_name(f"{store.stem}.close"): CLOSE_FOLDER}
    suffix = store.suffix or ".duckdb"
    files = {store: "the cost store",
             store.with_name(f"{store.stem}.allocation{suffix}"): "the allocation results of the store",
             store.with_name(f"{store.stem}.savings{suffix}"): "the savings ledger of the store",
             store.with_name(f"{store.stem}.close"): CLOSE_FOLDER}
    for p, what in list(files.items()):
        for extra in (".wal", ".lock", ".tmp"):
            files[p.with_name(p.name + extra)] = f"a working file of {what.removeprefix('the ')}"
    return files


def refuse_overwrites(args: argparse.Namespace) -> None:
    """Raise StoreError if an output of the command in ``args`` would overwrite the store, a file
    of it or one of the command's inputs."""
    names = vars(args)
    outputs = [n for n in OUTPUT_OPTIONS if names.get(n) is not None]
    if names.get("command") == "sample" and names.get("utilization") is not None:
        outputs.append("utilization")
    if not outputs:
        return
    store = resolve_store_path(names.get("store"))
    files = store_files(store)
    inputs: list[tuple[str, Path]] = []
    for n in INPUT_OPTIONS:
        if n in outputs or names.get(n) is None:
            continue
        values = names[n] if isinstance(names[n], list) else [names[n]]
        inputs += [(n, _real(v)) for v in values]
    for n in outputs:
        given = names[n]
        out = _real(given)
        what = next((w for p, w in files.items() if _same(out, p)), None)
        if what is None and any(p in out.parents for p, w in files.items() if w == CLOSE_FOLDER):
            what = "in " + CLOSE_FOLDER
        if what is None and not store.is_file() and store in out.parents:
            what = "inside the cost store folder"
        if what is not None:
            raise StoreError(f"{_option(n)} {given} is {what} {store}: writing there would destroy "
                             "it; nothing was written: give another file")
        if _is_duckdb(out):
            raise StoreError(f"{_option(n)} {given} is a DuckDB database (another cost store?): writing "
                             "there would destroy it; nothing was written: give another file")
        for name, path in inputs:
            if _same(out, path):
                raise StoreError(f"{_option(n)} {given} is an input of this command ({_option(name)}): "
                                 "writing there would overwrite it; nothing was written: give another file")
