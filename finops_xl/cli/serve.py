"""``finops-xl serve``: run xlwings Server with the FINOPS functions and macros (extra: server)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from finops_xl.store.store import CostStore


def register(sub, store_opt) -> None:
    q = sub.add_parser("serve", parents=[store_opt],
                       help="run xlwings Server with the FINOPS functions and macros (extra: server)")
    q.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    q.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    q.add_argument("--certs", type=Path, metavar="DIR",
                   help="folder with the HTTPS certificate and key (mkcert localhost); without it, plain HTTP")
    q.set_defaults(run=_cmd_serve)


def _cmd_serve(args: argparse.Namespace) -> int:
    from finops_udfs.server import ServeError, ServerConfig, certificates, serve  # the server extra

    store = Path(args.store or os.environ.get("FINOPS_XL_STORE") or CostStore().path).resolve()
    try:
        cert, key = certificates(args.certs)
        return serve(ServerConfig(store, args.host, args.port, cert, key))
    except ServeError as exc:
        print(f"finops-xl serve: {exc}", file=sys.stderr)
        return 1
