"""The registry of finops-xl's Excel functions, for callers that import it from here: it lives in
``finops_xl.excel_functions``, beneath both faces, so the workbook builders read it without
importing the Excel face."""

from finops_xl.excel_functions import (  # noqa: F401
    BY_NAME,
    FUNCTIONS,
    NAMESPACE,
    RUNTIMES,
    STORE_RUNTIMES,
    Arg,
    Function,
    function,
)
