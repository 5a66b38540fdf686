"""finops-xl: cloud-cost finance for Excel workbooks.

The library half of the project: the FOCUS cost store and the capabilities that read it. It never
imports xlwings; the Excel face lives in the ``finops_udfs`` module.
"""

__version__ = "0.1.0"
