"""The "Design review" template: design alternatives priced as native ``quantity × price`` formulas.

Sheets, in tab order:

1. **Summary** (opens first) — per alternative: operating cost, migration, total, the NPV of the
   difference against the baseline (native ``XNPV`` over the Cash flows sheet at ``DiscountRate``)
   and the break-even month; the monthly cost per alternative and its line chart.
2. **Assumptions** — the discount rate, the named assumptions (each a defined name the quantity
   formulas use: change ``services`` and watch the NPV move), the growth drivers, the commitment
   options and the one-off migration costs. Yellow cells are inputs.
3. **Price book** — the unit price of each priced thing (yellow: an input), whether it comes
   from the bill or is an assumption, and below it the bill's whole price book (values).
4. **Drivers** — each growth driver by month: ``value(m) = value(m−1) × (1 + growth) × (1 +
   event(m))`` (event steps are inputs) and its index ``value(m) ÷ value(1)``.
5. **Costs** — per alternative and component: the monthly quantity (the product of its fields,
   × the driver index, in its months ``from``..``until``; Kubernetes nodes ``ROUNDUP``-ed) and its
   cost = quantity × unit price (Price book) × (1 − coverage × discount) when a commitment applies.
6. **Cash flows** — period 0 (the start day) and months 1 … n dated at their ends (``EDATE``), as
   :mod:`finops_xl.commitments.valuation` dates flows; each alternative's cost, the flows against
   the baseline, their running sum and the break-even flag.
7. **Sensitivity** — the tornado as values (computed when the workbook was built) with a chart.

Every formula's value as Python computes it is recorded in ``checks`` (sheet, cell → value), so a
test can recalculate the file and compare every formula.
"""

from __future__ import annotations

from decimal import Decimal

from finops_workbooks import formats as f
from finops_workbooks.draft import SheetDraft, start_sheet
from finops_workbooks.model import Chart, DefinedName, Formula, Style, WorkbookSpec, quote_sheet, ref
from finops_xl import __version__
from finops_xl.design.evaluate import DesignResult, TornadoBar
from finops_xl.design.model import MULTIPLIERS, Quantity
from finops_xl.design.prices import PriceBookRow

SUMMARY, ASSUMPTIONS, PRICES, DRIVERS, COSTS, CASH, SENSITIVITY = (
    "Summary", "Assumptions", "Price book", "Drivers", "Costs", "Cash flows", "Sensitivity")
PERCENT = Style(number_format="0.0%", fill="FFF2CC")
NUMBER_IN = f.INPUT.but(number_format="#,##0.####")
QUANTITY = Style(number_format="#,##0.00")
PRICE_IN = f.INPUT.but(number_format="0.000000")
FIRST_MONTH = 8       # H: month 1 on Drivers and Costs
MONTH_ROW, DATE_ROW = 4, 5


class _Sheet(SheetDraft):
    """A draft that records the Python value of each formula it places."""

    def __init__(self, name: str, checks: dict):
        super().__init__(name, landscape=True)
        self.checks = checks

    def formula(self, row: int, column: int, text: str, expected, style: Style = f.MONEY) -> str:
        at = self.put(row, column, Formula(text), style)
        self.checks[(self.name, at)] = expected
        return at


def build_design(result: DesignResult, bars: tuple[TornadoBar, ...] = (),
                 book: tuple[PriceBookRow, ...] | None = None, checks: dict | None = None) -> WorkbookSpec:
    """The Design review workbook of ``result`` (:func:`finops_xl.design.evaluate.evaluate`), its
    tornado ``bars`` and the bill's price ``book``; ``checks`` (a dict) receives each formula
    cell's Python value."""
    checks = {} if checks is None else checks
    model = result.model
    names: list[DefinedName] = []
    at = {}   # where things are: ("price", name) -> absolute ref on Price book, ...
    sheets = [None,
              _assumptions(result, checks, names, at),
              _price_book(result, book, checks, at),
              _drivers(result, checks, at),
              _costs(result, checks, at),
              _cash_flows(result, checks, at)]
    sheets[0] = _summary(result, checks, at)
    sheets.append(_sensitivity(bars, model.currency))
    return WorkbookSpec(sheets=tuple(sheets), names=tuple(names), title=f"Design review: {model.name}",
                        active_sheet=SUMMARY)


