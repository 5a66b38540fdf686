"""The ``FINOPS.*`` worksheet functions: convert Excel values, ask ``finops_xl``, convert back.

No finance logic lives here. Names, argument help and descriptions come from ``registry``.
The store is imported only by the functions that read it, so that the pure ones (FINOPS.ALLOCATE)
also run where DuckDB cannot be installed (xlwings Lite in the browser).
"""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_EVEN, Decimal

import xlwings as xw

from finops_udfs import convert
from finops_udfs.convert import ArgumentError
from finops_udfs.errors import excel_errors
from finops_udfs.registry import NAMESPACE, Function, function
from finops_xl.allocation.split import largest_remainder

_IN_BROWSER = sys.platform == "emscripten"  # xlwings Lite (Pyodide)


def excel_function(spec: Function):
    """Decorator: register a Python function for every xlwings runtime from its registry entry."""

    def deco(f):
        f = excel_errors(spec.officejs_name)(f)
        f.__doc__ = spec.summary
        for a in reversed(spec.args):
            f = xw.arg(a.name, doc=a.doc, **({"ndim": a.ndim} if a.ndim else {}))(f)
        return xw.func(name=spec.name, namespace=NAMESPACE)(f)

    return deco


def _queries(store):
    if _IN_BROWSER:
        raise ArgumentError("the cost store is on your computer, which xlwings Lite (in the "
                            "browser) cannot open: use the classic add-in or xlwings Server")
    from finops_xl.query.costs import queries_for

    path = convert.to_text(store, "store", optional=True)
    return queries_for(path)


def _split_filters(args) -> tuple[dict[str, list[str]], object, object]:
    """Filters, the store and the metric from repeating dimension/value arguments."""
    found, leftover = convert.pairs(args)
    filters: dict[str, list[str]] = {}
    store = metric = None
    for dim, value in found:
        key = convert.to_text(dim, "a filter dimension", optional=True)
        if key is None:
            continue
        if key.lower() == "store":
            store = value
        elif key.lower() == "metric":
            metric = value
        else:
            values = convert.to_values(value)
            if not values:
                raise ArgumentError(f"the filter {key!r} has no value")
            filters.setdefault(key, []).extend(values)
    if leftover is not None:
        from finops_xl.query.dimensions import METRICS, is_metric

        text = convert.to_text(leftover, "metric")
        if metric is not None or not is_metric(text):
            raise ArgumentError(
                f"the filter {text!r} has no value (filters come as dimension, value pairs; "
                f"a single last value is read as the metric: {', '.join(METRICS)})")
        metric = text
    return filters, store, metric


@excel_function(function("COST"))
def FINOPS_COST(start, end, *filters):
    filters_, store, metric = _split_filters(filters)
    amount = _queries(store).cost(
        convert.to_date(start, "start"), convert.to_date(end, "end"), filters_,
        convert.to_text(metric, "metric", optional=True),
    )
    return convert.number(amount)


@excel_function(function("COSTTABLE"))
def FINOPS_COSTTABLE(start, end, rows, *options):
    options = list(options)
    columns = convert.to_text(options[0], "columns", optional=True) if options else None
    metric = convert.to_text(options[1], "metric", optional=True) if len(options) > 1 else None
    filters_, store, metric_pair = _split_filters(options[2:])
    result = _queries(store).cost_table(
        convert.to_date(start, "start"), convert.to_date(end, "end"),
        convert.to_text(rows, "rows"), columns,
        metric or convert.to_text(metric_pair, "metric", optional=True), filters_,
    )
    return convert.table(result.header, result.rows)


@excel_function(function("DIMENSIONS"))
def FINOPS_DIMENSIONS(store=None):
    return convert.table(("dimension", "description"), _queries(store).dimensions())


@excel_function(function("VALUES"))
def FINOPS_VALUES(dimension, store=None):
    values = _queries(store).values(convert.to_text(dimension, "dimension"))
    if not values:
        raise ArgumentError(f"the store has no values of {dimension!r}")
    return [[v] for v in values]


