"""``finops-xl validate PATH... [--partial]``: check FOCUS exports without loading them."""

from __future__ import annotations

import argparse

from finops_xl.store.ingest import validate


def register(sub, store_opt) -> None:
    q = sub.add_parser("validate", help="check FOCUS exports without loading them")
    q.add_argument("paths", nargs="+", metavar="PATH")
    q.add_argument("--partial", action="store_true",
                   help="accept files that lack mandatory columns (e.g. the FOCUS spec's examples)")
    q.set_defaults(run=_cmd_validate)


def _cmd_validate(args: argparse.Namespace) -> int:
    reports = validate(args.paths, partial=args.partial)
    for r in reports:
        native = f" (converted from {r.native_format})" if r.native_format else ""
        if r.native_format == "opencost":
            print(f"ok  {r.label}: OpenCost allocation export, {r.rows:,} rows (Kubernetes allocations: "
                  f"they load into kubernetes_allocation, not into the cloud charges)")
        else:
            print(f"ok  {r.label}: FOCUS {r.focus_version}{native}, {r.rows:,} rows")
        for n in r.normalizations:
            print(f"    normalized {n.column}: {n.original!r} -> {n.normalized!r} ({n.rows:,} rows; {n.note})")
        for notice in r.notices:
            print(f"    notice: {notice}")
    return 0
