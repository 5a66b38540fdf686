"""The close workbook's numbers: gathered by ``finops_xl.close.gather`` (the close capability), which
this module re-exports so the workbook only lays out finished results."""

from finops_xl.close.gather import (  # noqa: F401
    DEFAULT_LEDGER,
    EXTRA_KINDS,
    CloseData,
    OwnerAllocation,
    gather_close,
)

__all__ = ["DEFAULT_LEDGER", "EXTRA_KINDS", "CloseData", "OwnerAllocation", "gather_close"]
