"""What a load reports: each file's findings, each slice it changed, and the load as a whole
(``ingest`` returns a ``LoadReport``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

from finops_xl.focus.reader import Normalization
from finops_xl.store import opencost
from finops_xl.store.errors import Notice
from finops_xl.store.sources import (
    Skipped,
)

#: progress(stage, fraction): stage is a short phrase ("validating aws-2025-01.parquet"), fraction
#: the share of the whole load done so far, 0.0 to 1.0.

Progress = Callable[[str, float], None]

#: Column name under which a multi-file reader reports each row's file.
_SOURCE_PATH = "__finops_xl_source_path"


@dataclasses.dataclass(frozen=True)
class SliceChange:
    """One slice written by a load.

    Attributes:
      provider, billing_account, billing_period_start: the slice's key.
      rows: the new version's row count.
      billed_cost, effective_cost: its exact totals, in ``currency``; None when the slice holds
        charges in more than one billing currency (amounts in two currencies are never added up:
        see ``currencies``).
      replaced_rows: rows of the previous version removed (0 for a slice new to the store).
      is_new: True when the store had no version of this slice.
      currencies: (currency, rows, billed cost, effective cost) per billing currency of the slice.
    """

    provider: str
    billing_account: str
    billing_period_start: dt.datetime
    rows: int
    billed_cost: Decimal | None
    effective_cost: Decimal | None
    replaced_rows: int
    is_new: bool
    currencies: tuple[tuple[str, int, Decimal, Decimal], ...] = ()

    @property
    def currency(self) -> str | None:
        """The slice's billing currency, or None when it has several."""
        return self.currencies[0][0] if len(self.currencies) == 1 else None


@dataclasses.dataclass(frozen=True)
class FileReport:
    """One input file as validated (and loaded).

    Attributes:
      label: the file as the user named it.  format: csv, csv.gz or parquet.  bytes: its size.
      focus_version: detected from its columns.  rows: data rows.
      content_hash: sha256 of its bytes.  normalizations: what was repaired.
      extras: its non-FOCUS columns, as stored (``x_``-prefixed).
      native_format: for a native export converted to FOCUS, its format (a key of
        ``focus.convert.FORMATS``, ``azure`` for an actual + amortized pair); None for a FOCUS file.
        The label then names every file of the group, and format is ``<native format>`` too.
      notices: what the load could not determine or chose for this input (it still loaded).
      paths: the absolute paths it was read from (each file of a native group).
    """

    label: str
    format: str
    bytes: int
    focus_version: str
    rows: int
    content_hash: str
    normalizations: tuple[Normalization, ...]
    extras: tuple[str, ...]
    native_format: str | None = None
    notices: tuple[Notice, ...] = ()
    paths: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class LoadReport:
    """What a load did.

    Attributes:
      load_id: the load's id in the manifest (None when nothing was loaded).
      files: per input file.  slices: per slice written.
      rows: rows loaded.  unchanged: True when the inputs were already current (nothing written).
      seconds: wall time.
      skipped: inputs left out (the same file or the same bytes reached twice, parts a delivery
        manifest does not list), with the reason.
      notices: what the load did that the user must know (new columns added to the store, a
        slice replaced by fewer files than its previous version, an account id spelled differently
        from the store's), besides each file's own ``notices``.
      kubernetes: the OpenCost exports of the load, loaded into ``kubernetes_allocation`` and never
        into ``charges`` (``store.opencost``); None when there were none.
    """

    load_id: int | None
    files: tuple[FileReport, ...]
    slices: tuple[SliceChange, ...]
    rows: int
    unchanged: bool
    seconds: float
    skipped: tuple[Skipped, ...] = ()
    notices: tuple[Notice, ...] = ()
    kubernetes: opencost.AllocationLoad | None = None

    @property
    def all_notices(self) -> tuple[Notice, ...]:
        return tuple(n for f in self.files for n in f.notices) + self.notices

    @property
    def replaced(self) -> tuple[SliceChange, ...]:
        return tuple(s for s in self.slices if not s.is_new)

    @property
    def added(self) -> tuple[SliceChange, ...]:
        return tuple(s for s in self.slices if s.is_new)


def _noop(stage: str, fraction: float) -> None:
    return None
