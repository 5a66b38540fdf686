"""The custom functions module xlwings Server imports: the FINOPS functions (finops_udfs.server)."""

from finops_udfs.server import server_functions

globals().update(server_functions())