@excel_function(function("ALLOCATE"))
def FINOPS_ALLOCATE(amount, weights, decimals=None):
    places = 2 if convert.is_empty(decimals) and decimals != 0 else convert.to_integer(decimals, "decimals")
    if not 0 <= places <= 12:
        raise ArgumentError("decimals must be between 0 and 12")
    quantum = Decimal(1).scaleb(-places)
    total = convert.to_decimal(amount, "amount").quantize(quantum, rounding=ROUND_HALF_EVEN)
    values = convert.to_decimals(weights, "weights")
    if any(w < 0 for w in values):
        raise ArgumentError("weights cannot be negative")
    if sum(values, Decimal(0)) == 0:
        raise ArgumentError("the weights add up to 0: give at least one positive weight")
    parts = [convert.number(p) for p in largest_remainder(total, values, quantum)]
    return convert.like(weights, parts)


@excel_function(function("ALLOCATION_COVERAGE"))
def FINOPS_ALLOCATION_COVERAGE(month, store=None):
    from finops_xl.allocation.showback import monthly_coverage

    day = convert.to_date(month, "month")
    cov = monthly_coverage(_queries(store).store, day)
    return [["measure", "value"], ["direct", float(cov.direct)], ["shared", float(cov.shared)],
            ["unallocated", float(cov.unallocated)], ["allocated", float(cov.allocated)],
            ["maturity", cov.maturity]]


def _ledger_reader(store):
    queries = _queries(store)
    if not queries.store.has_table("opportunities"):
        raise ArgumentError("the savings ledger is empty: run `finops-xl opportunities` on this store first")
    return queries.store.reader()


@excel_function(function("OPPORTUNITIES"))
def FINOPS_OPPORTUNITIES(owner=None, min_savings=None, store=None):
    from finops_xl.optimization.ledger import opportunities

    who = convert.to_text(owner, "owner", optional=True)
    floor = None if convert.is_empty(min_savings) else convert.to_decimal(min_savings, "min_savings")
    with _ledger_reader(store) as con:
        found = opportunities(con, owner=who, min_savings=floor)
    if not found:
        raise ArgumentError("no opportunities" + (f" of {who!r}" if who else "")
                            + (f" saving at least {floor} a month" if floor is not None else ""))
    header = ("id", "rule", "resource", "owner", "status", "confidence", "monthly_cost",
              "estimated_savings", "action")
    return convert.table(header, [(o.opportunity_id, o.rule, o.resource_name or o.resource_id, o.owner or "",
                                   o.status, o.confidence, o.monthly_cost, o.estimated_savings, o.action or "")
                                  for o in found])


@excel_function(function("SAVINGS_REALIZED"))
def FINOPS_SAVINGS_REALIZED(month, owner=None, store=None):
    from finops_xl.optimization.ledger import realized_total

    day = convert.to_date(month, "month")
    who = convert.to_text(owner, "owner", optional=True)
    with _ledger_reader(store) as con:
        return convert.number(realized_total(con, day, owner=who))


def _commitment(start, term_months, upfront, recurring=None):
    from finops_xl.close.amortization import Commitment

    term = convert.to_integer(term_months, "term_months")
    if not 1 <= term <= 600:
        raise ArgumentError("term_months must be between 1 and 600")
    amount = convert.to_decimal(upfront, "upfront")
    if amount < 0:
        raise ArgumentError("upfront cannot be negative")
    fee = Decimal(0) if convert.is_empty(recurring) else convert.to_decimal(recurring, "recurring")
    return Commitment("FINOPS", "", "", convert.to_date(start, "start"), term, amount, fee)


def _method(method) -> str:
    text = (convert.to_text(method, "method", optional=True) or "daily").lower()
    if text not in ("daily", "monthly"):
        raise ArgumentError(f"method must be \"daily\" or \"monthly\", not {text!r}")
    return text


@excel_function(function("AMORT_SCHEDULE"))
def FINOPS_AMORT_SCHEDULE(start, term_months, upfront, recurring=None, method=None):
    from finops_xl.close.amortization import schedule

    s = schedule(_commitment(start, term_months, upfront, recurring), _method(method))
    rows = [(p.month, p.days, p.opening, p.purchases, p.amortization, p.closing, p.current,
             p.noncurrent, p.recurring) for p in s.periods]
    return convert.table(("month", "days", "opening", "purchases", "amortization", "closing",
                          "current", "noncurrent", "recurring"), rows)


@excel_function(function("AMORT"))
def FINOPS_AMORT(start, term_months, upfront, month, method=None):
    from finops_xl.close.amortization import amortization

    return convert.number(amortization(_commitment(start, term_months, upfront),
                                       convert.to_date(month, "month"), _method(method)))


