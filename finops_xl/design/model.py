"""The design model: the current architecture and its alternatives, as priced components (YAML).

A model file (the bundled example is ``finops_xl.data.design_model()``)::

    name: Checkout — monolith to services
    start: 2027-01              # first month modelled (period 0 is its first day)
    months: 36
    discount_rate: 0.08         # the company's annual discount rate (XNPV, as commitments)
    baseline: monolith          # the alternative the others are compared with
    sensitivity: 0.2            # the tornado moves each assumption by ±20%
    assumptions:                # named numbers; a quantity may use them (a * b / 1000)
      services: 6
    drivers:                    # growth: value(m) = value(m-1) × (1 + monthly_growth) × (1 + event)
      users: {start: 200000, monthly_growth: 0.02, events: [{month: 13, change: 0.25}]}
    prices:                     # each price from the bill (sku/service, region, pricing) or stated
      app_server: {sku: m6i.2xlarge, region: us-east-1, pricing: Standard, price: 0.384}
      lb_hour: 0.0225           # a plain number: stated by the user, an assumption
    commitment_options:
      - {name: 1y savings plan, coverage: 0.6, discount: 0.28, applies_to: [compute, kubernetes]}
    alternatives:
      monolith:
        components:
          - {name: app servers, kind: compute, instances: 8, hours: 730, price: app_server,
             scales_with: users}
      services:
        commitment: 1y savings plan
        migration: [{name: build the services, amount: 90000, month: 0}]
        components: [...]

A component's monthly quantity is the product of its kind's fields (:data:`KIND_FIELDS`) ×
``replicas`` × ``zones`` × ``regions`` ÷ ``per``, times the growth index of ``scales_with``
(``driver(m) ÷ driver(1)``), in the months ``from``..``until``; ``kubernetes`` nodes are
``ROUNDUP(vcpu ÷ (node_vcpu × bin_packing))``. Its cost is quantity × price × (1 − coverage ×
discount) when the alternative's commitment applies to its kind. Every mistake is one line:
``FILE: key.path: what is wrong; the fix``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

__all__ = ["KIND_FIELDS", "Alternative", "CommitmentOption", "Component", "DesignModel",
           "DesignModelError", "Driver", "Migration", "PriceSpec", "load_model", "parse_model"]

#: The fields whose product is a kind's monthly quantity (before replicas, zones, regions, per).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "compute": ("instances", "hours"),          # instance hours
    "vcpu_hours": ("vcpus", "hours"),           # compute priced per vCPU-hour (Fargate, Cloud Run)
    "memory_hours": ("gb", "hours"),            # and per GB-hour of memory
    "kubernetes": ("vcpu", "node_vcpu", "bin_packing", "hours"),  # node hours
    "storage": ("gb",),                         # GB-months
    "iops": ("iops",),                          # provisioned IOPS-months
    "requests": ("requests",),
    "data_transfer": ("gb",),                   # GB moved (between services, zones, out)
    "load_balancer": ("count", "hours"),
    "database": ("instances", "hours"),         # managed database instance hours
    "serverless": ("invocations",),             # or GB-seconds, with per
    "gpu": ("gpus", "hours"),
    "tokens": ("tokens",),                      # model tokens (per: 1000 for a per-1K price)
    "usage": ("quantity",),                     # anything else, in its pricing unit
}
MULTIPLIERS = ("replicas", "zones", "regions")
_NAME = re.compile(r"[a-z][a-z0-9_]*")
_TERM = re.compile(r"\s*([*/])?\s*([A-Za-z_][A-Za-z0-9_]*|[0-9][0-9_]*(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)\s*")


class DesignModelError(ValueError):
    """A mistake in a design model file: one line naming the file, the key path and the fix."""


# ---- the model --------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A product of numbers and assumption names: ``terms`` are ``(op, value)`` with op ``*``
    or ``/`` and value a Decimal or an assumption name."""

    terms: tuple[tuple[str, Decimal | str], ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(v for _, v in self.terms if isinstance(v, str))


@dataclasses.dataclass(frozen=True)
class PriceSpec:
    """A named price: looked up in the bill by ``key`` (SkuId, SkuPriceId, instance type or
    service), else ``price`` as stated (an assumption)."""

    name: str
    key: str | None
    region: str | None
    pricing: str | None
    unit: str | None
    kind: str
    price: Decimal | None
    note: str


@dataclasses.dataclass(frozen=True)
class Event:
    month: int
    change: Decimal
    note: str


@dataclasses.dataclass(frozen=True)
class Driver:
    name: str
    start: Decimal
    monthly_growth: Decimal
    events: tuple[Event, ...]


@dataclasses.dataclass(frozen=True)
class CommitmentOption:
    name: str
    coverage: Decimal
    discount: Decimal
    applies_to: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Migration:
    name: str
    amount: Decimal
    month: int


@dataclasses.dataclass(frozen=True)
class Component:
    name: str
    kind: str
    fields: tuple[tuple[str, Quantity], ...]   # the kind's fields, then replicas/zones/regions/per
    price: str
    scales_with: str | None
    first: int
    last: int

    def field(self, name: str) -> Quantity | None:
        return dict(self.fields).get(name)


@dataclasses.dataclass(frozen=True)
class Alternative:
    name: str
    description: str
    components: tuple[Component, ...]
    migration: tuple[Migration, ...]
    commitment: str | None


@dataclasses.dataclass(frozen=True)
class DesignModel:
    name: str
    source: str
    start: dt.date
    months: int
    discount_rate: Decimal
    currency: str
    baseline: str
    sensitivity: Decimal
    assumptions: tuple[tuple[str, Decimal, str], ...]   # name, value, note
    drivers: tuple[Driver, ...]
    prices: tuple[PriceSpec, ...]
    commitments: tuple[CommitmentOption, ...]
    alternatives: tuple[Alternative, ...]

    def alternative(self, name: str) -> Alternative:
        return next(a for a in self.alternatives if a.name == name)

    def commitment(self, name: str | None) -> CommitmentOption | None:
        return next((c for c in self.commitments if c.name == name), None)

    def price(self, name: str) -> PriceSpec:
        return next(p for p in self.prices if p.name == name)

    def replace(self, **changes) -> DesignModel:
        return dataclasses.replace(self, **changes)


# ---- reading ----------------------------------------------------------------------------------


class _Reader:
    def __init__(self, source: str):
        self.source = source

    def fail(self, path: str, problem: str, fix: str):
        raise DesignModelError(f"{self.source}: {path}: {problem}; {fix}")

    def mapping(self, value, path: str, keys: tuple[str, ...], required: tuple[str, ...] = ()) -> dict:
        if not isinstance(value, dict):
            self.fail(path, f"expected a mapping, got {_show(value)}", f"write it as keys: {', '.join(keys)}")
        for k in value:
            if k not in keys:
                self.fail(f"{path}.{k}" if path else str(k), "unknown key",
                          f"use one of {', '.join(keys)}")
        for k in required:
            if value.get(k) is None:
                self.fail(f"{path}.{k}" if path else k, "missing", f"add {k}:")
        return value

    def number(self, value, path: str, *, low=None, high=None, integer=False, fix="") -> Decimal:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, Decimal)):
            self.fail(path, f"expected a number, got {_show(value)}", fix or "write a number")
        try:
            d = Decimal(str(value).replace("_", ""))
        except InvalidOperation:
            self.fail(path, f"expected a number, got {_show(value)}", fix or "write a number")
        if not d.is_finite() or (integer and d != d.to_integral_value()):
            self.fail(path, f"expected a {'whole ' if integer else ''}number, got {_show(value)}",
                      fix or "write a number")
        if (low is not None and d < low) or (high is not None and d > high):
            rng = f"{low if low is not None else '-∞'} to {high if high is not None else '∞'}"
            self.fail(path, f"{d} is out of range", fix or f"give a value from {rng}")
        return d

    def text(self, value, path: str, *, optional=False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool) or str(value).strip() == "":
            self.fail(path, f"expected a text, got {_show(value)}", "write a name")
        return str(value).strip()

    def quantity(self, value, path: str, names: set[str]) -> Quantity:
        if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
            return Quantity((("*", self.number(value, path, low=0)),))
        if not isinstance(value, str):
            self.fail(path, f"expected a number or a product of assumptions, got {_show(value)}",
                      "write e.g. 8, or services * 2")
        text, pos, terms = value.strip(), 0, []
        while pos < len(text):
            m = _TERM.match(text, pos)
            if not m or m.end() == pos or (m.group(1) is None) != (not terms):
                self.fail(path, f"cannot read {value!r}",
                          "write numbers and assumption names joined by * or /, e.g. users * 0.4 / 1000")
            op, word = m.group(1) or "*", m.group(2)
            if word[0].isdigit():
                terms.append((op, self.number(word, path)))
            elif word not in names:
                self.fail(path, f"unknown assumption {word!r}",
                          f"define it under assumptions: (known: {', '.join(sorted(names)) or 'none'})")
            else:
                terms.append((op, word))
            pos = m.end()
        if not terms:
            self.fail(path, "is empty", "write a number")
        return Quantity(tuple(terms))


