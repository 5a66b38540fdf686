"""The accrual's audit record: every run kept, the posted one marked, the cut-off at the last complete day.

Files, in the close folder beside the store (``<store stem>.close/``, see ``accruals.accrual_path``):

- ``ACCR-YYYY-MM-NNN.json`` — one per pre-final ``close`` run of the month (``NNN`` = 001, 002, …),
  written once and never replaced: the record of what each run computed, with ``run`` and
  ``saved_at`` (UTC) added to the accrual record (``accruals`` module, "Record file").
- ``ACCR-YYYY-MM.json`` — the **posted** accrual: a copy of the run the controller posted
  (``finops-xl close --post``), with ``posted`` = ``{"run", "by", "at"}``. It is written once; a
  month's posted accrual is never replaced. The true-up compares the final data with it. (A file of
  this name written by an earlier finops-xl, which replaced it at every run, counts as posted.)

When no run is marked posted, the true-up compares against the latest run and says so.

Cut-off: by default the first day the data does not cover **completely**. The last day with usage
rows counts only when its rows reach midnight (``ChargePeriodEnd`` of the day's latest row ≥ the
next day 00:00 UTC); an export that stops 4 hours into the day leaves that day out, and it is
projected with the missing days, instead of counting 4 hours as a full day. One day of data
extrapolated to the rest of the month is allowed, with a warning.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import re
from pathlib import Path

from finops_xl.close.accruals import (
    AccrualError,
    AccrualResult,
    _to_json,
    accrual_path,
    load_accrual,
    next_month,
)

_RUN_RATE = ("coalesce(ChargeFrequency, 'Usage-Based') = 'Usage-Based' "
             "AND coalesce(ChargeClass, '') <> 'Correction'")


@dataclasses.dataclass(frozen=True)
class Cutoff:
    """The default cut-off and what the reader should know about it.

    Attributes:
      day: first day not covered completely.  partial: the last day with rows, left out because its
      rows stop before midnight (None when it is complete).  warnings: in words.
    """

    day: dt.date
    partial: dt.date | None
    warnings: tuple[str, ...]


def complete_cutoff(con, month: dt.date) -> Cutoff:
    """The first day of ``month`` not covered completely by its usage rows (module docstring)."""
    ms = month.replace(day=1)
    nm = next_month(ms)
    last, reach = con.execute(f"""
        WITH d AS (SELECT max(CAST(ChargePeriodStart AS DATE)) AS last FROM charges
                   WHERE ChargePeriodStart >= $ms AND ChargePeriodStart < $nm AND {_RUN_RATE})
        SELECT d.last, (SELECT max(ChargePeriodEnd) FROM charges
                        WHERE CAST(ChargePeriodStart AS DATE) = d.last AND {_RUN_RATE})
        FROM d""", {"ms": dt.datetime(ms.year, ms.month, 1), "nm": dt.datetime(nm.year, nm.month, 1)}
    ).fetchall()[0]
    if last is None:
        return Cutoff(ms, None, ())
    end_of_day = dt.datetime.combine(last + dt.timedelta(days=1), dt.time())
    warnings: list[str] = []
    partial = None
    if reach is not None and reach.replace(tzinfo=None) < end_of_day:
        partial = last
        day = last
        warnings.append(f"the data's last day {last.isoformat()} is partial (rows up to "
                        f"{reach:%H:%M} UTC): cut off at {last.isoformat()}, so that day is projected "
                        "rather than counted as a full day")
    else:
        day = min(last + dt.timedelta(days=1), nm)
    elapsed = (day - ms).days
    if elapsed == 1 and day < nm:
        warnings.append(f"one day of data ({ms.isoformat()}) is extrapolated to the {(nm - day).days} "
                        "days left in the month: a rough estimate; re-run the close when more days land")
    elif elapsed == 0:
        warnings.append(f"no complete day of {ms:%Y-%m} yet: the projection rests on the days before it")
    return Cutoff(day, partial, tuple(warnings))


# ---- runs ------------------------------------------------------------------------------------

def _run_re(month: dt.date) -> re.Pattern:
    return re.compile(rf"^ACCR-{month:%Y-%m}-(\d{{3,}})\.json$")


def runs(store, month: dt.date) -> list[tuple[int, Path]]:
    """The month's saved runs, oldest first, as (run number, path)."""
    folder = accrual_path(store, month).parent
    if not folder.is_dir():
        return []
    pattern = _run_re(month)
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := pattern.match(p.name))]
    return sorted(found)


def save_run(result: AccrualResult, store) -> tuple[int, Path]:
    """Keep ``result`` as the month's next run record (never replacing one); returns (run, path)."""
    folder = accrual_path(store, result.month).parent
    folder.mkdir(parents=True, exist_ok=True)
    n = (runs(store, result.month) or [(0, None)])[-1][0] + 1
    while True:
        path = folder / f"ACCR-{result.month:%Y-%m}-{n:03d}.json"
        data = {**_to_json(result), "run": n,
                "saved_at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:  # another run took the number: take the next one
            n += 1
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        return n, path


def posted(store, month: dt.date) -> dict | None:
    """The posted record's ``posted`` block (``{}`` for a record of an earlier finops-xl), or None."""
    path = accrual_path(store, month)
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8")).get("posted") or {}
    except (json.JSONDecodeError, AttributeError) as exc:
        raise AccrualError(f"{path}: not an accrual record ({exc})") from None


def post(store, month: dt.date, run: int | None = None, by: str | None = None) -> Path:
    """Mark run ``run`` (default: the latest) of ``month`` as posted; refused when one is posted."""
    path = accrual_path(store, month)
    if path.exists():
        info = posted(store, month) or {}
        raise AccrualError(f"{path}: the {month:%Y-%m} accrual is already posted"
                           + (f" (run {info['run']}, by {info.get('by') or 'unknown'}, {info.get('at')})"
                              if info.get("run") else "")
                           + "; a posted accrual is never replaced: true it up once the data is final")
    found = dict(runs(store, month))
    if not found:
        raise AccrualError(f"no accrual run of {month:%Y-%m} is saved: run finops-xl close --month "
                           f"{month:%Y-%m} first")
    run = max(found) if run is None else run
    if run not in found:
        raise AccrualError(f"{month:%Y-%m} has no run {run} (runs: {', '.join(map(str, sorted(found)))})")
    data = json.loads(found[run].read_text(encoding="utf-8"))
    data["posted"] = {"run": run, "by": by or "",
                      "at": dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()}
    work = path.with_name(f"{path.name}.next-{os.getpid()}")
    work.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(work, path)
    return path


def against(store, month: dt.date) -> tuple[AccrualResult, str] | None:
    """The accrual a true-up compares with: the posted one, else the latest run (and in words,
    which); None when the month has neither."""
    path = accrual_path(store, month)
    if path.exists():
        info = posted(store, month) or {}
        label = f"posted run {info['run']}" if info.get("run") else "the posted accrual"
        return load_accrual(path), label
    found = runs(store, month)
    if not found:
        return None
    n, p = found[-1]
    return load_accrual(p), (f"run {n}, the latest; no run is marked posted: mark the one you post "
                             "with finops-xl close --post")
