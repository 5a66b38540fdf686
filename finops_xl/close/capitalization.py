"""Capitalization vs expense of cloud cost spent building internal-use software.

Rules (``load_projects``: a CSV with ``project, match, development_start, in_service,
useful_life_months``) name the cost of each project and its stage dates:

- ``match``: which charges are the project's — ``tag:<key>=<value>`` (a resource tag),
  ``sub_account=<id>``, ``service=<ServiceName>`` or ``service_category=<ServiceCategory>``.
- ``development_start``: the first day of the application development stage (ASC 350-40-25-2 /
  IAS 38.57: technical feasibility, intention and ability to complete, resources available). Cost
  before it — the preliminary project stage (ASC 350-40-25-1) or research phase (IAS 38.54) — is
  expensed as incurred.
- ``in_service``: the day the software is ready for its intended use / available for use (ASC
  350-40-25-6, IAS 38.97). Cost from it on (operation, the post-implementation stage, ASC
  350-40-25-6) is expensed again.
- ``useful_life_months``: the amortization period.

Treatment, per month M (``capitalization_entries``; amounts in the billing currency, EffectiveCost
— the cost the P&L recognizes, commitments amortized):

1. **Capitalization** (kind ``capitalization``, on M's last day): the project's cost charged in M on
   days in [development_start, in_service) moves out of expense — Dr ``asset_under_construction`` /
   Cr the expense account of each service category at the central cloud cost center (where the
   cost was booked before any chargeback).
2. **Placed in service** (kind ``capitalization-transfer``, on the in-service day): everything
   capitalized moves to the software asset — Dr ``capitalized_software`` / Cr
   ``asset_under_construction``.
3. **Amortization** (kind ``software-amortization``, on each month's last day from the in-service
   month): straight-line (ASC 350-40-35-4, IAS 38.97) over ``useful_life_months`` months from the
   in-service day, M = capitalized ÷ life per full month; the in-service month gets M × (days in
   service in it ÷ days of the month); the month the life ends takes the rest, so the months add up
   to the capitalized amount exactly — Dr ``software_amortization`` / Cr
   ``accumulated_amortization``.

Each amount is rounded to the currency's minor unit (half-even). ``project_report`` gives, per
project and month, expensed, capitalized, amortized and the net book value.
"""

from __future__ import annotations

import calendar
import csv
import dataclasses
import datetime as dt
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

from finops_xl.close.journal import Entry, LedgerMap, entry
from finops_xl.money import round_money

ZERO = Decimal(0)
_MATCH = re.compile(r"^(tag):([^=]+)=(.*)$|^(sub_account|service|service_category)=(.+)$")
COLUMNS = ("project", "match", "development_start", "in_service", "useful_life_months")


@dataclasses.dataclass(frozen=True)
class Project:
    """A software project whose development-stage cloud cost is capitalized (module docstring)."""

    project: str
    match: str
    development_start: dt.date
    in_service: dt.date
    useful_life_months: int

    def where(self) -> tuple[str, list]:
        """The SQL condition selecting the project's charges, and its parameters."""
        m = _MATCH.match(self.match)
        if m.group(1):
            return "json_extract_string(Tags, ?) = ?", [f"$.{_json_key(m.group(2))}", m.group(3)]
        column = {"sub_account": "coalesce(SubAccountId, BillingAccountId)", "service": "ServiceName",
                  "service_category": "ServiceCategory"}[m.group(4)]
        return f"{column} = ?", [m.group(5)]

    @property
    def life_end(self) -> dt.date:
        return _add_months(self.in_service, self.useful_life_months)


def _json_key(key: str) -> str:
    return '"' + key.replace('"', '\\"') + '"'


def _add_months(day: dt.date, months: int) -> dt.date:
    y, m = divmod(day.month - 1 + months, 12)
    year, month = day.year + y, m + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def _month_end(m: dt.date) -> dt.date:
    return m.replace(day=calendar.monthrange(m.year, m.month)[1])


