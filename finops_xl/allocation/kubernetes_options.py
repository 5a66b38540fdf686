"""The knobs, names and errors of the Kubernetes namespace allocation (``kubernetes.py``): leftover and
idle-sharing names, base prices, the options object and the input error."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from decimal import Decimal

from finops_xl.store.errors import Problem

#: The leftover line of a cluster-month: capacity no namespace reserved or used (OpenCost's name).
IDLE = "__idle__"
#: ``method`` of every line this module writes.
METHOD = "opencost"
#: Idle sharing modes (OpenCost's names).
IDLE_WEIGHTED, IDLE_EVEN, IDLE_NONE = "weighted", "even", "none"
IDLE_MODES = (IDLE_WEIGHTED, IDLE_EVEN, IDLE_NONE)
#: Resources, in the order their columns appear; names as in the output columns.
RESOURCES = ("cpu", "memory", "gpu")
#: Cost columns (FOCUS names), each allocated separately.
METRICS = ("BilledCost", "EffectiveCost")
#: A cluster-month's |node cost| must stay below this, so that the largest-remainder products
#: (1e-12 units × 50-bit weights) fit DuckDB's 128-bit HUGEINT exactly.
MAX_ABS_COST = Decimal("1e11")

USAGE_COLUMNS = ("cluster", "namespace", "month", "hours", "cpu_request", "cpu_usage",
                 "memory_request_gib", "memory_usage_gib", "gpu_request", "gpu_usage")
CAPACITY_COLUMNS = ("cluster", "month", "hours", "cpu_cores", "memory_gib", "gpu_count")
EMBEDDED_CAPACITY_COLUMNS = ("node_hours", "node_cpu_cores", "node_memory_gib", "node_gpu_count")
NODE_COST_COLUMNS = ("month", "currency", "cluster", "BilledCost", "EffectiveCost")

_MONEY = "DECIMAL(38,12)"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclasses.dataclass(frozen=True)
class BasePrices:
    """List prices per resource-hour, used only for their ratio (OpenCost's ``default.json``).

    Attributes:
      cpu_core_hour: price of one CPU core for one hour.
      memory_gib_hour: price of one GiB of memory for one hour.
      gpu_hour: price of one GPU for one hour.

    The defaults are OpenCost's ``configs/default.json`` ("Default prices based on GCP
    us-central1": CPU 0.031611, RAM 0.004237, GPU 0.95). The currency does not matter: the node
    cost is split in proportion to price × capacity, so only the ratios count.
    """

    cpu_core_hour: Decimal = Decimal("0.031611")
    memory_gib_hour: Decimal = Decimal("0.004237")
    gpu_hour: Decimal = Decimal("0.95")

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            try:
                price = value if isinstance(value, Decimal) else Decimal(str(value))
            except ArithmeticError:
                raise ValueError(f"base_prices.{field.name} is not a number (got {value!r})") from None
            if not price.is_finite() or price < 0:
                raise ValueError(f"base_prices.{field.name} must be a finite number ≥ 0 (got {value!r})")
            object.__setattr__(self, field.name, price)
        if not any(self.by_resource().values()):
            raise ValueError("base_prices are all zero: at least one resource needs a price")

    def by_resource(self) -> dict[str, Decimal]:
        """``{"cpu": …, "memory": …, "gpu": …}``."""
        return {"cpu": self.cpu_core_hour, "memory": self.memory_gib_hour, "gpu": self.gpu_hour}


@dataclasses.dataclass(frozen=True)
class OpenCostOptions:
    """Every knob of the allocation, in one place.

    Attributes:
      base_prices: price ratio between CPU, memory and GPU (see ``BasePrices``).
      idle: how idle is shared: ``"weighted"`` (by workload cost), ``"even"`` (equally among
        active namespaces) or ``"none"`` (kept on an ``__idle__`` line).
      table: name of the temporary result table; notes go to ``<table>_notes``.
      keep_steps: keep the intermediate tables ``<table>__nodes``, ``__usage``, ``__resources``,
        ``__pools`` (step 2), ``__workload`` (step 3), ``__namespaces`` and ``__idle`` (step 4),
        and the other ``<table>__*`` tables, for inspection and tests; by default they are dropped.
    """

    base_prices: BasePrices = BasePrices()
    idle: str = IDLE_WEIGHTED
    table: str = "k8s_namespace_costs"
    keep_steps: bool = False

    def __post_init__(self) -> None:
        if self.idle not in IDLE_MODES:
            raise ValueError(f"idle must be one of {', '.join(map(repr, IDLE_MODES))} (got {self.idle!r})")
        if not isinstance(self.base_prices, BasePrices):
            raise TypeError("base_prices must be a BasePrices")
        if not _IDENTIFIER.fullmatch(self.table or ""):
            raise ValueError(f"table must be a plain SQL name (letters, digits, _), got {self.table!r}")


class KubernetesInputError(ValueError):
    """The inputs cannot be allocated; ``problems`` lists each one (file, row, column, value).
    Nothing was created."""

    def __init__(self, problems: Sequence[Problem]):
        self.problems = tuple(problems)
        n = len(self.problems)
        lines = [str(p) for p in self.problems[:25]]
        if n > 25:
            lines.append(f"… and {n - 25} more")
        super().__init__("\n  ".join([f"{n} problem{'s' if n != 1 else ''} found; nothing was allocated:",
                                      *lines]))


def notes_table(table: str) -> str:
    """Name of the notes table written beside the result ``table``."""
    return f"{table}_notes"
