"""``finops-xl serve``: xlwings Server with the FINOPS functions and the workbook macros.

xlwings Server (the ``xlwings-server`` package, FastAPI) serves an Office.js add-in: its manifest
(``/manifest``), the custom functions' metadata and code (``/xlwings/custom-functions-meta``,
``/xlwings/custom-functions-code``), the endpoint Excel calls for every formula
(``/xlwings/custom-functions-call``) and the task pane (``/taskpane.html``), whose buttons run the
macros (``/xlwings/custom-scripts-call/<macro>``, also what the Google Sheets client calls). It
imports its functions and macros as the top-level modules ``custom_functions`` and
``custom_scripts`` from a project folder: ours is ``server_app/`` beside this module.

xlwings Server is dual-licensed: free for non-commercial use (``XLWINGS_LICENSE_KEY=noncommercial``,
PolyForm Noncommercial 1.0.0); commercial use needs an xlwings PRO licence key.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

#: The project folder xlwings Server reads (custom_functions/, custom_scripts/, templates/).
PROJECT_DIR = Path(__file__).with_name("server_app")
#: The manifest's namespace: Excel shows the functions as FINOPS.COST, FINOPS.COSTTABLE, …
NAMESPACE = "FINOPS"
#: In --certs DIR: the certificate and its key, as mkcert names them for ``mkcert localhost``.
CERT_FILES = (("localhost.pem", "localhost-key.pem"), ("cert.pem", "key.pem"))

LICENCE_NOTE = (
    "xlwings Server is free for non-commercial use (XLWINGS_LICENSE_KEY=noncommercial); "
    "commercial use needs an xlwings PRO licence key (https://www.xlwings.org/pricing).")


class ServeError(Exception):
    """A reason the server cannot start, in the user's words."""


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Where and how the server runs.

    Attributes:
      store: the cost store the functions read by default (a cell may still name another).
      host, port: where it listens (127.0.0.1: this machine only).
      certfile, keyfile: the HTTPS certificate and key; None serves plain HTTP, which Excel's
        add-ins refuse everywhere but on loopback (for tests and scripted calls).
    """

    store: Path | None
    host: str = "127.0.0.1"
    port: int = 8000
    certfile: Path | None = None
    keyfile: Path | None = None

    @property
    def base_url(self) -> str:
        scheme = "https" if self.certfile else "http"
        host = "localhost" if self.host in ("127.0.0.1", "0.0.0.0", "::") else self.host
        return f"{scheme}://{host}:{self.port}"


def certificates(folder: Path | None) -> tuple[Path | None, Path | None]:
    """The (certificate, key) in ``folder``, or (None, None) without a folder."""
    if folder is None:
        return None, None
    if not folder.is_dir():
        raise ServeError(f"--certs {folder}: no such folder (make one with `mkcert localhost` "
                         "there; see docs/excel-server.md)")
    for cert, key in CERT_FILES:
        if (folder / cert).is_file() and (folder / key).is_file():
            return folder / cert, folder / key
    wanted = " or ".join(f"{c} + {k}" for c, k in CERT_FILES)
    raise ServeError(f"--certs {folder}: no certificate there (expected {wanted}; "
                     "`mkcert localhost` in that folder writes the first pair)")


def environment(config: ServerConfig, base: dict[str, str] | None = None) -> dict[str, str]:
    """The environment xlwings Server reads its settings from (it reads them once, on import)."""
    env = dict(os.environ if base is None else base)
    env["XLWINGS_PROJECT_DIR"] = str(PROJECT_DIR)
    env["XLWINGS_FUNCTIONS_NAMESPACE"] = NAMESPACE
    env["XLWINGS_PROJECT_NAME"] = "finops-xl"
    env.setdefault("XLWINGS_ENVIRONMENT", "prod")  # other environments suffix the namespace
    env.setdefault("XLWINGS_LICENSE_KEY", "noncommercial")
    env["XLWINGS_ENABLE_HOTRELOAD"] = "false"
    env["XLWINGS_ON_SERVER"] = "true"
    if config.store is not None:
        env["FINOPS_XL_STORE"] = str(config.store)
    return env


def banner(config: ServerConfig) -> str:
    """What ``finops-xl serve`` prints: where the manifest is and how to sideload it."""
    url = config.base_url
    lines = [
        f"finops-xl: xlwings Server on {url} (store: {config.store or 'the default store'})",
        f"manifest:  {url}/manifest",
        "sideload it:",
        "  Excel on the web: Home > Add-ins > More Settings > Upload My Add-in > the manifest file",
        "  Excel on Windows: put the manifest in a shared folder trusted in File > Options > Trust "
        "Center > Trusted Add-in Catalogs, then Insert > My Add-ins > Shared Folder",
        f"  then type =FINOPS.COST(DATE(2025,1,1),DATE(2025,2,1)) in a cell; the task pane "
        "(Home > finops-xl) runs Refresh, Build overview, Allocate and Build close package",
        LICENCE_NOTE,
    ]
    if not config.certfile:
        lines.insert(1, "plain HTTP: Excel add-ins need HTTPS; give --certs DIR (see "
                        "docs/excel-server.md) unless only scripts and tests call this server")
    return "\n".join(lines)


def serve(config: ServerConfig, out: Callable[[str], None] = print) -> int:
    """Run xlwings Server until interrupted; returns its exit status.

    It runs in a child Python: xlwings reads ``XLWINGS_ON_SERVER`` when it is first imported, and
    this process has already imported it (for the classic add-in's call path).
    """
    import importlib.util

    if not all(importlib.util.find_spec(m) for m in ("uvicorn", "xlwings_server")):
        raise ServeError("xlwings Server is not installed: pip install 'finops-xl[server]' "
                         f"(into this Python). {LICENCE_NOTE}")
    command = [sys.executable, "-m", "uvicorn", "xlwings_server.main:main_app",
               "--host", config.host, "--port", str(config.port),
               "--log-level", os.environ.get("FINOPS_XL_SERVER_LOG", "warning")]
    if config.certfile:
        command += ["--ssl-certfile", str(config.certfile), "--ssl-keyfile", str(config.keyfile)]
    out(banner(config))
    sys.stdout.flush()  # before the server's own output
    child = subprocess.Popen(command, env=environment(config))
    # a scheduler, `docker stop` or a test stops this process with SIGTERM: pass it on
    previous = signal.signal(signal.SIGTERM, lambda *_: child.terminate())
    try:
        code = child.wait()
    except KeyboardInterrupt:  # Ctrl-C reaches the child too; let it shut down
        code = child.wait()
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0 if code in (-signal.SIGTERM, -signal.SIGINT) else code  # stopped as asked


def server_functions() -> dict[str, Callable]:
    """The FINOPS functions as xlwings Server exposes them, by Python name.

    The manifest carries the FINOPS namespace, and Excel prefixes it to every function name; each
    function's own namespace (which xlwings Lite and the in-process call path show) would double
    it, FINOPS.FINOPS.COST. So the server gets the same functions with no namespace of their own.
    """
    import finops_udfs
    from finops_udfs.registry import FUNCTIONS

    found = {}
    for spec in FUNCTIONS:
        f = getattr(finops_udfs, spec.python_name)
        found[spec.python_name] = _without_namespace(f)
    return found


def _without_namespace(f: Callable) -> Callable:
    @functools.wraps(f)
    def call(*args, **kwargs):
        return f(*args, **kwargs)

    call.__xlfunc__ = {**f.__xlfunc__, "namespace": ""}
    return call
