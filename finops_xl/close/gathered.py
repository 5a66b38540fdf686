"""What a gathered close is (``CloseData``, ``OwnerAllocation``) and the kinds of the run's own
entries it carries; ``gather`` fills it, the workbook lays it out."""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from finops_xl.allocation.showback import Coverage
from finops_xl.close import amortization as am
from finops_xl.close.accruals import AccrualResult, TrueUp
from finops_xl.close.journal import Entry, LedgerMap
from finops_xl.close.reconciliation import Reconciliation
from finops_xl.close.variance import ChangeExplanation, VarianceReport
from finops_xl.money import minor_unit

ZERO = Decimal(0)
#: The ledger map used when none is given (default accounts, cost centers from the allocation).
DEFAULT_LEDGER = LedgerMap()


@dataclasses.dataclass(frozen=True)
class OwnerAllocation:
    """One owner's allocated cost in the close month (a row of the Allocation sheet).

    Attributes:
      owner: the owner (``ROUNDING`` for the sub-cent rest of rounding owners to the cent).
      direct, commitment, credits: the statement's parts (EffectiveCost).
      shared: pool id → the owner's part of that pool (EffectiveCost).
      rounding: the ROUNDING line's amount (0 for owners).
      total: the statement total (EffectiveCost).  billed: the same owner's BilledCost total.
    """

    owner: str
    direct: Decimal
    commitment: Decimal
    credits: Decimal
    shared: tuple[tuple[str, Decimal], ...]
    rounding: Decimal
    total: Decimal
    billed: Decimal


@dataclasses.dataclass(frozen=True)
class CloseData:
    """What the close workbook shows, for one month and one billing currency.

    Attributes:
      month: first day of the close month.  currency: billing currency of every amount.
      store_path: the cost store.  stage: ``accrual`` (data not final), ``true-up`` (a saved accrual
        compared with the final data) or ``preview`` (accrued for the workbook, nothing saved).
      accrual: the accrual (its lines in ``currency`` only).  true_up: stage ``true-up`` only.
      accrual_entries: the accrual entry and its reversal (entries without lines left out).
      commitments: every commitment in ``currency`` (``commitments_from_store``).
      schedules: ``schedule(c, amortization_method)`` of each, same order.
      amortization_method: ``daily``.
      roll_forward: the prepaid roll-forward from the first schedule month to ``month``.
      prepaid_entries: purchase, amortization and reclass entries dated in ``month``.
      policy_owner: the owner charged with a commitment's unused share.
      reconciliation: the invoice tie-out.
      owners: the Allocation sheet's rows (largest first, ROUNDING last); empty without allocation.
      pools: shared-cost pools with a part in the month, in order of first appearance.
      allocated_effective, allocated_billed: Σ allocated_charges of the month (exact; the check).
      coverage: allocation coverage of the month (None without allocation).
      variance: budget vs actual for the month (None without a budget).
      change: month-over-month explanation (None when the prior month holds no cost).
      notes: what the reader should know (in words).
      ledger: the ledger map the close posted with (the Ledger map sheet).
      store_version, locked: the store version and lock the close reflects ('' when none).
      extra_entries: the run's chargeback and capitalization entries in ``currency``.
      capitalization: the projects' months through ``month`` (``capitalization.project_report``).
      adjustments: the prior-period adjustments of locked months the run posts
        (``locks.Adjustment``: the change per cost center and account, the slices and files behind it).
      reporting: for a close in a reporting currency, the rates it was translated with
        (``gather_currency.ReportingRates``; ``currency`` is then the reporting currency); else None.
    """

    month: dt.date
    currency: str
    store_path: str
    stage: str
    accrual: AccrualResult
    true_up: TrueUp | None
    accrual_entries: tuple[Entry, ...]
    commitments: tuple[am.Commitment, ...]
    schedules: tuple[am.Schedule, ...]
    amortization_method: str
    roll_forward: tuple[am.RollForwardRow, ...]
    prepaid_entries: tuple[Entry, ...]
    policy_owner: str
    reconciliation: Reconciliation
    owners: tuple[OwnerAllocation, ...]
    pools: tuple[str, ...]
    allocated_effective: Decimal | None
    allocated_billed: Decimal | None
    coverage: Coverage | None
    variance: VarianceReport | None
    change: ChangeExplanation | None
    notes: tuple[str, ...] = ()
    ledger: LedgerMap = DEFAULT_LEDGER
    store_version: str = ""
    locked: str = ""
    extra_entries: tuple[Entry, ...] = ()
    capitalization: tuple = ()
    reporting: object = None
    adjustments: tuple = ()

    @property
    def entries(self) -> tuple[Entry, ...]:
        """Every entry of the month, in journal order: accrual and reversal, prepaid, then the
        chargeback and capitalization entries of the run."""
        return self.accrual_entries + self.prepaid_entries + self.extra_entries

    @property
    def decimals(self) -> int:
        """Decimal places of the currency's minor unit."""
        return minor_unit(self.currency)

    @property
    def amortizing(self) -> tuple[am.Schedule, ...]:
        """Schedules of commitments with an upfront (the others have nothing to amortize)."""
        return tuple(s for s in self.schedules if s.commitment.upfront)


#: Entry kinds of a run's journal shown beside the accrual and prepaid entries.
EXTRA_KINDS = ("chargeback", "capitalization", "capitalization-transfer", "software-amortization",
               "prior_period_adjustment")
