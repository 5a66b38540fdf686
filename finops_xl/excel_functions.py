"""The one registry of finops-xl's Excel functions: names, arguments, help and runtimes.

Everything that names a function reads it from here: the xlwings decorators
(``finops_udfs.functions``), the workbook builders (formula text for the chosen runtime), the docs
and the tests. It sits beneath both faces, so the workbooks need not import the Excel face
(``finops_udfs.registry`` re-exports it, for callers that import it from there).

Runtimes:

- ``classic`` — the xlwings add-in in Excel for Windows (VBA-registered; names cannot contain dots
  and must not collide with Excel built-ins: ``FINOPS_COST``);
- ``server``  — xlwings Server (Office.js add-in; functions live in the ``FINOPS`` namespace:
  ``FINOPS.COST``);
- ``lite``    — xlwings Lite (Python in the browser via Pyodide, the same ``FINOPS.`` namespace). It
  cannot open a cost store on your disk, so only pure calculations run there.

This module imports nothing from xlwings, so builders and docs can use it anywhere.
"""

from __future__ import annotations

import dataclasses

NAMESPACE = "FINOPS"
RUNTIMES = ("classic", "server", "lite")
STORE_RUNTIMES = frozenset({"classic", "server"})
#: Pure calculations, which run in every runtime (xlwings Lite too).
ALL_RUNTIMES = frozenset(RUNTIMES)


@dataclasses.dataclass(frozen=True)
class Arg:
    """One argument, as the Function Wizard shows it.

    Attributes:
      name: the Python parameter name.  doc: help text for the Function Wizard.
      repeating: True for the last argument when it takes any number of values.
      optional: True when it may be left out.
      ndim: 2 to always receive a range as rows of cells (keeps a row apart from a column).
    """

    name: str
    doc: str
    repeating: bool = False
    optional: bool = False
    ndim: int | None = None


@dataclasses.dataclass(frozen=True)
class Function:
    """One Excel function.

    Attributes:
      name: the name inside the namespace (``COST``).
      summary: one line, shown as the function's description.
      args: its arguments, in order.
      runtimes: where it runs (subset of RUNTIMES).
      example: a worked example in Office.js spelling (documented and executed by the tests).
    """

    name: str
    summary: str
    args: tuple[Arg, ...]
    runtimes: frozenset[str]
    example: str

    @property
    def python_name(self) -> str:
        """The Python function's name, which is also the classic add-in's Excel name."""
        return f"{NAMESPACE}_{self.name}"

    @property
    def classic_name(self) -> str:
        return self.python_name

    @property
    def officejs_name(self) -> str:
        return f"{NAMESPACE}.{self.name}"

    def excel_name(self, runtime: str) -> str:
        """The name to type in a formula under ``runtime``."""
        if runtime not in RUNTIMES:
            raise ValueError(f"unknown runtime {runtime!r}: use one of {', '.join(RUNTIMES)}")
        return self.classic_name if runtime == "classic" else self.officejs_name

    def formula(self, runtime: str, *args: str) -> str:
        """Formula text calling this function with already-formatted argument texts, e.g.
        ``formula("server", "B2", "B3", '"provider"', '"AWS"')`` → ``=FINOPS.COST(B2,B3,"provider","AWS")``."""
        if runtime not in self.runtimes:
            raise ValueError(f"{self.officejs_name} does not run under {runtime}")
        return f"={self.excel_name(runtime)}({','.join(args)})"


def _store(name: str, summary: str, args: tuple[Arg, ...], example: str) -> Function:
    """A function that reads the cost store, so runs where one can be opened (classic, server).
    ``example`` is its worked example's argument list: ``'("provider")'`` for ``VALUES`` stands
    for ``=FINOPS.VALUES("provider")``."""
    return Function(name, summary, args, STORE_RUNTIMES, f"={NAMESPACE}.{name}{example}")


def _pure(name: str, summary: str, args: tuple[Arg, ...], example: str) -> Function:
    """A pure calculation, which runs in every runtime (xlwings Lite too); ``example`` as for
    ``_store``."""
    return Function(name, summary, args, ALL_RUNTIMES, f"={NAMESPACE}.{name}{example}")


