"""The cost store's errors, for callers that import them from here: they live in
``finops_xl.errors``, beneath the store, so the formats that raise them need not import the store."""

from finops_xl.errors import (  # noqa: F401
    IngestError,
    Notice,
    Problem,
    StoreError,
    StoreNotFoundError,
    StoreTerminated,
    StoreUnreadableError,
)
