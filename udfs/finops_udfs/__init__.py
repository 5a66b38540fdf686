"""finops-xl's Excel functions and macros for xlwings (classic add-in, xlwings Server, xlwings Lite).

Point xlwings at this module: ``UDF_MODULES = finops_udfs`` (classic add-in), or
``from finops_udfs import *`` in an xlwings Server ``custom_functions`` module. The function names
and help come from ``finops_udfs.registry``.
"""

from finops_udfs.functions import (
    FINOPS_ACCRUAL,
    FINOPS_ALLOCATE,
    FINOPS_ALLOCATION_COVERAGE,
    FINOPS_AMORT,
    FINOPS_AMORT_SCHEDULE,
    FINOPS_BACKTEST,
    FINOPS_BREAKEVEN_MONTHS,
    FINOPS_COMMIT_IRR,
    FINOPS_COMMIT_NPV,
    FINOPS_COMMITMENTS,
    FINOPS_COST,
    FINOPS_COSTTABLE,
    FINOPS_COVERAGE,
    FINOPS_ESR,
    FINOPS_EXPIRING,
    FINOPS_COMMIT_RECOMMEND,
    FINOPS_COMMIT_ACTIONS,
    FINOPS_FORECAST,
    FINOPS_DIMENSIONS,
    FINOPS_DRIVER_FORECAST,
    FINOPS_JOURNAL,
    FINOPS_OPPORTUNITIES,
    FINOPS_OPTIMAL_COMMITMENT,
    FINOPS_PREPAID_BALANCE,
    FINOPS_PRICE,
    FINOPS_SAVINGS_REALIZED,
    FINOPS_TOKEN_COST,
    FINOPS_UNIT_COST,
    FINOPS_UTILIZATION,
    FINOPS_VALUES,
    FINOPS_VARIANCE,
)
from finops_udfs.macros import (
    finops_allocate,
    finops_build_close,
    finops_build_overview,
    finops_refresh,
)

__all__ = [
    "FINOPS_ACCRUAL", "FINOPS_AMORT", "FINOPS_AMORT_SCHEDULE", "FINOPS_JOURNAL",
    "FINOPS_OPTIMAL_COMMITMENT", "FINOPS_COVERAGE", "FINOPS_UTILIZATION", "FINOPS_ESR",
    "FINOPS_COMMITMENTS", "FINOPS_EXPIRING", "FINOPS_COMMIT_NPV", "FINOPS_COMMIT_IRR",
    "FINOPS_COMMIT_RECOMMEND", "FINOPS_COMMIT_ACTIONS",
    "FINOPS_BREAKEVEN_MONTHS", "FINOPS_TOKEN_COST", "FINOPS_FORECAST", "FINOPS_BACKTEST",
    "FINOPS_UNIT_COST", "FINOPS_DRIVER_FORECAST",
    "FINOPS_PRICE",
    "FINOPS_PREPAID_BALANCE", "FINOPS_VARIANCE", "FINOPS_ALLOCATE", "FINOPS_ALLOCATION_COVERAGE", "FINOPS_COST",
    "FINOPS_COSTTABLE",
    "FINOPS_DIMENSIONS", "FINOPS_VALUES", "finops_allocate", "finops_build_close",
    "finops_build_overview",
    "finops_refresh",
]
