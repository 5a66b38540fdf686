"""Locked months: a signed-off close that later loads cannot change, and prior-period adjustments.

``lock(store, month, by)`` (``finops-xl close --month M --lock [--by NAME]``) writes
``<close folder>/locks/LOCK-YYYY-MM.json``, the record of the close as signed off:

- the store version it used (``CostStore.head()``: commit number and time, when the store keeps
  versions), the store's last load id, the allocation run, and the month's slices (provider,
  billing account, billing period, load id, rows, BilledCost);
- the month's **figures**: BilledCost per currency × cost center × GL account, attributed the way
  the true-up attributes it (allocation owners → cost centers, service categories → accounts);
- the month's journal **entries** (every entry of ``run_close``), so the journal of a locked month
  is written again from the record, byte for byte, whatever landed since (``locked_journal``).

Loads of a locked month still land (it is the provider's data). The next close of the **first open
month** after it (the month after the locked ones) compares the current figures with the locked
ones and posts the difference as a **prior-period adjustment** (``prior_period_adjustments``):
one entry per locked month and currency, kind ``prior_period_adjustment``, dated on the open
month's last day — Dr (Cr when negative) cloud expense by cost center and account / Cr (Dr)
accrued liabilities, the debits equal to the change — with a report of what changed: the slices
loaded again since the lock (old and new load, rows, BilledCost). When the open month is locked in
turn, its record keeps the figures it adjusted to as the new baseline for those months, so a change
is adjusted once.

``unlock(store, month, reason, by)`` (``--unlock --reason TEXT``) moves the record aside
(``LOCK-YYYY-MM.unlocked-<time>.json``); every lock and unlock is appended to
``locks/log.jsonl`` (who, when, why). An unlocked month simply recloses from the current data.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb

from finops_xl.close.accruals import (
    AccrualError,
    _basis,
    _cost_center,
    _owner_amounts,
    _resolve_owner_source,
    accrual_path,
    next_month,
)
from finops_xl.close.journal import Entry, LedgerMap, Line, entry
from finops_xl.money import round_money

FORMAT, VERSION = "finops-xl/close-lock", 1
ZERO = Decimal(0)


class LockError(ValueError):
    """A lock operation refused (the message says why and what to do)."""


def locks_dir(store) -> Path:
    return accrual_path(store, dt.date(2000, 1, 1)).parent / "locks"


def lock_path(store, month: dt.date) -> Path:
    return locks_dir(store) / f"LOCK-{month:%Y-%m}.json"


def read_lock(store, month: dt.date) -> dict | None:
    path = lock_path(store, month.replace(day=1))
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise LockError(f"{path}: not a lock record ({exc})") from None
    if data.get("format") != FORMAT:
        raise LockError(f"{path}: not a lock record (format must be {FORMAT!r})")
    return data


def locked_months(store) -> list[dt.date]:
    folder = locks_dir(store)
    if not folder.is_dir():
        return []
    out = []
    for p in folder.glob("LOCK-????-??.json"):
        out.append(dt.date.fromisoformat(p.name[5:12] + "-01"))
    return sorted(out)


# ---- figures ----------------------------------------------------------------------------------

def month_figures(con, month: dt.date, ledger: LedgerMap = LedgerMap()) -> dict[tuple[str, str, str], Decimal]:
    """(currency, cost center, account) → the month's BilledCost, exact (upfront purchases excluded,
    as the accrual and the true-up leave them out)."""
    ms = month.replace(day=1)
    source = _resolve_owner_source(con, "auto")
    basis, _ = _basis(con, "BilledCost", ms, next_month(ms))
    amounts, centers = _owner_amounts(con, source, "BilledCost", ms, basis, ())
    out: dict[tuple[str, str, str], Decimal] = defaultdict(lambda: ZERO)
    for (cur, owner, cat), (actual, *_rest) in amounts.items():
        out[(cur, _cost_center(owner, ledger, centers), ledger.account(cat))] += actual
    return {k: v for k, v in sorted(out.items()) if v}


def _slices(con, month: dt.date) -> list[dict]:
    """The month's slices; ``billed`` is the slice's BilledCost, or None when it holds several
    currencies, whose totals are then in ``billed_by_currency``."""
    rows = con.execute("""
        SELECT ProviderName, BillingAccountId, CAST(BillingPeriodStart AS DATE), load_id, rows, BilledCost
        FROM slices WHERE BillingPeriodStart >= ? AND BillingPeriodStart < ? ORDER BY ALL""",
        [month, next_month(month)]).fetchall()
    by_currency: dict[tuple, dict[str, str]] = defaultdict(dict)
    if any(c is None for *_k, c in rows):
        try:
            found = con.execute("""
                SELECT ProviderName, BillingAccountId, CAST(BillingPeriodStart AS DATE), load_id,
                       BillingCurrency, BilledCost
                FROM slice_currencies WHERE BillingPeriodStart >= ? AND BillingPeriodStart < ? ORDER BY ALL""",
                [month, next_month(month)]).fetchall()
        except duckdb.Error:  # a store without per-currency slice totals
            found = []
        for p, b, d, l, cur, c in found:
            if c is not None:
                by_currency[(p, b, d, int(l))][cur or "?"] = f"{Decimal(c):f}"
    out = []
    for p, b, d, l, n, c in rows:
        item = {"provider": p, "billing_account": b, "billing_period": d.isoformat(), "load_id": int(l),
                "rows": int(n), "billed": None if c is None else f"{Decimal(c):f}"}
        if c is None:
            item["billed_by_currency"] = by_currency.get((p, b, d, int(l)), {})
        out.append(item)
    return out


def _billed(s: dict) -> str:
    """A slice record's BilledCost in words (per currency when it holds several)."""
    if s.get("billed") is not None:
        return f"{Decimal(s['billed']):.2f}"
    parts = (s.get("billed_by_currency") or {}).items()
    return " + ".join(f"{cur} {Decimal(v):.2f}" for cur, v in sorted(parts)) or "not recorded"