@excel_function(function("PREPAID_BALANCE"))
def FINOPS_PREPAID_BALANCE(start, term_months, upfront, month, method=None):
    from finops_xl.close.amortization import balance

    return convert.number(balance(_commitment(start, term_months, upfront),
                                  convert.to_date(month, "month"), _method(method)))


@excel_function(function("ACCRUAL"))
def FINOPS_ACCRUAL(month, owner=None, cutoff=None, store=None):
    from finops_xl.close.accruals import accrue

    who = convert.to_text(owner, "owner", optional=True)
    day = None if convert.is_empty(cutoff) else convert.to_date(cutoff, "cutoff")
    with _queries(store).store.reader() as con:
        result = accrue(con, convert.to_date(month, "month"), cutoff=day)
    lines = [line for line in result.lines if who is None or line.owner == who]
    if who is not None and not lines:
        owners = sorted({line.owner for line in result.lines})
        raise ArgumentError(f"no accrual for owner {who!r}; owners: {', '.join(owners)}")
    currencies = {line.currency for line in lines}
    if len(currencies) > 1:
        raise ArgumentError(f"the accrual is in several currencies ({', '.join(sorted(currencies))})")
    return convert.number(sum((line.accrual for line in lines), Decimal(0)))


@excel_function(function("JOURNAL"))
def FINOPS_JOURNAL(month, type=None, store=None):  # noqa: A002 - the Excel argument's name
    kind = (convert.to_text(type, "type", optional=True) or "accrual").lower()
    day = convert.to_date(month, "month")
    queries = _queries(store)
    with queries.store.reader() as con:
        if kind == "accrual":
            from finops_xl.close.accruals import accrual_entries, accrue

            entries = accrual_entries(accrue(con, day))
            entries = entries + tuple(e.reversal() for e in entries if e.reverses_on)
        elif kind == "amortization":
            from finops_xl.close.amortization import amortization_entry, commitments_from_store, schedule

            entries = tuple(e for c in commitments_from_store(con)
                            if (e := amortization_entry(schedule(c), day, policy_owner="UNALLOCATED")))
        else:
            raise ArgumentError(f"type must be \"accrual\" or \"amortization\", not {kind!r}")
    rows = [(e.id, e.date, e.kind, line.account, line.cost_center, line.debit, line.credit,
             e.currency, line.memo) for e in entries for line in e.lines]
    if not rows:
        why = (" (nothing to accrue: the month's data is complete and invoiced)" if kind == "accrual"
               else " (no prepaid commitment amortizes in that month)")
        raise ArgumentError(f"no {kind} entries for {day:%Y-%m}{why}")
    return convert.table(("entry", "date", "kind", "account", "cost_center", "debit", "credit",
                          "currency", "memo"), rows)


@excel_function(function("VARIANCE"))
def FINOPS_VARIANCE(actual, budget, actual_volume=None, budget_volume=None):
    from finops_xl.close.price_volume import price_volume

    a, b = convert.to_decimal(actual, "actual"), convert.to_decimal(budget, "budget")
    rows = [["measure", "value"], ["variance", convert.number(a - b)],
            ["variance_pct", "" if b == 0 else float((a - b) / b)]]
    if not convert.is_empty(actual_volume) or not convert.is_empty(budget_volume):
        av = convert.to_decimal(actual_volume or 0, "actual_volume")
        bv = convert.to_decimal(budget_volume or 0, "budget_volume")
        effects = price_volume(a, av, b, bv)
        if effects is None:
            raise ArgumentError("budget_volume is 0: there is no budget unit price to compare with")
        rows += [["price_effect", convert.number(effects[0])], ["volume_effect", convert.number(effects[1])]]
    return rows


@excel_function(function("OPTIMAL_COMMITMENT"))
def FINOPS_OPTIMAL_COMMITMENT(hourly_spend, discount):
    from finops_xl.commitments.optimizer import optimal_spend_commitment

    hours = convert.to_decimals(hourly_spend, "hourly_spend")
    if any(h < 0 for h in hours):
        raise ArgumentError("hourly_spend cannot be negative")
    d = convert.to_decimal(discount, "discount")
    if not 0 < d < 1:
        raise ArgumentError("discount must be between 0 and 1 (e.g. 0.3 for 30%)")
    r = optimal_spend_commitment(hours, d)
    rows = [["measure", "value"], ["coverage_level", r.coverage_level], ["hourly_commitment", r.hourly_commitment],
            ["total_cost", r.total_cost], ["on_demand_cost", r.on_demand_cost], ["savings", r.savings],
            ["utilization", r.utilization], ["break_even_utilization", r.break_even_utilization],
            ["hours", r.hours]]
    return [[k, "" if v is None else float(v) if isinstance(v, Decimal) else v] for k, v in rows]