_PERIOD = (
    Arg("start", "First day of the period (a date): charges starting on or after it count."),
    Arg("end", "First day after the period (a date): [start, end), e.g. 2025-02-01 for January."),
)
_FILTERS_DOC = ("Filters as dimension, value pairs: \"provider\", \"AWS\", \"tag:team\", \"payments\", … "
                "(a two-column range of pairs works too). A value may be a range of several values. "
                "The pair \"store\", PATH picks a cost store other than the default.")
_STORE = Arg("store", "Path of the cost store folder (default: FINOPS_XL_STORE, else the user's "
             "finops-store).", optional=True)

FUNCTIONS: tuple[Function, ...] = (
    _store("COST", "Cost of the charges in [start, end) that match the filters (EffectiveCost unless a metric "
           "is given): one number, exact to the cent.",
           (*_PERIOD,
            Arg("filters", _FILTERS_DOC + " An odd last value, or the pair \"metric\", NAME, picks "
                "the metric: EffectiveCost, BilledCost, ListCost or ContractedCost.", repeating=True)),
           '(DATE(2025,1,1), DATE(2025,2,1), "provider", "AWS", "service_category", "Compute")'),
    _store("COSTTABLE", "A pivot of cost over [start, end): one row per value of the row dimension, one column "
           "per value of the column dimension, with a header row. Spills.",
           (*_PERIOD,
            Arg("rows", "Row dimension, e.g. \"sub_account\", \"service\", \"tag:team\"."),
            Arg("options", "Then, in order: the column dimension (e.g. \"month\"; empty for one total "
                "column), the metric (empty for EffectiveCost), and filters as dimension, value pairs.",
                repeating=True)),
           '(DATE(2025,1,1), DATE(2025,4,1), "provider", "month")'),
    _store("DIMENSIONS", "The dimensions cost can be filtered and grouped by, with a description each; tag "
           "keys as tag:KEY. Spills; use it as a data-validation list.",
           (_STORE,),
           "()"),
    _store("VALUES", "The distinct values of a dimension in the store, sorted. Spills; use it as a "
           "data-validation list.",
           (Arg("dimension", "A dimension name from FINOPS.DIMENSIONS(), e.g. \"provider\"."), _STORE),
           '("provider")'),
    _pure("ALLOCATE", "Splits an amount in proportion to weights, to the cent, so the parts add up to the "
          "amount exactly (largest-remainder method). Spills, in the weights' shape.",
          (Arg("amount", "The amount to split (rounded half-even to the decimals first)."),
           Arg("weights", "A row or column of non-negative weights, e.g. headcount or usage.", ndim=2),
           Arg("decimals", "Decimal places of the parts (default 2: cents).", optional=True)),
          "(100, {1;1;1})"),
    _store("ALLOCATION_COVERAGE", "Allocation coverage of a month from the store's current allocation: the "
           "shares of cost allocated directly (tag or mapping), by a split, and not at all, the allocated "
           "total and the FinOps maturity (crawl, walk ≥ 80%, run ≥ 90%). Spills.",
           (Arg("month", "Any date in the month, e.g. DATE(2025,1,1)."), _STORE),
           "(DATE(2025,1,1))"),
)

FUNCTIONS += (
    _store("OPPORTUNITIES", "Optimization opportunities from the savings ledger (run `finops-xl opportunities` "
           "to find them): id, rule, resource, owner, status, confidence, monthly cost, estimated monthly "
           "savings and action, largest savings first; rejected ones left out. Spills.",
           (Arg("owner", "Only this owner's opportunities (empty for all).", optional=True),
            Arg("min_savings", "Only those saving at least this much a month (empty for all).",
                optional=True),
            _STORE),
           '("web", 50)'),
    _store("SAVINGS_REALIZED", "Savings realized in a month by implemented opportunities, measured: each "
           "resource's cost per day in the 30 days before the change, times the month's days since, minus what "
           "it actually cost. One number.",
           (Arg("month", "Any date in the month, e.g. DATE(2025,3,1)."),
            Arg("owner", "Only this owner's opportunities (empty for all).", optional=True),
            _STORE),
           '(DATE(2025,3,1), "web")'),
)