# ---- Assumptions ------------------------------------------------------------------------------


def _assumptions(result: DesignResult, checks, names, at):
    model = result.model
    s = _Sheet(ASSUMPTIONS, checks)
    s.heading(f"Design review: assumptions — {model.name}",
              f"Yellow cells are inputs; every cost recalculates from them. From {model.source}; "
              f"built by finops-xl {__version__} (finops_workbooks.design).")
    s.put(4, 1, "Discount rate (annual)", f.LABEL)
    s.put(4, 2, model.discount_rate, PERCENT)
    s.put(4, 3, "the company's rate: NPV is XNPV of the dated flows (as commitment purchases)", f.NOTE)
    s.put(5, 1, "Start (period 0)", f.LABEL)
    s.put(5, 2, model.start, f.DATE_CELL)
    names += [DefinedName("DiscountRate", ASSUMPTIONS, "B4"), DefinedName("StartDate", ASSUMPTIONS, "B5")]
    r = 7
    s.put_row(r, 1, ("Assumption", "Value", "Note"), f.HEADER_LEFT)
    for name, value, note in model.assumptions:
        r += 1
        s.put(r, 1, name)
        s.put(r, 2, value, NUMBER_IN)
        s.put(r, 3, note, f.NOTE)
        names.append(DefinedName(name, ASSUMPTIONS, f"B{r}"))
    r += 2
    s.put_row(r, 1, ("Driver", "Start", "Monthly growth"), f.HEADER_LEFT)
    for d in model.drivers:
        r += 1
        s.put(r, 1, d.name)
        s.put(r, 2, d.start, NUMBER_IN)
        s.put(r, 3, d.monthly_growth, PERCENT)
        at[("driver", d.name)] = (f"{quote_sheet(ASSUMPTIONS)}!$B${r}", f"{quote_sheet(ASSUMPTIONS)}!$C${r}")
    r += 2
    s.put_row(r, 1, ("Commitment option", "Coverage", "Discount", "Applies to"), f.HEADER_LEFT)
    for c in model.commitments:
        r += 1
        s.put_row(r, 1, (c.name,))
        s.put(r, 2, c.coverage, PERCENT)
        s.put(r, 3, c.discount, PERCENT)
        s.put(r, 4, ", ".join(c.applies_to))
        at[("commitment", c.name)] = (f"{quote_sheet(ASSUMPTIONS)}!$B${r}", f"{quote_sheet(ASSUMPTIONS)}!$C${r}")
    r += 2
    s.put_row(r, 1, ("Migration (one-off)", "Item", "Month", "Amount"), f.HEADER_LEFT)
    first = r + 1
    for a in model.alternatives:
        for mg in a.migration:
            r += 1
            s.put_row(r, 1, (a.name, mg.name))
            s.put(r, 3, mg.month, f.INPUT)
            s.put(r, 4, mg.amount, f.INPUT.but(number_format=f.ACCOUNTING))
    last = max(r, first)
    a_ = quote_sheet(ASSUMPTIONS)
    at["migration"] = (f"{a_}!$A${first}:$A${last}", f"{a_}!$C${first}:$C${last}", f"{a_}!$D${first}:$D${last}")
    for column, width in ((1, 30), (2, 14), (3, 16), (4, 16)):
        s.width(column, width)
    return s.build()


# ---- Price book -------------------------------------------------------------------------------


