"""The close workbook's Prepaid sheet: commitments, roll-forward and native daily straight-line
schedules (``close``; the rounding formula is described there)."""

from __future__ import annotations

from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.close_common import (
    PREPAID,
    _CENTS,
    _CHECK,
    _CHECK_LABEL,
    _DATE,
    _INPUT_DATE,
    _INPUT_MONEY,
    _SECTION,
    _check,
    _largest,
    _month_text,
    _notes,
    _text,
    _total_row,
)
from finops_workbooks.close_signoff import sheet_title as _title
from finops_workbooks.draft import start_sheet
from finops_workbooks.model import PLAIN, Formula, Sheet, ref
from finops_xl.close.gather import CloseData


# ---- Prepaid --------------------------------------------------------------------------------

_COMMITMENT_HEADER = ("#", "Commitment", "Provider", "Type", "Start", "Term (months)", "Upfront",
                      "First month", "Term end", "Term days", "Recurring monthly",
                      "Amortized over the term", "Max |native − finops_xl|")
_ROLL_HEADER = ("Month", "Opening", "Purchases", "Transfers", "Amortization", "Write-offs", "Closing",
                "Non-current", "Current", "finops_xl closing", "Difference")
_SCHEDULE_HEADER = ("Month", "n", "Days of term", "Share in minor units", "Opening", "Purchases",
                    "Amortization", "Closing", "Non-current", "Current", "finops_xl amortization",
                    "Difference")