_MONTH = Arg("month", "Any date in the month.")
_COMMITMENT = (
    Arg("start", "First day of the commitment's term (a date)."),
    Arg("term_months", "Term in months, e.g. 12 or 36."),
    Arg("upfront", "The upfront (prepaid) amount."),
)
_METHOD = Arg("method", "\"daily\" (default: per-day = upfront ÷ days in term) or \"monthly\" "
              "(upfront ÷ months, partial first month prorated).", optional=True)

_TERM_YEARS = Arg("term_years", "1 or 3.")
#: The purchase date and how much of the term the usage runs, last in every purchase's arguments.
_PURCHASE_OPTIONS = (
    Arg("start", "Purchase date (default: today).", optional=True),
    Arg("utilization", "Share of the term the usage runs (default 1).", optional=True),
)
#: A commitment purchase against staying on demand, as COMMIT_IRR and BREAKEVEN_MONTHS take it.
_PURCHASE = (
    Arg("on_demand_hourly", "On-demand price per hour."), Arg("upfront", "Upfront payment."),
    Arg("recurring_hourly", "Recurring fee per hour."), _TERM_YEARS, *_PURCHASE_OPTIONS,
)
_HISTORY_VALUES = Arg("history_values", "Monthly costs, oldest first.")

FUNCTIONS += (
    _pure("AMORT_SCHEDULE", "The prepaid commitment's amortization schedule by month: opening balance, "
          "amortization, closing balance, current and non-current parts, recurring fee; exact to the cent, "
          "summing to the upfront. Spills, with a header row.",
          (*_COMMITMENT, Arg("recurring", "Monthly recurring fee (informative column; default 0).",
                             optional=True), _METHOD),
          '(DATE(2025,1,15), 12, 1200, 0, "monthly")'),
    _pure("AMORT", "The amount of a prepaid commitment amortized in one month (see AMORT_SCHEDULE).",
          (*_COMMITMENT, _MONTH, _METHOD),
          "(DATE(2019,10,23), 12, 12016, DATE(2019,11,1))"),
    _pure("PREPAID_BALANCE", "The prepaid balance left at the end of a month (see AMORT_SCHEDULE).",
          (*_COMMITMENT, _MONTH, _METHOD),
          "(DATE(2024,1,1), 12, 365, DATE(2024,6,1))"),
    _pure("VARIANCE", "Actual against budget: the variance (actual − budget; positive = overspend), the "
          "variance in %, and with volumes the price effect ((actual unit price − budget unit price) × actual "
          "volume) and volume effect ((actual volume − budget volume) × budget unit price), which add up to "
          "the variance. Spills.",
          (Arg("actual", "Actual cost."), Arg("budget", "Budgeted cost."),
           Arg("actual_volume", "Actual volume (e.g. instance-hours), for price/volume.", optional=True),
           Arg("budget_volume", "Budgeted volume.", optional=True)),
          "(1200, 1000, 100, 125)"),
    _pure("OPTIMAL_COMMITMENT", "The spend commitment that minimizes commitment fee + on-demand overflow for "
          "an hourly on-demand-equivalent spend profile at discount d: the coverage level (the lower "
          "d-quantile of the hours), the hourly commitment (1 − d) × level, total cost, on-demand cost, "
          "savings, expected and break-even utilization. Exact. Spills.",
          (Arg("hourly_spend", "A range of hourly on-demand-equivalent spend, one cell per hour."),
           Arg("discount", "The commitment's discount from on-demand, e.g. 0.3 for 30%.")),
          "({1000;1000;700;700;600}, 0.3)"),
    _store("COVERAGE", "Commitment coverage of a month: commitment-covered eligible usage ÷ all eligible "
           "usage, in on-demand-equivalent cost (ListCost), for all providers or one.",
           (_MONTH,
            Arg("scope", "A provider (e.g. \"AWS\"), or empty for all.", optional=True), _STORE),
           "(DATE(2025,2,1))"),
    _store("UTILIZATION", "Commitment utilization of a month: used ÷ (used + unused) amortized cost, for the "
           "whole portfolio or one commitment.",
           (_MONTH,
            Arg("commitment", "A CommitmentDiscountId, or empty for all.", optional=True), _STORE),
           "(DATE(2025,2,1))"),
    _store("ESR", "Effective savings rate of a month over eligible usage: (ListCost − EffectiveCost) ÷ "
           "ListCost, for all providers or one.",
           (_MONTH,
            Arg("scope", "A provider, or empty for all.", optional=True), _STORE),
           "(DATE(2025,2,1))"),
    _store("COMMITMENTS", "The commitment inventory: id, provider, type, category, start, end, term, upfront, "
           "monthly recurring fee, status. Spills.",
           (_STORE,),
           "()"),
    _store("EXPIRING", "Commitments ending within the next days (as of the end of the data), with the last 30 "
           "days' utilization and a suggestion: renew, resize or let expire. Spills.",
           (Arg("days", "Look-ahead in days, e.g. 30, 60 or 90."), _STORE),
           "(90)"),
    _store("COMMIT_RECOMMEND", "What to buy: one line per provider and scope (a family in a region, then the "
           "provider's compute spend) on the usage no commitment covers yet, each term and payment optimized "
           "at its own discount and the best by NPV kept: size, fee, upfront, savings a year, NPV, break-even "
           "month, P10/P50/P90 utilization, start date from the data. Spills.",
           (Arg("provider", "Only this provider: AWS, Microsoft or Google Cloud (empty for all).",
                optional=True),
            Arg("lookback", "Days of history the profile covers: 7, 30 (default) or 60.", optional=True),
            _STORE),
           '("AWS", 30)'),
    _store("COMMIT_ACTIONS", "The portfolio action list: renew, resize or let lapse what ends within 180 days; "
           "exchange, refund, size flexibility or hold for the underused rest, each with its money (monthly "
           "savings, waste avoided) and its reason. Spills.",
           (_STORE,),
           "()"),
    _pure("COMMIT_NPV", "NPV of buying a commitment instead of staying on demand: dated monthly cash flows "
          "(upfront at purchase, recurring fee and on-demand cost avoided at each month end), discounted like "
          "Excel's XNPV at the annual rate, as of the purchase date.",
          (Arg("on_demand_hourly", "On-demand price per hour of the usage the commitment covers."),
           Arg("upfront", "Upfront payment (0 for no upfront)."),
           Arg("recurring_hourly", "Recurring fee per hour (0 for all upfront)."),
           _TERM_YEARS, Arg("rate", "The company's annual discount rate, e.g. 0.08."), *_PURCHASE_OPTIONS),
          "(0.126, 648.24, 0, 1, 0.08, DATE(2025,1,1))"),
    _pure("COMMIT_IRR", "IRR of buying a commitment instead of staying on demand (Excel's XIRR over the same "
          "dated cash flows as COMMIT_NPV); an error when the flows never change sign (no upfront).",
          _PURCHASE,
          "(0.126, 648.24, 0, 1, DATE(2025,1,1))"),
    _pure("BREAKEVEN_MONTHS", "The month of the term in which cumulative savings over on demand turn "
          "non-negative (undiscounted); an error if they never do.",
          _PURCHASE,
          "(0.126, 648.24, 0, 1, DATE(2025,1,1))"),
    _pure("TOKEN_COST", "Inference cost per 1M tokens of a GPU deployment: GPU $/h ÷ (tokens/s × 3,600 × "
          "utilization) × 10⁶.",
          (Arg("gpu_hourly", "GPU price per hour."), Arg("tokens_per_second", "Throughput."),
           Arg("utilization", "Share of the hours serving traffic (default 1).", optional=True)),
          "(2, 85)"),
    _pure("FORECAST", "Monthly cost forecast from history: exponential smoothing with trend (and yearly "
          "seasonality from two full years), seasonal naive or run rate, with an 80% prediction interval. "
          "Short or no history falls back to a run rate, with a note. Spills: month, forecast, low, high.",
          (_HISTORY_VALUES,
           Arg("history_dates", "The months of those costs (any day in each month)."),
           Arg("horizon", "Months to forecast."),
           Arg("method", "\"ets\" (default), \"seasonal_naive\" or \"run_rate\".", optional=True),
           Arg("seasonality", "Season length in months (default 12; 0 for none).", optional=True)),
          "({100;103;106.1;109.3;112.6;115.9}, {45658;45689;45717;45748;45778;45809}, 3)"),
    _pure("BACKTEST", "Rolling-origin backtest of the forecast methods on a monthly history: MAPE, bias and "
          "the FinOps forecast band (run ≤ 12%, walk ≤ 15%, crawl ≤ 20%) per method. Spills.",
          (_HISTORY_VALUES,
           Arg("history_dates", "The months of those costs."),
           Arg("horizon", "Months ahead each origin forecasts (default 1).", optional=True),
           Arg("min_train", "Months of history before the first origin (default 12).", optional=True)),
          "({100;110;120;130;140;150}, {45658;45689;45717;45748;45778;45809}, 1, 3)"),
    _pure("UNIT_COST", "Cost per driver unit: Σ cost ÷ Σ volume over the given months (e.g. cost per user).",
          (Arg("costs", "Costs per month."), Arg("volumes", "Driver volumes of the same months.")),
          "({1500;1650;1800}, {10;11;12})"),
    _pure("DRIVER_FORECAST", "Driver-based cost by month: planned volume × unit cost × (1 − commitment "
          "coverage × discount). Spills a column, one month per volume.",
          (Arg("volumes", "Planned driver volumes by month (e.g. headcount).", ndim=2),
           Arg("unit_cost", "Cost per driver unit."),
           Arg("coverage", "Commitment coverage target, e.g. 0.6 (default 0).", optional=True),
           Arg("discount", "Commitment discount, e.g. 0.3 (default 0).", optional=True)),
          "({10;11;12}, 150, 0.6, 0.3)"),
    _store("ACCRUAL", "The month-end accrual from the store: cost already in the data + the missing days "
           "projected + known fixed fees − anything already invoiced (BilledCost), for one owner or all.",
           (Arg("month", "Any date in the close month."),
            Arg("owner", "An owner (after allocation), or empty for all.", optional=True),
            Arg("cutoff", "First day without data (default: the day after the last usage).",
                optional=True), _STORE),
           "(DATE(2025,3,1))"),
    _store("JOURNAL", "The month's journal entries as lines (entry, date, kind, account, cost center, debit, "
           "credit, currency, memo): \"accrual\" (with its reversal) or \"amortization\" (prepaid commitments "
           "from the store). Spills.",
           (_MONTH,
            Arg("type", "\"accrual\" (default) or \"amortization\".", optional=True), _STORE),
           '(DATE(2025,3,1), "amortization")'),
)

