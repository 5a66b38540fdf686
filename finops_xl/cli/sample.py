"""``finops-xl sample``: write generated multi-cloud FOCUS 1.2 data (and its sample inputs)."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from finops_xl.cli.options import month


def register(sub, store_opt) -> None:
    q = sub.add_parser("sample", help="write generated multi-cloud FOCUS 1.2 Parquet")
    q.add_argument("--rows", type=int, default=100_000, help="approximate total rows (default 100000)")
    q.add_argument("--months", type=int, default=3, help="billing months (default 3)")
    q.add_argument("--out", type=Path, required=True, metavar="DIR", help="output folder")
    q.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    q.add_argument("--start", type=month, default=None, metavar="YYYY-MM",
                   help="first billing month (default 2025-01)")
    q.add_argument("--plant-waste", action="store_true",
                   help="add known waste and healthy look-alikes, and write their utilization export")
    q.add_argument("--utilization", type=Path, default=None, metavar="CSV",
                   help="where --plant-waste writes the utilization export (default: utilization.csv "
                        "beside the output folder, outside what `ingest DIR` reads)")
    q.add_argument("--as-of", type=dt.date.fromisoformat, default=None, metavar="YYYY-MM-DD",
                   help="write the exports as delivered on that day: no charges from that day on, and "
                        "the running month not invoiced yet (to try an accrual)")
    q.add_argument("--inputs", type=Path, default=None, metavar="DIR",
                   help="also write sample input files for this data: allocation rules, ledger map, "
                        "budget, drivers and unit costs")
    q.set_defaults(run=_cmd_sample)


def _cmd_sample(args: argparse.Namespace) -> int:
    paths = generate_sample(args.out, args.rows, args.months, args.seed, args.start, plant_waste=args.plant_waste)
    if args.as_of is not None:
        from finops_xl.sample.delivery import as_of

        paths = as_of(paths, args.as_of)
    print(f"wrote {len(paths)} files to {args.out}"
          + (f" (as delivered on {args.as_of}: its month not invoiced yet)" if args.as_of else ""))
    if args.plant_waste:
        from finops_xl.sample.planted import write_utilization

        util = write_utilization(args.utilization or args.out.resolve().parent / "utilization.csv")
        print(f"wrote the planted resources' utilization export to {util}")
    if args.inputs is not None:
        from finops_xl.data import write_sample_inputs

        written = write_sample_inputs(args.inputs)
        print(f"wrote {len(written)} sample input files to {args.inputs}: {', '.join(p.name for p in written)}")
    return 0


def generate_sample(out: Path, rows: int, months: int, seed: int, start: dt.date | None, *,
              plant_waste: bool = False) -> list[Path]:
    from tqdm import tqdm

    from finops_xl.sample.generator import SampleSpec, generate

    spec = SampleSpec(rows=rows, months=months, seed=seed, plant_waste=plant_waste)
    if start is not None:
        spec = SampleSpec(rows=rows, months=months, seed=seed, start=start, plant_waste=plant_waste)
    with tqdm(total=rows, unit="row", unit_scale=True, disable=None, leave=False) as bar:
        return generate(spec, out, progress=bar.update)