def _store_state(store, con) -> dict:
    state: dict = {"store_commit": None, "store_committed_at": None}
    head = getattr(store, "head", None)
    if callable(head):
        commit = head()
        if commit is not None:
            state["store_commit"] = int(commit.commit)
            at = getattr(commit, "committed_at", None)
            state["store_committed_at"] = at.isoformat() if hasattr(at, "isoformat") else at
    try:
        load = con.execute("SELECT value FROM store_info WHERE key = 'last_load_id'").fetchall()
        state["last_load_id"] = load[0][0] if load else None
    except Exception:  # noqa: BLE001 - a store without run records
        state["last_load_id"] = None
    try:
        run = con.execute("SELECT run_id FROM allocation_runs ORDER BY run_id DESC LIMIT 1").fetchall()
        state["allocation_run"] = int(run[0][0]) if run else None
    except Exception:  # noqa: BLE001
        state["allocation_run"] = None
    return state


# ---- entries as JSON ------------------------------------------------------------------------------

def _entry_json(e: Entry) -> dict:
    return {"id": e.id, "date": e.date.isoformat(), "currency": e.currency, "kind": e.kind, "memo": e.memo,
            "reverses_on": e.reverses_on.isoformat() if e.reverses_on else None,
            "lines": [[l.account, l.cost_center, f"{l.debit:f}", f"{l.credit:f}", l.memo, l.source]
                      for l in e.lines]}


def _entry_from(d: dict) -> Entry:
    lines = tuple(Line(a, cc, Decimal(dr), Decimal(cr), m, s) for a, cc, dr, cr, m, s in d["lines"])
    return Entry(d["id"], dt.date.fromisoformat(d["date"]), d["currency"], d["kind"], lines, d["memo"],
                 dt.date.fromisoformat(d["reverses_on"]) if d["reverses_on"] else None)


def locked_entries(record: dict) -> tuple[Entry, ...]:
    return tuple(_entry_from(d) for d in record["entries"])


def _figures_json(figures) -> list[dict]:
    return [{"currency": c, "cost_center": cc, "account": a, "amount": f"{v:f}"} for (c, cc, a), v in figures.items()]


def _figures_from(rows) -> dict[tuple[str, str, str], Decimal]:
    return {(r["currency"], r["cost_center"], r["account"]): Decimal(r["amount"]) for r in rows}


# ---- lock / unlock ---------------------------------------------------------------------------------

def _log(store, event: dict) -> None:
    folder = locks_dir(store)
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "log.jsonl").open("a", encoding="utf-8") as fh:
        fh.write(json.dumps(event, ensure_ascii=False) + "\n")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()