def _price_book(result: DesignResult, book, checks, at):
    s = _Sheet(PRICES, checks)
    s.heading("Price book: the unit price of each priced thing",
              "Bill: the effective (or list/contracted) unit price the company paid, from the cost "
              "store. Assumption: stated in the model, because the bill has no such price or no "
              "store was given. Change a yellow price and the costs follow.")
    s.put_row(4, 1, ("Price", "Looked up", "Region", "Pricing", "Unit", "Unit price", "Source", "Note"),
              f.HEADER_LEFT)
    for i, (name, p) in enumerate(result.prices.items()):
        r = 5 + i
        s.put_row(r, 1, (name, p.key, p.region or "", p.pricing or "", p.unit or ""))
        s.put(r, 6, p.unit_price, PRICE_IN)
        s.put(r, 7, p.source, f.LABEL if p.is_assumption else f.NOTE)
        s.put(r, 8, p.note, f.NOTE)
        at[("price", name)] = f"{quote_sheet(PRICES)}!$F${r}"
    r = 5 + len(result.prices) + 2
    if book:
        s.section(r, f"The bill's price book ({len(book)} prices, values from the store)", PriceBookRow.HEADER)
        for i, row in enumerate(book):
            s.put_row(r + 2 + i, 1, row.values())
    for column, width in ((1, 20), (2, 30), (3, 14), (4, 12), (5, 14), (6, 14), (7, 12), (8, 60)):
        s.width(column, width)
    return s.build()


# ---- Drivers ----------------------------------------------------------------------------------


def _month_heads(s: SheetDraft, result: DesignResult, first_col: int, with_zero: bool = False) -> None:
    n = result.model.months
    for k in range(0 if with_zero else 1, n + 1):
        c = first_col + k - (0 if with_zero else 1)
        s.put(MONTH_ROW, c, k, f.KEY)
        s.put(DATE_ROW, c, result.dates[k], f.HEADER.but(number_format=f.DATE))


def _drivers(result: DesignResult, checks, at):
    model = result.model
    s = _Sheet(DRIVERS, checks)
    s.heading("Drivers: growth by month",
              "value(m) = value(m−1) × (1 + monthly growth) × (1 + event step); index = value ÷ month 1. "
              "Event steps are inputs (0.25 for a +25% step).")
    s.put(MONTH_ROW, 1, "month", f.KEY)
    _month_heads(s, result, FIRST_MONTH)
    last = FIRST_MONTH + model.months - 1
    r = DATE_ROW
    for d in model.drivers:
        start, growth = at[("driver", d.name)]
        events = {e.month: e.change for e in d.events}
        values = result.drivers[d.name]
        ev, val, idx = r + 1, r + 2, r + 3
        s.put_row(ev, 1, (d.name, "event step"))
        s.put_row(val, 1, (d.name, "value"))
        s.put_row(idx, 1, (d.name, "index"))
        for k in range(1, model.months + 1):
            c = FIRST_MONTH + k - 1
            s.put(ev, c, events.get(k, Decimal(0)) if k > 1 else None, PERCENT if k > 1 else f.NOTE)
            if k == 1:
                s.formula(val, c, f"={start}", values[0], QUANTITY)
            else:
                s.formula(val, c, f"={ref(val, c - 1)}*(1+{growth})*(1+{ref(ev, c)})", values[k - 1], QUANTITY)
            s.formula(idx, c, f"={ref(val, c)}/${ref(val, FIRST_MONTH)[0]}${val}", values[k - 1] / values[0],
                      Style(number_format="0.0000"))
        at[("index", d.name)] = idx
        r = idx + 1
    s.widths(16, 12)
    for c in range(FIRST_MONTH, last + 1):
        s.width(c, 11)
    s.freeze = f"{ref(DATE_ROW + 1, FIRST_MONTH)}"
    return s.build()


# ---- Costs ------------------------------------------------------------------------------------


def _expr(q: Quantity) -> str:
    text = ""
    for i, (op, v) in enumerate(q.terms):
        word = v if isinstance(v, str) else f"{v:f}"
        text += (op if i else "") + word
    return f"({text})"


