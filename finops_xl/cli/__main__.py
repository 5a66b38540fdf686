"""``python -m finops_xl.cli``: the same as ``finops-xl``."""

import sys

from finops_xl.cli import main

sys.exit(main())