def _show(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


_TOP = ("name", "start", "months", "discount_rate", "currency", "baseline", "sensitivity",
        "assumptions", "drivers", "prices", "commitment_options", "alternatives")


def load_model(path: str | Path) -> DesignModel:
    """Read and check a design model YAML file; raises :class:`DesignModelError` (one line)."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DesignModelError(f"{path}: cannot read the design model ({exc.strerror}); "
                               "give the path of a YAML file") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "the YAML"
        raise DesignModelError(f"{path}: {where}: not valid YAML ({getattr(exc, 'problem', exc)}); "
                               "fix the indentation or quoting there") from None
    return parse_model(data, str(path))


def parse_model(data, source: str = "<model>") -> DesignModel:
    """Check a design model already read from YAML (a dict); ``source`` names it in errors."""
    r = _Reader(source)
    top = r.mapping(data, "", _TOP, ("start", "alternatives", "baseline"))
    start = _month(r, top["start"])
    months = int(r.number(top.get("months", 36), "months", low=1, high=120, integer=True))
    rate = r.number(top.get("discount_rate", "0.08"), "discount_rate", low=Decimal("-0.99"), high=1,
                    fix="give the annual rate as a fraction, e.g. 0.08 for 8%")
    sensitivity = r.number(top.get("sensitivity", "0.2"), "sensitivity", low=0, high=Decimal("0.9"),
                           fix="give the tornado's swing as a fraction, e.g. 0.2 for ±20%")
    assumptions = []
    raw = top.get("assumptions") or {}
    if not isinstance(raw, dict):
        r.fail("assumptions", f"expected a mapping of name: number, got {_show(raw)}", "write services: 6")
    for k, v in raw.items():
        _check_name(r, f"assumptions.{k}", k)
        note = ""
        if isinstance(v, dict):
            r.mapping(v, f"assumptions.{k}", ("value", "note"), ("value",))
            note, v = str(v.get("note") or ""), v["value"]
        assumptions.append((str(k), r.number(v, f"assumptions.{k}"), note))
    names = {a[0] for a in assumptions}
    drivers = tuple(_driver(r, k, v, months) for k, v in _items(r, top.get("drivers"), "drivers"))
    prices = tuple(_price(r, k, v) for k, v in _items(r, top.get("prices"), "prices"))
    commitments = tuple(_commitment(r, i, v) for i, v in enumerate(top.get("commitment_options") or ()))
    ctx = {"assumptions": names, "drivers": {d.name for d in drivers}, "prices": {p.name for p in prices},
           "commitments": {c.name for c in commitments}, "months": months}
    alternatives = tuple(_alternative(r, k, v, ctx) for k, v in _items(r, top["alternatives"], "alternatives"))
    if len(alternatives) < 2:
        r.fail("alternatives", f"{len(alternatives)} alternative(s)", "describe the current design and at least one alternative")
    baseline = r.text(top["baseline"], "baseline")
    if baseline not in {a.name for a in alternatives}:
        r.fail("baseline", f"no alternative named {baseline!r}",
               f"use one of {', '.join(a.name for a in alternatives)}")
    return DesignModel(
        name=r.text(top.get("name", "Design review"), "name"), source=source, start=start,
        months=months, discount_rate=rate, currency=r.text(top.get("currency", "USD"), "currency"),
        baseline=baseline, sensitivity=sensitivity, assumptions=tuple(assumptions), drivers=drivers,
        prices=prices, commitments=commitments, alternatives=alternatives)


def _items(r: _Reader, value, path: str):
    if value is None:
        return []
    if not isinstance(value, dict):
        r.fail(path, f"expected a mapping of name: ..., got {_show(value)}", "write one entry per name")
    for k in value:
        _check_name(r, f"{path}.{k}", k)
    return list(value.items())


def _check_name(r: _Reader, path: str, name) -> None:
    if not isinstance(name, str) or not _NAME.fullmatch(name) or re.fullmatch(r"[a-z]{1,3}[0-9]+", name):
        r.fail(path, f"{name!r} is not a usable name",
               "use lower-case letters, digits and _, starting with a letter (not like a cell, e.g. ab12)")


def _month(r: _Reader, value) -> dt.date:
    if isinstance(value, dt.date):
        return value.replace(day=1)
    try:
        return dt.datetime.strptime(str(value), "%Y-%m").date()
    except ValueError:
        r.fail("start", f"expected a month as YYYY-MM, got {_show(value)}", "write e.g. 2027-01")


def _driver(r: _Reader, name: str, v, months: int) -> Driver:
    path = f"drivers.{name}"
    r.mapping(v, path, ("start", "monthly_growth", "events", "unit", "note"), ("start",))
    events = []
    for i, e in enumerate(v.get("events") or ()):
        p = f"{path}.events[{i}]"
        r.mapping(e, p, ("month", "change", "note"), ("month", "change"))
        events.append(Event(int(r.number(e["month"], f"{p}.month", low=2, high=months, integer=True,
                                          fix=f"give a month number from 2 to {months}")),
                            r.number(e["change"], f"{p}.change", low=-1,
                                     fix="give the step as a fraction, e.g. 0.25 for +25%"),
                            str(e.get("note") or "")))
    if len({e.month for e in events}) != len(events):
        r.fail(f"{path}.events", "two events in the same month", "merge them into one change")
    if r.number(v["start"], f"{path}.start") <= 0:
        r.fail(f"{path}.start", f"{v['start']} is not above 0", "give the driver's value in month 1 (the index divides by it)")
    return Driver(name, r.number(v["start"], f"{path}.start", low=0),
                  r.number(v.get("monthly_growth", 0), f"{path}.monthly_growth", low=-1,
                           fix="give the growth per month as a fraction, e.g. 0.02 for 2%"),
                  tuple(sorted(events, key=lambda e: e.month)))


def _price(r: _Reader, name: str, v) -> PriceSpec:
    path = f"prices.{name}"
    if not isinstance(v, dict):
        return PriceSpec(name, None, None, None, None, "effective", r.number(v, path, low=0), "")
    r.mapping(v, path, ("sku", "service", "region", "pricing", "unit", "kind", "price", "note"))
    if v.get("sku") is not None and v.get("service") is not None:
        r.fail(path, "both sku and service", "give one of them")
    key = v.get("sku", v.get("service"))
    if key is None and v.get("price") is None:
        r.fail(path, "neither a sku/service to look up nor a price",
               "add sku: (or service:) from `finops-xl prices`, or price: a number")
    kind = r.text(v.get("kind", "effective"), f"{path}.kind")
    if kind not in ("effective", "list", "contracted"):
        r.fail(f"{path}.kind", f"{kind!r}", "use effective, list or contracted")
    return PriceSpec(name, r.text(key, f"{path}.sku", optional=True),
                     r.text(v.get("region"), f"{path}.region", optional=True),
                     r.text(v.get("pricing"), f"{path}.pricing", optional=True),
                     r.text(v.get("unit"), f"{path}.unit", optional=True), kind,
                     None if v.get("price") is None else r.number(v["price"], f"{path}.price", low=0),
                     str(v.get("note") or ""))


def _commitment(r: _Reader, i: int, v) -> CommitmentOption:
    path = f"commitment_options[{i}]"
    r.mapping(v, path, ("name", "coverage", "discount", "applies_to"), ("name", "coverage", "discount"))
    kinds = v.get("applies_to") or ["compute", "vcpu_hours", "memory_hours", "kubernetes", "database"]
    if not isinstance(kinds, list) or any(k not in KIND_FIELDS for k in kinds):
        r.fail(f"{path}.applies_to", f"{_show(kinds)}", f"give a list of kinds: {', '.join(KIND_FIELDS)}")
    return CommitmentOption(r.text(v["name"], f"{path}.name"),
                            r.number(v["coverage"], f"{path}.coverage", low=0, high=1),
                            r.number(v["discount"], f"{path}.discount", low=0, high=1), tuple(kinds))


def _alternative(r: _Reader, name: str, v, ctx) -> Alternative:
    path = f"alternatives.{name}"
    r.mapping(v, path, ("description", "components", "migration", "commitment"), ("components",))
    commitment = r.text(v.get("commitment"), f"{path}.commitment", optional=True)
    if commitment is not None and commitment not in ctx["commitments"]:
        r.fail(f"{path}.commitment", f"no commitment option named {commitment!r}",
               f"use one of commitment_options: {', '.join(sorted(ctx['commitments'])) or 'none defined'}")
    migration = []
    for i, m in enumerate(v.get("migration") or ()):
        p = f"{path}.migration[{i}]"
        r.mapping(m, p, ("name", "amount", "month"), ("name", "amount"))
        migration.append(Migration(r.text(m["name"], f"{p}.name"), r.number(m["amount"], f"{p}.amount"),
                                   int(r.number(m.get("month", 0), f"{p}.month", low=0, high=ctx["months"],
                                                integer=True))))
    components = v["components"]
    if not isinstance(components, list) or not components:
        r.fail(f"{path}.components", "expected a list of components", "add - {name: ..., kind: ..., price: ...}")
    parts = tuple(_component(r, f"{path}.components[{i}]", c, ctx) for i, c in enumerate(components))
    seen = [c.name for c in parts]
    if len(set(seen)) != len(seen):
        r.fail(f"{path}.components", "two components share a name", "name each component once")
    return Alternative(name, str(v.get("description") or ""), parts, tuple(migration), commitment)


def _component(r: _Reader, path: str, c, ctx) -> Component:
    if not isinstance(c, dict) or c.get("kind") not in KIND_FIELDS:
        got = c.get("kind") if isinstance(c, dict) else c
        r.fail(f"{path}.kind", f"{_show(got)} is not a component kind", f"use one of {', '.join(KIND_FIELDS)}")
    kind = c["kind"]
    own = KIND_FIELDS[kind]
    keys = ("name", "kind", "price", "scales_with", "from", "until", *own, *MULTIPLIERS, "per")
    required = ("name", "price") + tuple(f for f in own if f != "hours")
    r.mapping(c, path, keys, required)
    names = ctx["assumptions"]
    fields = [(f, r.quantity(c.get(f, 730 if f == "hours" else None), f"{path}.{f}", names)) for f in own]
    fields += [(f, r.quantity(c[f], f"{path}.{f}", names)) for f in (*MULTIPLIERS, "per") if f in c]
    price = r.text(c["price"], f"{path}.price")
    if price not in ctx["prices"]:
        r.fail(f"{path}.price", f"no price named {price!r}",
               f"use one of prices: ({', '.join(sorted(ctx['prices'])) or 'none defined'}) or add it there")
    scales = r.text(c.get("scales_with"), f"{path}.scales_with", optional=True)
    if scales is not None and scales not in ctx["drivers"]:
        r.fail(f"{path}.scales_with", f"no driver named {scales!r}",
               f"use one of drivers: ({', '.join(sorted(ctx['drivers'])) or 'none defined'})")
    first = int(r.number(c.get("from", 1), f"{path}.from", low=1, high=ctx["months"], integer=True))
    last = int(r.number(c.get("until", ctx["months"]), f"{path}.until", low=first, high=ctx["months"],
                        integer=True, fix=f"give a month from {first} (from) to {ctx['months']}"))
    return Component(r.text(c["name"], f"{path}.name"), kind, tuple(fields), price, scales, first, last)