def _kpi(month, by: str, key, store, field: str):
    from finops_xl.commitments.portfolio import monthly_kpis

    day = convert.to_date(month, "month").replace(day=1)
    wanted = convert.to_text(key, by, optional=True)
    with _queries(store).store.reader() as con:
        rows = monthly_kpis(con, day, by=by if wanted else "all")
    if wanted:
        rows = [r for r in rows if r.key == wanted]
        if not rows:
            raise ArgumentError(f"no commitment {'usage' if by == 'provider' else ''} for {by} "
                                f"{wanted!r} in {day:%Y-%m}".replace("  ", " "))
    if not rows:
        raise ArgumentError(f"no commitment-eligible usage in {day:%Y-%m}")
    if len({r.currency for r in rows}) > 1:
        raise ArgumentError("several billing currencies: give a provider scope")
    value = getattr(rows[0], field)
    if value is None:
        raise ArgumentError(f"{field} is undefined for {day:%Y-%m} (nothing to divide by)")
    return float(value)


@excel_function(function("COVERAGE"))
def FINOPS_COVERAGE(month, scope=None, store=None):
    return _kpi(month, "provider", scope, store, "coverage")


@excel_function(function("UTILIZATION"))
def FINOPS_UTILIZATION(month, commitment=None, store=None):
    return _kpi(month, "commitment", commitment, store, "utilization")


@excel_function(function("ESR"))
def FINOPS_ESR(month, scope=None, store=None):
    return _kpi(month, "provider", scope, store, "esr")


@excel_function(function("COMMITMENTS"))
def FINOPS_COMMITMENTS(store=None):
    from finops_xl.commitments.portfolio import inventory

    with _queries(store).store.reader() as con:
        rows = inventory(con)
    if not rows:
        raise ArgumentError("the store holds no commitment purchases")
    return convert.table(
        ("id", "provider", "type", "category", "start", "end", "term_months", "upfront",
         "recurring_monthly", "currency", "status"),
        [(r.id, r.provider, r.type, r.category, r.start, r.end, r.term_months, r.upfront,
          r.recurring_monthly, r.currency, r.status) for r in rows])


@excel_function(function("EXPIRING"))
def FINOPS_EXPIRING(days, store=None):
    from finops_xl.commitments.portfolio import expiry_calendar_from_store

    horizon = convert.to_integer(days, "days")
    if horizon <= 0:
        raise ArgumentError("days must be positive")
    with _queries(store).store.reader() as con:
        rows = [r for r in expiry_calendar_from_store(con) if r.days_left <= horizon]
    header = ("id", "provider", "type", "end", "days_left", "utilization", "suggestion", "resize_to")
    body = [(r.id, r.provider, r.type, r.end, r.days_left,
             None if r.utilization is None else r.utilization, r.suggestion, r.resize_to) for r in rows]
    return convert.table(header, body) if body else [list(header), ["(none)"] + [""] * (len(header) - 1)]


@excel_function(function("COMMIT_RECOMMEND"))
def FINOPS_COMMIT_RECOMMEND(provider=None, lookback=None, store=None):
    from finops_xl.commitments.recommend import recommend

    name = convert.to_text(provider, "provider", optional=True)
    days = 30 if convert.is_empty(lookback) else convert.to_integer(lookback, "lookback")
    if days < 1:
        raise ArgumentError("lookback must be a number of days ≥ 1 (7, 30 or 60)")
    try:
        with _queries(store).store.reader() as con:
            lines = recommend(con, provider=name, lookback_days=days).lines
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    header = ("provider", "scope", "term_years", "payment", "coverage_level", "hourly_commitment", "upfront",
              "annual_savings", "npv", "break_even_months", "p10", "p50", "p90", "start")
    body = [(x.provider, x.scope, x.term_years, x.payment, x.coverage_level, x.hourly_commitment, x.upfront,
             x.annual_savings, x.npv, x.break_even_months, x.p10, x.p50, x.p90, x.start) for x in lines]
    return convert.table(header, body) if body else [list(header), ["(none)"] + [""] * (len(header) - 1)]


