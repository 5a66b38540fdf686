"""A writer (load or allocation) caps DuckDB's memory and spills to a folder beside the store, so
large loads stay within a known amount of RAM."""

from __future__ import annotations

import os

from finops_xl.store.store import MEMORY_LIMIT_ENV, CostStore


def _setting(con, name: str) -> str:
    return con.execute(f"SELECT current_setting('{name}')").fetchall()[0][0]


def test_a_writer_caps_memory_at_4_gb_and_spills_inside_the_store(store_path, monkeypatch):
    monkeypatch.delenv(MEMORY_LIMIT_ENV, raising=False)
    with CostStore(store_path).writer() as con:
        # DuckDB reports 4 GB (4e9 bytes) in binary units: 4e9 / 2**30 = 3.725... GiB
        assert _setting(con, "memory_limit") == "3.7 GiB"
        assert _setting(con, "temp_directory") == str(store_path / f".tmp-{os.getpid()}")


def test_the_memory_limit_is_a_setting(store_path, monkeypatch):
    monkeypatch.setenv(MEMORY_LIMIT_ENV, "2GB")
    with CostStore(store_path).writer() as con:
        assert _setting(con, "memory_limit") == "1.8 GiB"  # 2e9 / 2**30 = 1.86 GiB, shown truncated
