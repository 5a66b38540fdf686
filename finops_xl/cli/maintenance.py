"""``finops-xl migrate``, ``finops-xl history`` and ``finops-xl vacuum``: the store's own upkeep."""

from __future__ import annotations

import argparse
import csv
import sys
from decimal import Decimal

from finops_xl.store.errors import StoreError


def register(sub, store_opt: argparse.ArgumentParser) -> None:
    q = sub.add_parser("migrate", parents=[store_opt],
                       help="convert a single-file store of an earlier finops-xl into a store folder, in place")
    q.set_defaults(run=_cmd_migrate)
    q = sub.add_parser("history", parents=[store_opt],
                       help="the store's versions: every load, allocation and ledger change, with what it changed")
    q.add_argument("--format", choices=("text", "csv"), default="text")
    q.add_argument("--last", type=int, default=None, metavar="N", help="only the last N versions")
    q.set_defaults(run=_cmd_history)
    q = sub.add_parser("vacuum", parents=[store_opt],
                       help="compact the store's small files and remove old versions (never one a locked close keeps)")
    q.add_argument("--keep-days", type=float, default=7.0, metavar="DAYS",
                   help="keep every version of the last DAYS days (default 7)")
    q.add_argument("--no-compact", action="store_true", help="only remove old versions' files")
    q.set_defaults(run=_cmd_vacuum)


def _cmd_migrate(args: argparse.Namespace) -> int:
    from finops_xl.store.migrate import migrate

    m = migrate(args.store) if args.store else migrate(_default())
    print(f"migrated {m.store} into a store folder in {m.seconds:.1f} s: "
          + ", ".join(f"{t} {n:,} rows" for t, n in sorted(m.rows.items()) if n))
    for p in m.kept:
        print(f"kept: {p} (the single-file store as it was; delete it once you are satisfied)")
    return 0


def _default():
    from finops_xl.store.store import CostStore

    return CostStore().path


def _money(text) -> str:
    try:
        return f"{Decimal(str(text)):,.2f}"
    except Exception:
        return str(text)


def _describe(c) -> str:
    ch = c.changes or {}
    parts = []
    if ch.get("slices"):
        slices = ch["slices"]
        totals: dict[str, Decimal] = {}
        for s in slices:
            with_cur = s.get("currency") or "?"
            try:
                totals[with_cur] = totals.get(with_cur, Decimal(0)) + Decimal(str(s["billed"]))
            except Exception:
                pass
        keys = sorted({(s["provider"], s["account"], s["period"][:7]) for s in slices})
        shown = "; ".join(f"{p} {a} {m}" for p, a, m in keys[:4]) + (f"; +{len(keys) - 4} more" if len(keys) > 4 else "")
        parts.append(f"{len(keys)} slice(s) [{shown}], {ch.get('rows', 0):,} rows, BilledCost "
                     + ", ".join(f"{_money(v)} {k}" for k, v in sorted(totals.items())))
        files = ch.get("files") or []
        if files:
            parts.append(f"files: {', '.join(files[:3])}" + (f" +{len(files) - 3} more" if len(files) > 3 else ""))
    if ch.get("tables"):
        parts.append("tables: " + ", ".join(f"{t} ({n:,} rows)" for t, n in sorted(ch["tables"].items())))
    if ch.get("compacted"):
        parts.append("compacted: " + ", ".join(f"{t} {v['files_removed']} files into {v['files_added']}"
                                               for t, v in ch["compacted"].items()))
    if ch.get("from"):
        parts.append(f"from {ch['from']}")
    return "; ".join(parts)


def _cmd_history(args: argparse.Namespace) -> int:
    from finops_xl.store.store import CostStore

    store = CostStore(args.store)
    if store.is_v1:
        raise StoreError(f"the cost store {store.path} is a single-file store of an earlier finops-xl, which keeps "
                         f"no versions: `finops-xl migrate --store {store.path}` converts it")
    every = store.history()
    if not every:
        store._check_folder(reading=True)
        print(f"the cost store {store.path} has no versions yet", file=sys.stderr)
        return 1
    from finops_xl.store.maintenance import pins, readable

    kept = {p.commit: p.reason for p in pins(store)}
    rows = every[-args.last:] if args.last else every
    if args.format == "csv":
        w = csv.writer(sys.stdout, lineterminator="\n")
        w.writerow(["version", "committed_at", "kind", "command", "changes", "kept_for", "readable"])
        for c in rows:
            w.writerow([c.commit, c.committed_at.isoformat(sep=" ", timespec="seconds"), c.kind, c.command,
                        _describe(c), kept.get(c.commit, ""), "no" if readable(store.path, c.commit) else "yes"])
        return 0
    for c in rows:
        note = f"  [kept: {kept[c.commit]}]" if c.commit in kept else ""
        gone = "  [removed by vacuum]" if readable(store.path, c.commit) else ""
        print(f"{c.commit:>5}  {c.committed_at:%Y-%m-%d %H:%M:%S} UTC  {c.kind:<10} {c.command}{note}{gone}")
        described = _describe(c)
        if described:
            print(f"       {described}")
    return 0


def _cmd_vacuum(args: argparse.Namespace) -> int:
    from finops_xl.store.maintenance import vacuum
    from finops_xl.store.store import CostStore

    v = vacuum(CostStore(args.store), keep_days=args.keep_days, compact=not args.no_compact)
    print(f"vacuum: {v.compacted} small files compacted, {v.removed} old files removed "
          f"({v.freed / 2**20:.1f} MiB freed) in {v.seconds:.1f} s; versions kept: "
          f"{_ranges(v.kept_commits)}" + (f"; new version {v.commit}" if v.commit else ""))
    return 0


def _ranges(numbers) -> str:
    out, run = [], []
    for n in sorted(numbers):
        if run and n == run[-1] + 1:
            run.append(n)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [n]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ", ".join(out) or "none"
