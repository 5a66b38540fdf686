"""The house look of the template workbooks: number formats and cell styles, named once.

Money uses Excel's accounting format (thousands separators, two decimals, negatives in parentheses,
zero as a dash); months are real dates (the first of the month) shown as ``mmm yyyy``.
"""

from __future__ import annotations

from finops_workbooks.model import Style

#: Excel's built-in accounting format without a currency symbol (number format id 43).
ACCOUNTING = '_(* #,##0.00_);_(* \\(#,##0.00\\);_(* "-"??_);_(@_)'
#: A month, stored as the date of its first day.
MONTH = "mmm yyyy"
#: A calendar date.
DATE = "yyyy-mm-dd"
#: A date and time (UTC).
DATETIME = "yyyy-mm-dd hh:mm:ss"
#: A change as a percentage with one decimal.
PERCENT = "0.0%"
#: A whole number with thousands separators.
INTEGER = "#,##0"

TITLE = Style(bold=True, size=14)
NOTE = Style(italic=True, color="595959")
HEADER = Style(bold=True, fill="D9E1F2", wrap=True, align="right")  # above numbers
HEADER_LEFT = HEADER.but(align="left")
LABEL = Style(bold=True)
KEY = Style(italic=True, size=8, color="808080", align="right")
MONEY = Style(number_format=ACCOUNTING)
MONEY_TOTAL = Style(number_format=ACCOUNTING, bold=True)
MONTH_CELL = Style(number_format=MONTH, align="left")
MONTH_TOTAL = Style(bold=True)
DATE_CELL = Style(number_format=DATE, align="left")
CHANGE = Style(number_format=PERCENT)
INPUT = Style(fill="FFF2CC")
INPUT_DATE = Style(fill="FFF2CC", number_format=MONTH, align="left")

# ---- the finish every workbook gets (applied by ``writer.finish`` to every sheet) --------------

#: Switch cells (by defined name) and the drop-down each offers: a list formula or a quoted list.
#: A value off the list is refused (error style "stop"), so a typo like ``hgh`` cannot be entered.
SWITCHES = {
    "Scenario": "=ScenarioNames",
    "Runtime": '"classic,server,lite"',
    "AccrualMetric": '"EffectiveCost,BilledCost"',
}
#: Month switches (first day of a month, as dates): a date validation.
MONTH_SWITCHES = ("PeriodStart", "PeriodEnd", "CloseMonth", "StartDate")
#: A change (a percentage-formatted cell) beyond ±VARIANCE_THRESHOLD is highlighted.
VARIANCE_THRESHOLD = 0.10
OVER_FILL = "F8CBAD"   # overspend / increase beyond the threshold
UNDER_FILL = "C6EFCE"  # saving / decrease beyond it
#: A sheet is printed landscape when its columns add up to more characters than this.
LANDSCAPE_WIDTH = 100
#: Footer of every printed page.
FOOTER_CENTER = "Page &P of &N"
FOOTER_LEFT = "&A"
#: Sheets that are never the first tab (moved to the end).
BACK_SHEETS = ("Settings",)


def is_key(style: Style) -> bool:
    """A helper key cell (``KEY`` or a variant of it): hidden from the reader."""
    return bool(style.italic and style.size == KEY.size and style.color == KEY.color)


def is_input(style: Style) -> bool:
    return style.fill == INPUT.fill