@excel_function(function("COMMIT_ACTIONS"))
def FINOPS_COMMIT_ACTIONS(store=None):
    from finops_xl.commitments.actions import actions_from_store

    with _queries(store).store.reader() as con:
        _, rows = actions_from_store(con)
    header = ("action", "commitment_id", "provider", "end", "days_left", "utilization", "monthly_savings",
              "waste_avoided", "reason")
    body = [(a.action, a.commitment_id, a.provider, a.end, a.days_left, a.utilization, a.monthly_savings,
             a.waste_avoided, a.reason) for a in rows]
    return convert.table(header, body) if body else [list(header), ["(none)"] + [""] * (len(header) - 1)]


def _purchase(on_demand_hourly, upfront, recurring_hourly, term_years, start, utilization):
    """(option, on-demand rate, start, utilization) from Excel arguments."""
    import datetime as dt

    from finops_xl.commitments.valuation import PurchaseOption

    years = convert.to_integer(term_years, "term_years")
    if years not in (1, 3):
        raise ArgumentError("term_years must be 1 or 3")
    up = convert.to_decimal(upfront, "upfront")
    fee = convert.to_decimal(recurring_hourly, "recurring_hourly")
    if up < 0 or fee < 0:
        raise ArgumentError("upfront and recurring_hourly cannot be negative")
    if up == 0 and fee == 0:
        raise ArgumentError("a commitment needs an upfront payment, a recurring fee, or both")
    payment = "no_upfront" if up == 0 else "all_upfront" if fee == 0 else "partial_upfront"
    option = PurchaseOption("commitment", years, payment, up, fee)
    rate = convert.to_decimal(on_demand_hourly, "on_demand_hourly")
    if rate <= 0:
        raise ArgumentError("on_demand_hourly must be positive")
    day = dt.date.today() if convert.is_empty(start) else convert.to_date(start, "start")
    use = Decimal(1) if convert.is_empty(utilization) else convert.to_decimal(utilization, "utilization")
    if not 0 <= use <= 1:
        raise ArgumentError("utilization must be between 0 and 1")
    return option, rate, day, use


@excel_function(function("COMMIT_NPV"))
def FINOPS_COMMIT_NPV(on_demand_hourly, upfront, recurring_hourly, term_years, rate, start=None,
                      utilization=None):
    from finops_xl.commitments.valuation import value

    option, od, day, use = _purchase(on_demand_hourly, upfront, recurring_hourly, term_years, start,
                                     utilization)
    return convert.number(value(option, od, day, convert.to_decimal(rate, "rate"), use).npv)


@excel_function(function("COMMIT_IRR"))
def FINOPS_COMMIT_IRR(on_demand_hourly, upfront, recurring_hourly, term_years, start=None,
                      utilization=None):
    from finops_xl.commitments.valuation import value

    option, od, day, use = _purchase(on_demand_hourly, upfront, recurring_hourly, term_years, start,
                                     utilization)
    irr = value(option, od, day, Decimal(0), use).irr
    if irr is None:
        raise ArgumentError("no IRR: the cash flows never change sign (e.g. no upfront payment); "
                            "compare options by COMMIT_NPV")
    return irr


@excel_function(function("BREAKEVEN_MONTHS"))
def FINOPS_BREAKEVEN_MONTHS(on_demand_hourly, upfront, recurring_hourly, term_years, start=None,
                            utilization=None):
    from finops_xl.commitments.valuation import breakeven_months

    option, od, day, use = _purchase(on_demand_hourly, upfront, recurring_hourly, term_years, start,
                                     utilization)
    months = breakeven_months(option, od, day, use)
    if months is None:
        raise ArgumentError("the commitment never breaks even within its term at this utilization")
    return months


@excel_function(function("TOKEN_COST"))
def FINOPS_TOKEN_COST(gpu_hourly, tokens_per_second, utilization=None):
    from finops_xl.planning.gpu import token_cost_per_million

    use = Decimal(1) if convert.is_empty(utilization) else convert.to_decimal(utilization, "utilization")
    try:
        cost = token_cost_per_million(convert.to_decimal(gpu_hourly, "gpu_hourly"),
                                      convert.to_decimal(tokens_per_second, "tokens_per_second"), use)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    return convert.number(cost)


