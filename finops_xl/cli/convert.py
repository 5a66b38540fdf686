"""``finops-xl convert PATH... --to focus --out DIR``: write native exports as FOCUS files."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub, store_opt) -> None:
    q = sub.add_parser("convert", help="write native exports (AWS CUR, Azure, GCP) as FOCUS files")
    q.add_argument("paths", nargs="+", metavar="PATH",
                   help="AWS CUR / CUR 2.0, Azure cost details (actual + amortized), GCP billing export")
    q.add_argument("--to", choices=("focus",), required=True, help="target format: focus (FOCUS 1.2)")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    q.add_argument("--format", choices=("parquet", "csv"), default="parquet",
                   help="file format written (default parquet)")
    q.set_defaults(run=_cmd_convert)


def _cmd_convert(args: argparse.Namespace) -> int:
    from finops_xl.focus.convert.files import convert_exports

    written, skipped = convert_exports(args.paths, args.out, fmt=args.format)
    for c in written:
        print(f"wrote {c.path}: FOCUS 1.2, {c.rows:,} rows from {c.description}")
        for label in c.inputs:
            print(f"  {label}")
    for label in skipped:
        print(f"skipped {label}: already a FOCUS export")
    return 0
