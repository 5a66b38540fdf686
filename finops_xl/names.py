"""Closest-name suggestions for values a user typed: one wording for every face.

``suggest("Compte", {"Compute", "Storage"})`` → ``"; did you mean 'Compute'?"``, appended to the
message that names the unknown value. Values are compared as typed (billing values are
case-sensitive); a value that differs only in case says so.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(value: str, known: Iterable[str], *, shown: int = 8) -> str:
    """The tail of an "unknown value" message: the closest known value, else some known values."""
    known = sorted({k for k in known if k is not None})
    folded = {k.lower(): k for k in known}
    if value.lower() in folded and folded[value.lower()] != value:
        return f" (values are case-sensitive: did you mean {folded[value.lower()]!r}?)"
    close = difflib.get_close_matches(value, known, n=1)
    if close:
        return f"; did you mean {close[0]!r}?"
    return f"; values include {', '.join(repr(v) for v in known[:shown])}" if known else "; there are none"