def lock(store, month: dt.date, run, *, by: str | None = None, ledger: LedgerMap = LedgerMap(),
         adjusted: dict | None = None) -> Path:
    """Record the close ``run`` (a ``CloseRun`` of ``month``) as locked (module docstring).
    ``adjusted``: locked month → the figures this month's prior-period adjustments brought it to."""
    ms = month.replace(day=1)
    path = lock_path(store, ms)
    if path.exists():
        data = read_lock(store, ms)
        raise LockError(f"{ms:%Y-%m} is already locked (by {data.get('by') or 'unknown'}, {data.get('locked_at')}): "
                        f"unlock it first with --unlock --reason TEXT")
    with store.reader() as con:
        state = _store_state(store, con)
        figures = month_figures(con, ms, ledger)
        slices = _slices(con, ms)
    record = {"format": FORMAT, "version": VERSION, "month": f"{ms:%Y-%m}", "locked_at": _now(), "by": by or "",
              **state, "stage": run.stage, "slices": slices, "figures": _figures_json(figures),
              "entries": [_entry_json(e) for e in run.journal_entries],
              "adjusted": {m: _figures_json(f) for m, f in (adjusted or {}).items()}}
    path.parent.mkdir(parents=True, exist_ok=True)
    work = path.with_name(f"{path.name}.next-{os.getpid()}")
    work.write_text(json.dumps(record, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(work, path)
    if state["store_commit"] is not None and not store.path.is_file():
        from finops_xl.store.maintenance import pin

        pin(store, int(state["store_commit"]), f"close {ms:%Y-%m} locked", by or "")  # vacuum keeps it
    _log(store, {"event": "lock", "month": record["month"], "by": record["by"], "at": record["locked_at"],
                 "store_commit": state["store_commit"], "allocation_run": state["allocation_run"]})
    return path


def unlock(store, month: dt.date, reason: str, *, by: str | None = None) -> Path:
    """Move the month's lock aside and log why; the month then recloses from the current data."""
    ms = month.replace(day=1)
    if not (reason or "").strip():
        raise LockError("unlocking needs a reason: --unlock --reason TEXT (it is logged)")
    path = lock_path(store, ms)
    if not path.exists():
        raise LockError(f"{ms:%Y-%m} is not locked (no {path})")
    at = _now()
    aside = path.with_name(f"LOCK-{ms:%Y-%m}.unlocked-{at.replace(':', '')}.json")
    os.replace(path, aside)
    try:
        commit = json.loads(aside.read_text(encoding="utf-8")).get("store_commit")
    except (OSError, ValueError):
        commit = None
    if commit is not None and not store.path.is_file():
        from finops_xl.store.maintenance import pins, unpin

        for p in pins(store):
            if p.commit == int(commit) and p.reason == f"close {ms:%Y-%m} locked":
                unpin(store, p.name)
    _log(store, {"event": "unlock", "month": f"{ms:%Y-%m}", "by": by or "", "at": at, "reason": reason.strip()})
    return aside


# ---- prior-period adjustments ----------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Adjustment:
    """What changed in a locked month since its baseline (the lock, or the last adjustment).

    Attributes:
      month: the locked month.  changes: (currency, cost center, account) → current − baseline.
      figures: the current figures (the new baseline once the open month is locked).
      slices: the slices loaded again since the lock, in words, each with the input files of the
        old and the new load and their rows of the slice (the store's manifest).
    """

    month: dt.date
    changes: dict[tuple[str, str, str], Decimal]
    figures: dict[tuple[str, str, str], Decimal]
    slices: tuple[str, ...]


def _baseline(store, locked: dt.date, before: dt.date) -> dict[tuple[str, str, str], Decimal]:
    """The figures the ledger holds for ``locked``: its lock's, or those a later locked month (before
    ``before``) adjusted it to."""
    base = _figures_from(read_lock(store, locked)["figures"])
    for m in locked_months(store):
        if locked < m < before:
            adj = (read_lock(store, m) or {}).get("adjusted", {}).get(f"{locked:%Y-%m}")
            if adj is not None:
                base = _figures_from(adj)
    return base


def pending_adjustments(store, con, month: dt.date, ledger: LedgerMap = LedgerMap()) -> list[Adjustment]:
    """The changes of the locked months whose first open month is ``month``."""
    ms = month.replace(day=1)
    months = locked_months(store)
    if ms in months:
        return []
    out = []
    for m in months:
        if m >= ms:
            continue
        between, nxt = True, next_month(m)
        while nxt < ms:  # every month between the locked one and this one must be locked
            if nxt not in months:
                between = False
                break
            nxt = next_month(nxt)
        if not between:
            continue
        base = _baseline(store, m, ms)
        now = month_figures(con, m, ledger)
        changes = {k: now.get(k, ZERO) - base.get(k, ZERO) for k in sorted(base.keys() | now.keys())}
        changes = {k: v for k, v in changes.items() if round_money(v, k[0])}
        if not changes:
            continue
        record = read_lock(store, m)
        then = {(s["provider"], s["billing_account"], s["billing_period"]): s for s in record["slices"]}
        words = []
        for s in _slices(con, m):
            key = (s["provider"], s["billing_account"], s["billing_period"])
            old = then.get(key)
            files = _files(con, s["load_id"], key)
            if old is None:
                words.append(f"{s['provider']} {s['billing_account']} {s['billing_period'][:7]}: new slice "
                             f"(load {s['load_id']}, {s['rows']:,} rows, BilledCost {_billed(s)}; "
                             f"from {files})")
            elif old["load_id"] != s["load_id"]:
                words.append(f"{s['provider']} {s['billing_account']} {s['billing_period'][:7]}: loaded again "
                             f"(load {old['load_id']} → {s['load_id']}, rows {old['rows']:,} → {s['rows']:,}, "
                             f"BilledCost {_billed(old)} → {_billed(s)}; "
                             f"files {_files(con, old['load_id'], key)} → {files})")
        out.append(Adjustment(m, changes, now, tuple(words)))
    return out


_SLICES_JSON = ('[{"ProviderName": "VARCHAR", "BillingAccountId": "VARCHAR", "BillingPeriodStart": "VARCHAR", '
                '"rows": "BIGINT"}]')


def _files(con, load_id: int, key: tuple[str, str, str]) -> str:
    """The input files of load ``load_id`` holding the slice ``key`` (provider, billing account,
    billing period), each with its rows of that slice, from the store's manifest, in words."""
    provider, account, period = key
    try:
        found = con.execute(f"""
            SELECT m.source_file, sum(s.rows)
            FROM manifest m, unnest(from_json(m.slices, '{_SLICES_JSON}')) AS t(s)
            WHERE m.load_id = ? AND s.ProviderName = ? AND s.BillingAccountId = ?
              AND CAST(s.BillingPeriodStart AS DATE) = CAST(? AS DATE)
            GROUP BY 1 ORDER BY 1""", [load_id, provider, account, period]).fetchall()
    except duckdb.Error:  # a store whose manifest lacks per-file slices
        found = []
    if not found:
        return f"load {load_id}: no file recorded in the manifest"
    return ", ".join(f"{f} ({int(n):,} rows)" for f, n in found)


def adjustment_entries(adjustments, month: dt.date, ledger: LedgerMap = LedgerMap()) -> tuple[Entry, ...]:
    """One ``prior_period_adjustment`` entry per locked month and currency (module docstring)."""
    ms = month.replace(day=1)
    end = next_month(ms) - dt.timedelta(days=1)
    out = []
    for a in adjustments:
        currencies = sorted({k[0] for k in a.changes})
        for cur in currencies:
            memo = f"Prior-period adjustment of locked {a.month:%Y-%m} (restated after the lock)"
            source = f"prior_period:{a.month:%Y-%m}"
            debits = [(acct, cc, round_money(v, cur), f"{memo}: {acct}, {cc}", source)
                      for (c, cc, acct), v in a.changes.items() if c == cur]
            total = sum((d[2] for d in debits), ZERO)
            credits = [(ledger.accrued_liabilities, "", total, memo, source)]
            suffix = f"-{cur}" if len(currencies) > 1 else ""
            out.append(entry(f"PPA-{ms:%Y-%m}-{a.month:%Y-%m}{suffix}", end, cur, "prior_period_adjustment",
                             debits, credits, memo))
    return tuple(out)


def check_not_locked(store, month: dt.date) -> None:
    """Refuse what would change a locked month's close (an accrual run, a post)."""
    data = read_lock(store, month)
    if data is not None:
        raise AccrualError(f"{month:%Y-%m} is locked (by {data.get('by') or 'unknown'}, {data.get('locked_at')}): "
                           "its close is reproduced from the lock; unlock it with --unlock --reason TEXT")
