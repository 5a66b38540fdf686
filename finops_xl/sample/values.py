"""Exact fixed-point values and the Arrow arrays made of them: prices, quantities and money as integers,
ids, name patterns and dates of the generated rows."""

from __future__ import annotations

import datetime
import json
import re
from decimal import ROUND_HALF_EVEN, Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from finops_xl.sample.spec import _P8, DECIMAL_TYPE


def _p8(x: str | Decimal) -> int:
    return int((Decimal(x) * _P8).to_integral_value(ROUND_HALF_EVEN))


def _dec_py(raw: int | None) -> Decimal | None:
    """Python int of 1e-12 units -> Decimal (exact)."""
    return None if raw is None else Decimal(raw).scaleb(-12)


def _cents(x: Decimal) -> int:
    """Decimal of 1e-12 units -> rounded to cents, back in 1e-12 units."""
    return int((x / 10**10).to_integral_value(ROUND_HALF_EVEN)) * 10**10


def _dec(raw: np.ndarray, scale: int = 12, valid: np.ndarray | None = None) -> pa.Array:
    """int64 integers of 10**-scale -> decimal128(38, 12) Arrow array (exact, vectorised)."""
    raw = np.ascontiguousarray(raw, dtype=np.int64)
    n = len(raw)
    if scale != 12:
        factor = 10 ** (12 - scale)
        if n == 0 or int(np.abs(raw).max()) < (2**63 - 1) // factor:
            raw = raw * factor
            scale = 12
    buf = np.empty((n, 2), dtype=np.int64)
    buf[:, 0] = raw
    buf[:, 1] = raw >> 63
    validity = None
    if valid is not None and not valid.all():
        validity = pa.py_buffer(np.packbits(valid.astype(np.uint8), bitorder="little"))
    arr = pa.Array.from_buffers(pa.decimal128(38, scale), n, [validity, pa.py_buffer(buf)])
    return arr if scale == 12 else arr.cast(DECIMAL_TYPE)


def _take(dictionary: pa.Array, idx: np.ndarray) -> pa.Array:
    idx = np.asarray(idx)
    neg = idx < 0
    if neg.any():
        return dictionary.take(pa.array(idx, mask=neg))
    return dictionary.take(pa.array(idx))


def _isums_by(groups: np.ndarray, values: np.ndarray, n: int) -> list[int]:
    """Exact per-group sums of int64 values (float64 bincount on 21-bit limbs)."""
    if len(values) == 0:
        return [0] * n
    hi = np.bincount(groups, weights=(values >> 42).astype(np.float64), minlength=n)
    mid = np.bincount(groups, weights=((values >> 21) & 0x1FFFFF).astype(np.float64), minlength=n)
    lo = np.bincount(groups, weights=(values & 0x1FFFFF).astype(np.float64), minlength=n)
    return [(int(h) << 42) + (int(m) << 21) + int(l) for h, m, l in zip(hi, mid, lo)]


_HEX_LO = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_HEX_UP = np.frombuffer(b"0123456789ABCDEF", dtype=np.uint8)


def _hex_np(rng: np.random.Generator, n: int, width: int, upper: bool = False) -> np.ndarray:
    chars = (_HEX_UP if upper else _HEX_LO)[rng.integers(0, 16, size=(n, width), dtype=np.uint8)]
    return np.ascontiguousarray(chars).view(f"S{width}").ravel()


def _hex(rng: np.random.Generator, n: int, width: int, upper: bool = False) -> pa.Array:
    return pa.array(_hex_np(rng, n, width, upper), type=pa.binary()).cast(pa.string())


def _uuid(rng: np.random.Generator) -> str:
    h = _hex_np(rng, 1, 32)[0].decode()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"


_PLACEHOLDER = re.compile(r"(\{\w+\})")


def _fmt(pattern: str, fields: dict[str, pa.Array], n: int) -> pa.Array:
    args: list = []
    for part in _PLACEHOLDER.split(pattern):
        if not part:
            continue
        if part.startswith("{") and part.endswith("}"):
            args.append(fields[part[1:-1]])
        else:
            args.append(part)
    if not any(isinstance(a, pa.Array) for a in args):
        return pa.repeat(pa.scalar("".join(args)), n)
    if len(args) == 1:
        return args[0]
    return pc.binary_join_element_wise(*args, "")


def _add_months(d: datetime.date, k: int) -> datetime.date:
    y, m = divmod(d.month - 1 + k, 12)
    return datetime.date(d.year + y, m + 1, 1)


def _add_years(d: datetime.date, k: int) -> datetime.date:
    try:
        return d.replace(year=d.year + k)
    except ValueError:  # 29 Feb
        return d.replace(year=d.year + k, day=28)


def _price_str(p8: int) -> str:
    s = f"{Decimal(p8).scaleb(-8):f}"
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s


def _json(d: dict) -> str:
    return json.dumps(d, ensure_ascii=False)


def _raw(x: Decimal | None) -> int:
    return 0 if x is None else int(x.scaleb(12))