def prepaid_sheet(data: CloseData) -> tuple[Sheet, dict[str, str]]:
    s = start_sheet(PREPAID, _title(data, f"Prepaid commitments: {_month_text(data.month)}"))
    refs: dict[str, str] = {}
    row = _notes(s, 2, (
        ("Inputs (yellow): each commitment's start, term and upfront (finops_xl.close.amortization."
         "commitments_from_store)."),
        ("Each schedule recomputes daily straight-line amortization from its inputs in native formulas, beside "
         "finops_xl's schedule."),
        ("Rounding: finops_xl rounds half-even (a half cent to the even cent); Excel's ROUND rounds a half cent "
         "away from zero."),
        ("So each month takes its share in cents (upfront in cents × days ÷ term days: a tie is exactly .5), "
         "rounds it with ROUND"),
        ("and takes the cent back on a tie above an even cent. The last month takes the rest, so the months add "
         "up to the upfront."),
        "Non-current: the balance still carried 12 months after the month end; current = closing − non-current."))
    check_row = row + 1
    s.put(check_row, 1, "Check: native schedules = finops_xl schedules", _CHECK_LABEL)
    s.put(check_row + 1, 1, "Check: roll-forward = finops_xl roll-forward", _CHECK_LABEL)

    # the commitments (inputs)
    chead = check_row + 4
    s.put(chead - 1, 1, f"Commitments in {data.currency}", _SECTION)
    s.put_row(chead, 1, _COMMITMENT_HEADER[:4], f.HEADER_LEFT)
    s.put_row(chead, 5, _COMMITMENT_HEADER[4:], f.HEADER)
    cfirst = chead + 1
    crow = {}
    for i, c in enumerate(data.commitments):
        r = cfirst + i
        crow[c.id] = r
        s.put(r, 1, i + 1, f.KEY.but(align="left"))
        s.put_row(r, 2, _text(c.id, c.provider, c.type))
        s.put(r, 5, c.start, _INPUT_DATE)
        s.put(r, 6, c.term_months, f.INPUT)
        s.put(r, 7, c.upfront, _INPUT_MONEY)
        s.put(r, 8, Formula(f"=EOMONTH(E{r},-1)+1"), f.MONTH_CELL)
        s.put(r, 9, Formula(f"=EDATE(E{r},F{r})"), _DATE)
        s.put(r, 10, Formula(f"=I{r}-E{r}"), PLAIN)
        s.put(r, 11, c.recurring_monthly, f.MONEY)
    clast = cfirst + max(len(data.commitments), 1) - 1
    if not data.commitments:
        s.put(cfirst, 2, "(no commitments in the store)", f.NOTE)

    # the roll-forward
    rhead = clast + 3
    s.put(rhead - 1, 1, "Roll-forward: opening + purchases + transfers − amortization − write-offs = closing "
                        "(SUMIFS over the schedules below on the month)", _SECTION)
    s.put(rhead, 1, _ROLL_HEADER[0], f.HEADER_LEFT)
    s.put_row(rhead, 2, _ROLL_HEADER[1:], f.HEADER)
    rfirst = rhead + 1
    rlast = rfirst + max(len(data.roll_forward), 1) - 1

    # the schedules' area (needed by the roll-forward's SUMIFS)
    schedules = data.amortizing
    sstart = rlast + 3
    blocks = []
    row = sstart
    for s_ in schedules:
        blocks.append((s_, row))
        row += 3 + len(s_.periods) + 2
    send = max(sstart, row - 2)

    def area(col: str) -> str:
        return f"${col}${sstart}:${col}${send}"


    for i, rf in enumerate(data.roll_forward):
        r = rfirst + i
        s.put(r, 1, rf.month, f.MONTH_CELL.but(bold=rf.month == data.month))
        if i == 0:
            s.put(r, 2, Formula(f"=SUMIFS({area('E')},{area('A')},A{r})"), f.MONEY)
        else:
            s.put(r, 2, Formula(f"=G{r - 1}"), f.MONEY)
        s.put(r, 3, Formula(f"=SUMIFS({area('F')},{area('A')},A{r})"), f.MONEY)
        s.put(r, 4, rf.transfers, f.MONEY)
        s.put(r, 5, Formula(f"=SUMIFS({area('G')},{area('A')},A{r})"), f.MONEY)
        s.put(r, 6, rf.write_offs, f.MONEY)
        s.put(r, 7, Formula(f"=ROUND(B{r}+C{r}+D{r}-E{r}-F{r},CurrencyDecimals)"), f.MONEY_TOTAL)
        s.put(r, 8, Formula(f"=SUMIFS({area('I')},{area('A')},A{r})"), f.MONEY)
        s.put(r, 9, Formula(f"=ROUND(G{r}-H{r},CurrencyDecimals)"), f.MONEY)
        s.put(r, 10, rf.closing, f.MONEY)
        s.put(r, 11, Formula(f"=G{r}-J{r}"), f.MONEY)
    if not data.roll_forward:
        s.put(rfirst, 2, "(no prepaid balance up to this month)", f.NOTE)
    refs |= {"rf_months": f"$A${rfirst}:$A${rlast}", "rf_amortization": f"$E${rfirst}:$E${rlast}",
             "rf_closing": f"$G${rfirst}:$G${rlast}", "rf_current": f"$I${rfirst}:$I${rlast}"}
    s.put(check_row + 1, 5, _check(_largest(f"K{rfirst}:K{rlast}")), _CHECK)
    refs["rf_check"] = ref(check_row + 1, 5)

    # one schedule per commitment with an upfront
    if not schedules:
        s.put(sstart, 1, "No commitment has an upfront: there is nothing to amortize.", f.NOTE)
    for k, (sch, top) in enumerate(blocks, start=1):
        c = sch.commitment
        cr = crow[c.id]
        s.put(top, 1, f"Schedule {k}", _SECTION)
        s.put(top, 2, c.id, f.LABEL)
        s.put(top + 1, 1, f"Inputs from row {cr} above: start E{cr}, term F{cr}, upfront G{cr}; first month "
                          f"H{cr}, term end I{cr}, term days J{cr}.", f.NOTE)
        head = top + 2
        s.put(head, 1, _SCHEDULE_HEADER[0], f.HEADER_LEFT)
        s.put_row(head, 2, _SCHEDULE_HEADER[1:], f.HEADER)
        first = head + 1
        last = first + len(sch.periods) - 1
        upfront, start, end, days = f"$G${cr}", f"$E${cr}", f"$I${cr}", f"$J${cr}"
        for n, p in enumerate(sch.periods):
            r = first + n
            s.put(r, 1, Formula(f"=EDATE($H${cr},B{r})"), f.MONTH_CELL)
            s.put(r, 2, n, f.KEY)
            s.put(r, 3, Formula(f"=MAX(0,MIN(EOMONTH(A{r},0)+1,{end})-MAX(A{r},{start}))"), PLAIN)
            s.put(r, 4, Formula(f"=ROUND({upfront}*MinorUnits,0)*C{r}/{days}"), _CENTS)
            s.put(r, 5, Decimal(0) if n == 0 else Formula(f"=H{r - 1}"), f.MONEY)
            s.put(r, 6, Formula(f"=IF(B{r}=0,{upfront},0)"), f.MONEY)
            left = upfront if n == 0 else f"{upfront}-SUM(G${first}:G{r - 1})"
            if r == last:
                amount = f"=ROUND({left},CurrencyDecimals)"
            else:
                half_even = (f"(ROUND(D{r},0)-IF(AND(D{r}-INT(D{r})=0.5,MOD(INT(D{r}),2)=0),1,0))"
                             f"/MinorUnits")
                amount = f"=MIN({half_even},ROUND({left},CurrencyDecimals))"
            s.put(r, 7, Formula(amount), f.MONEY_TOTAL)
            s.put(r, 8, Formula(f"=ROUND(E{r}+F{r}-G{r},CurrencyDecimals)"), f.MONEY)
            s.put(r, 9, Formula(f"=SUMIFS($H${first}:$H${last},$A${first}:$A${last},EDATE(A{r},12))"), f.MONEY)
            s.put(r, 10, Formula(f"=ROUND(H{r}-I{r},CurrencyDecimals)"), f.MONEY)
            s.put(r, 11, p.amortization, f.MONEY)
            s.put(r, 12, Formula(f"=G{r}-K{r}"), f.MONEY)
        total = last + 1
        _total_row(s, total, first, last, (3, 4, 6, 7, 11, 12), label="Term total",
                   style=lambda c: PLAIN.but(bold=True) if c == 3 else _CENTS.but(bold=True) if c == 4
                   else f.MONEY_TOTAL)
        s.put(cr, 12, Formula(f"=G{total}"), f.MONEY)
        s.put(cr, 13, Formula(f"={_largest(f'L{first}:L{last}')}"), f.MONEY)
    s.put(check_row, 5, _check(_largest(f"M{cfirst}:M{clast}")), _CHECK)
    refs["schedule_check"] = ref(check_row, 5)

    widths = (12, 36, 13, 16, 13, 13, 14, 13, 13, 12, 14, 15, 15)
    for c, w in enumerate(widths, start=1):
        s.width(c, w)
    s.fit_height(chead, range(1, len(_COMMITMENT_HEADER) + 1))
    s.fit_height(rhead, range(1, len(_ROLL_HEADER) + 1))
    for _, top in blocks:
        s.fit_height(top + 2, range(1, len(_SCHEDULE_HEADER) + 1))
    return s.build(), refs