FUNCTIONS += (
    _store("PRICE", "The unit price the company pays, from the bill: Σ EffectiveCost ÷ Σ PricingQuantity of "
           "the usage of a SKU, SKU price, instance type or service (finops-xl prices lists them).",
           (Arg("sku_or_service", "A SkuId, SkuPriceId, instance type (m6i.2xlarge) or service name."),
            Arg("region", "A RegionId (us-east-1), or empty for all regions.", optional=True),
            Arg("pricing", "A PricingCategory: Standard, Committed or Dynamic; empty for all.", optional=True),
            Arg("kind", "\"effective\" (default), \"list\" or \"contracted\".", optional=True),
            _STORE),
           '("m6i.2xlarge", "us-east-1", "Standard")'),
)

BY_NAME = {f.name: f for f in FUNCTIONS}


def function(name: str) -> Function:
    """The registered function ``name`` (``COST``, ``FINOPS.COST`` or ``FINOPS_COST``)."""
    key = name.upper().removeprefix(f"{NAMESPACE}.").removeprefix(f"{NAMESPACE}_")
    try:
        return BY_NAME[key]
    except KeyError:
        raise KeyError(f"no finops-xl function {name!r}; functions: "
                       f"{', '.join(f.officejs_name for f in FUNCTIONS)}") from None