def _costs(result: DesignResult, checks, at):
    model = result.model
    s = _Sheet(COSTS, checks)
    s.heading("Costs: quantity × unit price, by month",
              "quantity = the product of the component's fields (Assumptions names) × the driver index, in "
              "months from..until; cost = quantity × unit price (Price book) × commitment factor "
              "(1 − coverage × discount).")
    s.put(MONTH_ROW, 1, "month", f.KEY)
    s.put_row(DATE_ROW, 1, ("Component", "Line", "Kind", "From", "Until", "Unit price", "Commitment"),
              f.HEADER_LEFT)
    _month_heads(s, result, FIRST_MONTH)
    n = model.months
    r = DATE_ROW + 1
    for alt_def, alt in zip(model.alternatives, result.alternatives):
        s.put(r, 1, alt.name, f.LABEL)
        block_first = r + 1
        option = model.commitment(alt_def.commitment)
        for line in alt.lines:
            c = line.component
            q, cost = r + 1, r + 2
            s.put_row(q, 1, (c.name, "quantity", c.kind))
            s.put(q, 4, c.first, f.INPUT)
            s.put(q, 5, c.last, f.INPUT)
            s.put_row(cost, 1, (c.name, "cost", line.price.unit or ""))
            s.formula(cost, 6, f"={at[('price', c.price)]}", line.price.unit_price, Style(number_format="0.000000"))
            if line.commitment_factor != 1:
                cov, disc = at[("commitment", option.name)]
                s.formula(cost, 7, f"=1-{cov}*{disc}", line.commitment_factor, Style(number_format="0.0000"))
            else:
                s.put(cost, 7, 1, Style(number_format="0.0000"))
            fields = dict(c.fields)
            extra = "".join(f"*{_expr(fields[m])}" for m in MULTIPLIERS if m in fields)
            per = f"/{_expr(fields['per'])}" if "per" in fields else ""
            for k in range(1, n + 1):
                col = FIRST_MONTH + k - 1
                month = f"{ref(MONTH_ROW, col)[:-1]}${MONTH_ROW}"
                active = f"($D{q}<={month})*($E{q}>={month})"
                index = "" if c.scales_with is None else \
                    f"*{quote_sheet(DRIVERS)}!{ref(at[('index', c.scales_with)], col)}"
                if c.kind == "kubernetes":
                    body = (f"ROUNDUP({_expr(fields['vcpu'])}{index}/({_expr(fields['node_vcpu'])}*"
                            f"{_expr(fields['bin_packing'])}),0)*{_expr(fields['hours'])}")
                else:
                    own = [name for name, _ in c.fields if name not in (*MULTIPLIERS, "per")]
                    body = "*".join(_expr(fields[name]) for name in own) + index
                s.formula(q, col, f"={body}{extra}{per}*{active}", line.quantities[k - 1], QUANTITY)
                s.formula(cost, col, f"={ref(q, col)}*$F${cost}*$G${cost}", line.costs[k - 1])
            r = cost
        total = r + 1
        at[("total", alt.name)] = total
        s.put_row(total, 1, (f"Total {alt.name}", "total"), f.MONTH_TOTAL)
        for k in range(1, n + 1):
            col = FIRST_MONTH + k - 1
            letter = ref(1, col)[:-1]
            s.formula(total, col, f'=SUMIF($B${block_first}:$B${total - 1},"cost",{letter}{block_first}:'
                                  f'{letter}{total - 1})', alt.monthly[k - 1], f.MONEY_TOTAL)
        r = total + 2
    for column, width in ((1, 26), (2, 9), (3, 13), (4, 6), (5, 6), (6, 11), (7, 11)):
        s.width(column, width)
    for c in range(FIRST_MONTH, FIRST_MONTH + n):
        s.width(c, 12)
    s.freeze = ref(DATE_ROW + 1, FIRST_MONTH)
    return s.build()


# ---- Cash flows -------------------------------------------------------------------------------

CASH_FIRST = 3  # C: period 0


