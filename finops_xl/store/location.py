"""Where the cost store lives.

Resolution order, the same for every command and for the Excel functions:

1. an explicit path (the ``--store PATH`` option of every ``finops-xl`` command);
2. the ``FINOPS_XL_STORE`` environment variable;
3. ``finops-store`` (a folder) in the user's data folder (``platformdirs.user_data_dir("finops-xl")``:
   ``~/.local/share/finops-xl`` on Linux, ``%LOCALAPPDATA%\\finops-xl\\finops-xl`` on Windows,
   ``~/Library/Application Support/finops-xl`` on macOS).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_VAR = "FINOPS_XL_STORE"
DEFAULT_FILENAME = "finops-store"
#: The default of earlier versions (a single-file store), used while it is there and the folder is not.
LEGACY_FILENAME = "finops.duckdb"


def default_store_path() -> Path:
    """The store used when neither ``--store`` nor ``FINOPS_XL_STORE`` names one."""
    folder = Path(platformdirs.user_data_dir("finops-xl", appauthor=False))
    if not (folder / DEFAULT_FILENAME).exists() and (folder / LEGACY_FILENAME).is_file():
        return folder / LEGACY_FILENAME
    return folder / DEFAULT_FILENAME


def resolve_store_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Return the store path: ``explicit``, else ``$FINOPS_XL_STORE``, else the default.

    ``~`` is expanded; the path is made absolute so that a store named relative to the current
    folder keeps meaning the same file after the working directory changes, and symbolic links
    are followed: a linked store is updated where it really is, and its lock and the files beside
    it (allocation, savings, close) are those of the real file, whichever path names it.
    """
    if explicit:
        chosen = Path(explicit)
    elif os.environ.get(ENV_VAR):
        chosen = Path(os.environ[ENV_VAR])
    else:
        chosen = default_store_path()
    return Path(os.path.realpath(chosen.expanduser().absolute()))
