"""The custom scripts module xlwings Server imports: the workbook macros of the task pane."""

from finops_udfs.macros import finops_allocate, finops_build_close, finops_build_overview, finops_refresh

__all__ = ["finops_refresh", "finops_build_overview", "finops_allocate", "finops_build_close"]