def _cash_flows(result: DesignResult, checks, at):
    model = result.model
    s = _Sheet(CASH, checks)
    s.heading("Cash flows: each alternative's cost and its flows against the baseline",
              f"Period 0 is the start day (migration); month k is dated at its end (EDATE). Flow = "
              f"{model.baseline} cost − alternative cost (savings positive). Break-even: the first month "
              "the running sum of flows is not negative.")
    s.put(MONTH_ROW, 1, "period", f.KEY)
    s.put(DATE_ROW, 1, "Date", f.HEADER_LEFT)
    _month_heads(s, result, CASH_FIRST, with_zero=True)
    n = model.months
    names, periods, amounts = at["migration"]
    costs = quote_sheet(COSTS)
    r = DATE_ROW + 1
    total_rows = {}
    for alt in result.alternatives:
        op, mig, tot = r, r + 1, r + 2
        s.put_row(op, 1, (alt.name, "operating"))
        s.put_row(mig, 1, (alt.name, "migration"))
        s.put_row(tot, 1, (alt.name, "cost"), f.MONTH_TOTAL)
        for k in range(0, n + 1):
            col = CASH_FIRST + k
            period = f"{ref(MONTH_ROW, col)[:-1]}${MONTH_ROW}"
            monthly = Decimal(0) if k == 0 else alt.monthly[k - 1]
            if k == 0:
                s.put(op, col, 0, f.MONEY)
            else:
                s.formula(op, col, f"={costs}!{ref(at[('total', alt.name)], FIRST_MONTH + k - 1)}", monthly)
            s.formula(mig, col, f'=SUMIFS({amounts},{names},"{alt.name}",{periods},{period})', alt.migration[k])
            s.formula(tot, col, f"={ref(op, col)}+{ref(mig, col)}", monthly + alt.migration[k], f.MONEY_TOTAL)
        total_rows[alt.name] = tot
        r = tot + 2
    base = total_rows[model.baseline]
    for alt in result.alternatives:
        if alt.flows is None:
            continue
        fl, cum, flag = r, r + 1, r + 2
        s.put_row(fl, 1, (alt.name, f"flow vs {model.baseline}"), f.LABEL)
        s.put_row(cum, 1, (alt.name, "running sum"))
        s.put_row(flag, 1, (alt.name, "broken even"))
        running = Decimal(0)
        for k in range(0, n + 1):
            col = CASH_FIRST + k
            running += alt.flows[k]
            s.formula(fl, col, f"={ref(base, col)}-{ref(total_rows[alt.name], col)}", alt.flows[k])
            s.formula(cum, col, f"={ref(fl, col)}" if k == 0 else f"={ref(cum, col - 1)}+{ref(fl, col)}", running)
            s.formula(flag, col, f"=IF(AND({ref(MONTH_ROW, col)}>=1,{ref(cum, col)}>=0),1,0)",
                      1 if k >= 1 and running >= 0 else 0, f.KEY)
        last = ref(1, CASH_FIRST + n)[:-1]
        first = ref(1, CASH_FIRST)[:-1]
        at[("flows", alt.name)] = (f"{quote_sheet(CASH)}!${first}${fl}:${last}${fl}",
                                   f"{quote_sheet(CASH)}!${first}${DATE_ROW}:${last}${DATE_ROW}",
                                   f"{quote_sheet(CASH)}!${first}${flag}:${last}${flag}",
                                   f"{quote_sheet(CASH)}!${first}${MONTH_ROW}:${last}${MONTH_ROW}")
        r = flag + 2
    s.widths(16, 16)
    for c in range(CASH_FIRST, CASH_FIRST + n + 1):
        s.width(c, 12)
    s.freeze = ref(DATE_ROW + 1, CASH_FIRST)
    return s.build()


# ---- Summary ----------------------------------------------------------------------------------

_SUMMARY_HEAD = 4