def load_projects(path: str | Path) -> tuple[Project, ...]:
    """Projects from a CSV (``COLUMNS``); a bad value is one line naming file, line, column."""
    path = Path(path)
    try:
        fh = path.open(newline="", encoding="utf-8-sig")
    except FileNotFoundError:
        raise FileNotFoundError(f"no capitalization rules at {path}") from None
    out = []
    with fh:
        reader = csv.DictReader(fh)
        missing = [c for c in COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise ValueError(f"{path}: line 1: the header needs {', '.join(COLUMNS)}; {', '.join(missing)} missing")
        for row in reader:
            n = reader.line_num
            get = {c: (row.get(c) or "").strip() for c in COLUMNS}
            if not _MATCH.match(get["match"]):
                raise ValueError(f"{path}: line {n}: column match: {get['match']!r} is not tag:<key>=<value>, "
                                 "sub_account=<id>, service=<name> or service_category=<name>")
            dates = {}
            for c in ("development_start", "in_service"):
                try:
                    dates[c] = dt.date.fromisoformat(get[c])
                except ValueError:
                    raise ValueError(f"{path}: line {n}: column {c}: {get[c]!r} is not a date (YYYY-MM-DD)") from None
            if dates["in_service"] <= dates["development_start"]:
                raise ValueError(f"{path}: line {n}: column in_service: {get['in_service']} must be after "
                                 f"development_start {get['development_start']}")
            if not get["useful_life_months"].isdigit() or int(get["useful_life_months"]) < 1:
                raise ValueError(f"{path}: line {n}: column useful_life_months: {get['useful_life_months']!r} "
                                 "must be a whole number of months ≥ 1")
            out.append(Project(get["project"], get["match"], dates["development_start"], dates["in_service"],
                               int(get["useful_life_months"])))
    return tuple(out)


def capitalized_by_month(con, project: Project) -> dict[tuple[dt.date, str, str | None], Decimal]:
    """(month, currency, service category) → the project's development-stage cost, rounded to the
    currency's minor unit (what the capitalization entries post, so the transfer and the
    amortization rest on the same cents)."""
    where, params = project.where()
    rows = con.execute(f"""
        SELECT date_trunc('month', ChargePeriodStart)::DATE, BillingCurrency, ServiceCategory,
               sum(EffectiveCost)
        FROM charges
        WHERE {where} AND ChargePeriodStart >= ? AND ChargePeriodStart < ?
        GROUP BY ALL ORDER BY ALL""",
        [*params, dt.datetime.combine(project.development_start, dt.time()),
         dt.datetime.combine(project.in_service, dt.time())]).fetchall()
    out = {(m, cur, cat): round_money(Decimal(v), cur) for m, cur, cat, v in rows if v}
    return {k: v for k, v in out.items() if v}


def amortization_schedule(total: Decimal, project: Project, currency: str) -> list[tuple[dt.date, Decimal]]:
    """(month, amount) from the in-service month to the month the life ends (module docstring)."""
    per_month = total / project.useful_life_months
    start, end = project.in_service, project.life_end
    out, done = [], ZERO
    m = start.replace(day=1)
    while m <= end.replace(day=1):
        days = calendar.monthrange(m.year, m.month)[1]
        if m == end.replace(day=1):
            amount = round_money(total, currency) - done  # the rest
        elif m == start.replace(day=1) and start.day > 1:
            amount = round_money(per_month * (days - start.day + 1) / days, currency)
        else:
            amount = round_money(per_month, currency)
        if amount:
            out.append((m, amount))
        done += amount
        m = _add_months(m, 1)
    return out


def capitalization_entries(con, month: dt.date, projects, ledger: LedgerMap = LedgerMap()) -> tuple[Entry, ...]:
    """The month's capitalization, transfer and amortization entries of ``projects``."""
    ms = month.replace(day=1)
    out: list[Entry] = []
    for p in projects:
        by_month = capitalized_by_month(con, p)
        for cur in sorted({k[1] for k in by_month}):
            tag = f"{p.project}" + (f"-{cur}" if len({k[1] for k in by_month}) > 1 else "")
            now = {cat: v for (m, c, cat), v in by_month.items() if m == ms and c == cur}
            if now:
                memo = f"Capitalized development cost of {p.project} {ms:%Y-%m} (ASC 350-40 / IAS 38)"
                debits = [(ledger.asset_under_construction, "", sum(now.values(), ZERO), memo, f"capitalization:{p.project}")]
                credits = [(ledger.account(cat), ledger.central_cost_center, v, memo, f"capitalization:{p.project}")
                           for cat, v in sorted(now.items(), key=lambda kv: kv[0] or "")]
                out.append(_balanced(f"CAP-{ms:%Y-%m}-{tag}", _month_end(ms), cur, "capitalization",
                                     debits, credits, memo))
            total = sum((v for (m, c, _), v in by_month.items() if c == cur), ZERO)
            if not total:
                continue
            if p.in_service.replace(day=1) == ms:
                memo = f"{p.project} placed in service {p.in_service}: asset under construction to software"
                out.append(entry(f"CAPX-{ms:%Y-%m}-{tag}", p.in_service, cur, "capitalization-transfer",
                                 [(ledger.capitalized_software, "", total, memo, f"capitalization:{p.project}")],
                                 [(ledger.asset_under_construction, "", total, memo, f"capitalization:{p.project}")],
                                 memo))
            amount = dict(amortization_schedule(total, p, cur)).get(ms)
            if amount:
                memo = (f"Amortization {ms:%Y-%m} of {p.project} (straight-line, {p.useful_life_months} months "
                        f"from {p.in_service})")
                out.append(entry(f"SWAM-{ms:%Y-%m}-{tag}", _month_end(ms), cur, "software-amortization",
                                 [(ledger.software_amortization, ledger.central_cost_center, amount, memo,
                                   f"capitalization:{p.project}")],
                                 [(ledger.accumulated_amortization, "", amount, memo, f"capitalization:{p.project}")],
                                 memo))
    return tuple(out)


def _balanced(id_, date, cur, kind, debits, credits, memo) -> Entry:
    """An entry whose rounded credits may differ from the rounded debit by a cent: the debit is the
    sum of the rounded credits."""
    credits = [(a, cc, round_money(v, cur), m, s) for a, cc, v, m, s in credits]
    debits = [(debits[0][0], debits[0][1], sum((c[2] for c in credits), ZERO), debits[0][3], debits[0][4])]
    return entry(id_, date, cur, kind, debits, credits, memo)


@dataclasses.dataclass(frozen=True)
class ProjectMonth:
    """One project's month: capitalized, amortized, and the net book value at month end."""

    project: str
    currency: str
    month: dt.date
    stage: str
    capitalized: Decimal
    amortized: Decimal
    net_book_value: Decimal


def project_report(con, projects, through: dt.date) -> tuple[ProjectMonth, ...]:
    """Per project and month, from development start to ``through``: the stage, the capitalized and
    amortized amounts and the net book value."""
    out = []
    for p in projects:
        by_month = capitalized_by_month(con, p)
        for cur in sorted({k[1] for k in by_month}):
            cap = defaultdict(lambda: ZERO)
            for (m, c, _), v in by_month.items():
                if c == cur:
                    cap[m] += v
            total = sum(cap.values(), ZERO)
            amort = dict(amortization_schedule(total, p, cur))
            nbv = ZERO
            m = p.development_start.replace(day=1)
            while m <= through.replace(day=1):
                c = round_money(cap.get(m, ZERO), cur)
                a = amort.get(m, ZERO)
                nbv += c - a
                stage = ("development" if m < p.in_service.replace(day=1) else
                         "placed in service" if m == p.in_service.replace(day=1) else
                         "in service" if m <= p.life_end.replace(day=1) else "fully amortized")
                out.append(ProjectMonth(p.project, cur, m, stage, c, a, nbv))
                m = _add_months(m, 1)
    return tuple(out)
