"""Errors at the Excel boundary: what the user can fix becomes a message in the cell, never a
traceback."""

from __future__ import annotations

import functools
import logging

from xlwings import XlwingsError

from finops_udfs.convert import ArgumentError
from finops_xl.query.errors import QueryError
from finops_xl.store.errors import StoreError

logger = logging.getLogger("finops_udfs")

#: Errors whose message is written for the user.
USER_ERRORS = (ArgumentError, QueryError, StoreError)


def excel_errors(function_name: str):
    """Decorator: user errors become ``XlwingsError`` with their message (shown in the cell as an
    error value with that text); anything unexpected is logged with its traceback and shown as a
    short message naming the function."""

    def wrap(f):
        @functools.wraps(f)
        def inner(*args, **kwargs):
            try:
                return f(*args, **kwargs)
            except XlwingsError:
                raise
            except USER_ERRORS as exc:
                raise XlwingsError(f"{function_name}: {exc}") from None
            except Exception as exc:  # noqa: BLE001 - the boundary: no traceback reaches Excel
                logger.exception("%s failed", function_name)
                raise XlwingsError(
                    f"{function_name}: unexpected {type(exc).__name__}: {exc} (details in the "
                    "xlwings log)"
                ) from None

        return inner

    return wrap