def _summary(result: DesignResult, checks, at):
    model = result.model
    s = _Sheet(SUMMARY, checks)
    s.heading(f"Design review: {model.name}",
              f"{model.months} months from {model.start:%Y-%m}, baseline {model.baseline}, "
              f"{model.currency}. NPV: XNPV at DiscountRate of the flows on Cash flows (savings "
              "positive); every cost is quantity × price on Costs. Change Assumptions or the Price book "
              "and this page follows.")
    s.put_row(_SUMMARY_HEAD, 1, ("Alternative", "Operating", "Migration", "Total",
                                 f"NPV vs {model.baseline}", "Break-even month"), f.HEADER)
    cash = quote_sheet(CASH)
    n = model.months
    first, last = ref(1, CASH_FIRST)[:-1], ref(1, CASH_FIRST + n)[:-1]
    total_row = {}
    for i, alt in enumerate(result.alternatives):
        r = _SUMMARY_HEAD + 1 + i
        s.put(r, 1, alt.name, f.LABEL)
        # rows of the Cash flows sheet: operating, migration, cost per alternative (3 rows + 1 gap)
        op = DATE_ROW + 1 + 4 * i
        s.formula(r, 2, f"=SUM({cash}!{first}{op}:{last}{op})", sum(alt.monthly, Decimal(0)))
        s.formula(r, 3, f"=SUM({cash}!{first}{op + 1}:{last}{op + 1})", sum(alt.migration, Decimal(0)))
        s.formula(r, 4, f"=B{r}+C{r}", alt.total, f.MONEY_TOTAL)
        total_row[alt.name] = op + 2
        if alt.flows is None:
            s.put(r, 5, "baseline", f.NOTE)
            continue
        flows, dates, flags, periods = at[("flows", alt.name)]
        s.formula(r, 5, f"=XNPV(DiscountRate,{flows},{dates})", alt.npv, f.MONEY_TOTAL)
        s.formula(r, 6, f'=IFERROR(INDEX({periods},MATCH(1,{flags},0)),"never")',
                  "never" if alt.breakeven_month is None else alt.breakeven_month, Style(align="right"))
    head = _SUMMARY_HEAD + len(result.alternatives) + 3
    s.put(head - 1, 1, "Monthly cost by alternative (operating + migration)", f.LABEL)
    s.put(head, 1, "Month", f.HEADER_LEFT)
    for j, alt in enumerate(result.alternatives):
        s.put(head, 2 + j, alt.name, f.HEADER)
    for k in range(1, n + 1):
        r = head + k
        s.put(r, 1, result.dates[k], f.MONTH_CELL)
        for j, alt in enumerate(result.alternatives):
            col = ref(1, CASH_FIRST + k)[:-1]
            s.formula(r, 2 + j, f"={cash}!{col}{total_row[alt.name]}", alt.monthly[k - 1] + alt.migration[k])
    end_col = ref(1, 1 + len(result.alternatives))[:-1]
    s.chart(Chart(name="MonthlyCost", kind="line", title="Monthly cost by alternative",
                  data_ref=f"B{head}:{end_col}{head + n}", categories_ref=f"A{head + 1}:A{head + n}",
                  anchor=f"H{_SUMMARY_HEAD}", y_number_format="#,##0", width_cm=20, height_cm=9))
    for column, width in ((1, 24), (2, 15), (3, 14), (4, 15), (5, 18), (6, 16)):
        s.width(column, width)
    return s.build()


# ---- Sensitivity ------------------------------------------------------------------------------


def _sensitivity(bars: tuple[TornadoBar, ...], currency: str):
    s = start_sheet(SENSITIVITY, "Sensitivity: the NPV with one assumption moved at a time (tornado)",
                    "Values computed by finops-xl when the workbook was built (finops_xl.design.evaluate."
                    f"tornado), widest swing first, in {currency}.")
    s.put_row(4, 1, ("Alternative", "Assumption", "Base", "Low", "High", "NPV at low", "NPV at high",
                     "Swing"), f.HEADER_LEFT)
    for i, b in enumerate(bars):
        r = 5 + i
        s.put_row(r, 1, (b.alternative, b.parameter))
        s.put_row(r, 3, (b.base_value, b.low_value, b.high_value), QUANTITY)
        s.put_row(r, 6, (b.npv_low, b.npv_high, b.swing), f.MONEY)
    if bars:
        first_alt = bars[0].alternative
        top = [i for i, b in enumerate(bars) if b.alternative == first_alt][:10]
        last = 5 + top[-1]
        s.chart(Chart(name="Tornado", kind="bar", title=f"NPV of {first_alt}: low and high value of each assumption",
                      data_ref=f"F4:G{last}", categories_ref=f"B5:B{last}", anchor="J4",
                      y_number_format="#,##0", width_cm=20, height_cm=10))
    for column, width in ((1, 14), (2, 32), (3, 12), (4, 12), (5, 12), (6, 15), (7, 15), (8, 15)):
        s.width(column, width)
    return s.build()