def _history(values, dates) -> list:
    amounts = convert.to_decimals(values, "history_values")
    months = [convert.to_date(d, f"history_dates cell {i + 1}").replace(day=1)
              for i, d in enumerate(convert.flatten(dates))]
    if len(months) != len(amounts):
        raise ArgumentError(f"history_values has {len(amounts)} cells but history_dates has {len(months)}")
    return list(zip(months, amounts))


@excel_function(function("FORECAST"))
def FINOPS_FORECAST(history_values, history_dates, horizon, method=None, seasonality=None):
    from finops_xl.planning.forecast import forecast

    how = (convert.to_text(method, "method", optional=True) or "ets").lower()
    if seasonality is None:  # left out
        season = 12
    elif convert.is_empty(seasonality):  # 0 (or an empty cell): no seasonality
        season = None
    else:
        season = convert.to_integer(seasonality, "seasonality")
    try:
        f = forecast(_history(history_values, history_dates), convert.to_integer(horizon, "horizon"),
                     how, season)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    return convert.table(("month", "forecast", "low", "high"),
                         [(r.month, r.forecast, r.low, r.high) for r in f.rows])


@excel_function(function("BACKTEST"))
def FINOPS_BACKTEST(history_values, history_dates, horizon=None, min_train=None):
    from finops_xl.planning.backtest import backtest

    h = 1 if convert.is_empty(horizon) else convert.to_integer(horizon, "horizon")
    train = 12 if convert.is_empty(min_train) else convert.to_integer(min_train, "min_train")
    try:
        result = backtest(_history(history_values, history_dates), horizon=h, min_train=train)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    return convert.table(("method", "mape", "bias", "band", "scored"),
                         [(m.method, m.mape, m.bias, m.band, m.scored) for m in result.scores])


@excel_function(function("UNIT_COST"))
def FINOPS_UNIT_COST(costs, volumes):
    c, v = convert.to_decimals(costs, "costs"), convert.to_decimals(volumes, "volumes")
    if len(c) != len(v):
        raise ArgumentError(f"costs has {len(c)} cells but volumes has {len(v)}")
    total = sum(v, Decimal(0))
    if total <= 0:
        raise ArgumentError("the volumes add up to 0: there is no unit to divide by")
    return float(sum(c, Decimal(0)) / total)


@excel_function(function("DRIVER_FORECAST"))
def FINOPS_DRIVER_FORECAST(volumes, unit_cost, coverage=None, discount=None):
    import datetime as dt

    from finops_xl.planning.drivers import CommitmentStrategy, Driver, UnitCost, driver_forecast
    from finops_xl.planning.fiscal import add_months

    amounts = convert.to_decimals(volumes, "volumes")
    months = [add_months(dt.date(2000, 1, 1), i) for i in range(len(amounts))]  # positions only
    c = Decimal(0) if convert.is_empty(coverage) else convert.to_decimal(coverage, "coverage")
    d = Decimal(0) if convert.is_empty(discount) else convert.to_decimal(discount, "discount")
    if not (0 <= c <= 1 and 0 <= d <= 1):
        raise ArgumentError("coverage and discount must be between 0 and 1")
    try:
        rows = driver_forecast([Driver("volume", "unit", dict(zip(months, amounts)), owner="owner")],
                               [UnitCost("owner", "volume", convert.to_decimal(unit_cost, "unit_cost"))],
                               months, commitment=CommitmentStrategy.flat(c, d))
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    by_month = {r.month: r.net for r in rows}
    return convert.like(volumes, [convert.number(by_month[m]) for m in months])


@excel_function(function("PRICE"))
def FINOPS_PRICE(sku_or_service, region=None, pricing=None, kind=None, store=None):
    from finops_xl.design.prices import find, price_book

    key = convert.to_text(sku_or_service, "sku_or_service")
    where = convert.to_text(region, "region", optional=True)
    category = convert.to_text(pricing, "pricing", optional=True)
    which = (convert.to_text(kind, "kind", optional=True) or "effective").lower()
    with _queries(store).store.reader() as con:
        book = price_book(con)
    try:
        price = find(book, key, where, category, which)
    except ValueError as exc:
        raise ArgumentError(str(exc)) from None
    return convert.number(price.unit_price)
