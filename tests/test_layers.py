"""The architecture as the imports draw it: no circle between modules, no import that runs up the layers.

Every module of ``finops_xl``, ``finops_workbooks`` and ``finops_udfs`` is parsed with ``ast``; every
import counts, at any depth (inside functions, under ``if TYPE_CHECKING``), relative imports resolved.
An import names the deepest module it reaches (``from finops_xl.store import errors`` reaches
``finops_xl.store.errors``; ``from finops_xl.store.store import CostStore`` reaches
``finops_xl.store.store``); importing a module also runs the ``__init__`` of each package above it,
so those count too (except the importer's own packages, which run before it does).

Layers, bottom to top (``LAYERS``); a module may import its own layer's modules and those of the
layers below, never a layer above:

0. formats and money: ``finops_xl/__init__.py`` (only), ``focus/``, ``money``, ``months``, ``names``,
   ``inputs``, ``data/``, ``errors``, ``sources``, ``deliveries``, ``excel_functions``;
1. store and engines: ``store/``, ``engine/``, ``query/``, ``sample/``;
2. capabilities: ``allocation/``, ``close/``, ``commitments/``, ``planning/``, ``optimization/``,
   ``design/``, ``report/``;
3. faces: ``finops_workbooks``, ``finops_udfs``, ``finops_xl/cli/``.

Within a layer, packages may import one another in one direction only (no circle of packages); and
no modules import one another in a circle, anywhere.
"""

from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

#: installed top-level package → its folder in the repository.
PACKAGES = {
    "finops_xl": REPO / "finops_xl",
    "finops_udfs": REPO / "udfs" / "finops_udfs",
    "finops_workbooks": REPO / "workbooks" / "finops_workbooks",
}

#: layer → the packages and modules in it (a name covers everything beneath it).
LAYERS = {
    0: ("finops_xl", "finops_xl.focus", "finops_xl.money", "finops_xl.months", "finops_xl.names",
        "finops_xl.inputs", "finops_xl.data", "finops_xl.errors", "finops_xl.sources",
        "finops_xl.deliveries", "finops_xl.excel_functions"),
    1: ("finops_xl.store", "finops_xl.engine", "finops_xl.query", "finops_xl.sample"),
    2: ("finops_xl.allocation", "finops_xl.close", "finops_xl.commitments", "finops_xl.planning",
        "finops_xl.optimization", "finops_xl.design", "finops_xl.report"),
    3: ("finops_workbooks", "finops_udfs", "finops_xl.cli"),
}

LAYER_NAMES = {0: "formats and money", 1: "store and engines", 2: "capabilities", 3: "faces"}

#: entries that place only the module itself, not what lies beneath it (``finops_xl/__init__.py``,
#: the version): a new package under finops_xl must be given its layer.
ONLY_ITSELF = {"finops_xl"}


@dataclasses.dataclass(frozen=True)
class Import:
    """One module importing another: where (file and line), from which module, to which; implicit:
    a package above the module the statement names (its ``__init__`` runs first)."""

    source: str
    target: str
    file: str
    line: int
    implicit: bool = False

    def __str__(self) -> str:
        via = " (its package's __init__)" if self.implicit else ""
        return f"{self.file}:{self.line}: {self.source} → {self.target}{via}"


def modules(packages: dict[str, Path] = PACKAGES) -> dict[str, tuple[Path, bool]]:
    """Every module of ``packages``: dotted name → (file, is a package's ``__init__``)."""
    found = {}
    for top, folder in packages.items():
        for path in sorted(folder.rglob("*.py")):
            parts = [top, *path.relative_to(folder).with_suffix("").parts]
            is_package = parts[-1] == "__init__"
            if is_package:
                parts = parts[:-1]
            found[".".join(parts)] = (path, is_package)
    return found


def _reached(name: str, known) -> str | None:
    """The deepest known module that importing ``name`` (a module, or a name inside one) reaches."""
    while name and name not in known:
        name = name.rpartition(".")[0]
    return name or None


def _packages_above(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def imports(packages: dict[str, Path] = PACKAGES, root: Path = REPO) -> list[Import]:
    """Every import between two modules of ``packages`` (files named relative to ``root``)."""
    known = modules(packages)
    found: list[Import] = []
    for module, (path, is_package) in known.items():
        package = module if is_package else module.rpartition(".")[0]
        own = set(_packages_above(module))
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                    base_name = ".".join(base + ([node.module] if node.module else []))
                else:
                    base_name = node.module
                # ``from package import submodule`` reaches the submodule; any other name, the module
                # it is taken from (even the importer's own package: its __init__ may still be running)
                names = [f"{base_name}.{a.name}" if f"{base_name}.{a.name}" in known else base_name
                         for a in node.names]
            else:
                continue
            named = {t for t in (_reached(n, known) for n in names) if t is not None}
            above = {p for t in named for p in _packages_above(t) if p in known and p not in own} - named
            rel = path.relative_to(root).as_posix()
            found.extend(Import(module, t, rel, node.lineno) for t in sorted(named) if t != module)
            found.extend(Import(module, t, rel, node.lineno, True) for t in sorted(above) if t != module)
    return found


def layer_of(module: str) -> tuple[int, str]:
    """(layer, the layer's entry that holds ``module``): the longest entry that covers it."""
    best = None
    for layer, entries in LAYERS.items():
        for entry in entries:
            if module == entry or (entry not in ONLY_ITSELF and module.startswith(entry + ".")):
                if best is None or len(entry) > len(best[1]):
                    best = (layer, entry)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected parts (more than one member) of a directed graph (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0

    def visit(start: str) -> None:  # iterative: no recursion limit on deep graphs
        nonlocal counter
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    part = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        part.append(member)
                        if member == node:
                            break
                    if len(part) > 1:
                        found.append(sorted(part))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _describe(part: list[str], edges: list[Import], key) -> str:
    members = set(part)
    inside = [e for e in edges if key(e.source) in members and key(e.target) in members
              and key(e.source) != key(e.target)]
    named = [e for e in inside if not e.implicit]
    ties = sorted({str(e) for e in (named if {key(e.source) for e in named} == members else inside)})
    return f"{' ↔ '.join(part)}, tied by:\n    " + "\n    ".join(ties)


def test_every_module_is_in_a_layer():
    unplaced = []
    for module in modules():
        try:
            layer_of(module)
        except AssertionError as exc:
            unplaced.append(str(exc))
    assert not unplaced, "\n".join(unplaced)


def test_no_import_runs_up_the_layers():
    upward = []
    for imp in imports():
        if imp.implicit:  # a package above the named module is in its layer or below
            continue
        (here, _), (there, _) = layer_of(imp.source), layer_of(imp.target)
        if there > here:
            upward.append(f"{imp}  (layer {here} {LAYER_NAMES[here]} imports layer {there} "
                          f"{LAYER_NAMES[there]})")
    assert not upward, "imports that run up the layers:\n  " + "\n  ".join(sorted(upward))


def test_no_circle_between_modules():
    found = imports()
    edges: dict[str, set[str]] = {}
    for imp in found:
        edges.setdefault(imp.source, set()).add(imp.target)
    parts = circles(edges)
    assert not parts, "import circles between modules:\n  " + "\n  ".join(
        _describe(p, found, lambda m: m) for p in parts)


def test_no_circle_between_packages_of_a_layer():
    found = imports()

    def unit(module: str) -> str:
        return layer_of(module)[1]

    edges: dict[str, set[str]] = {}
    for imp in found:
        if unit(imp.source) != unit(imp.target):
            edges.setdefault(unit(imp.source), set()).add(unit(imp.target))
    parts = circles(edges)
    assert not parts, "packages that import each other:\n  " + "\n  ".join(
        _describe(p, found, unit) for p in parts)


# ---- the checker itself, on a made-up graph ------------------------------------------------------


def test_circles_finds_a_circle_and_ignores_a_chain():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": {"c"}}) == []


def test_layer_of_takes_the_longest_entry():
    assert layer_of("finops_xl.store.ingest") == (1, "finops_xl.store")
    assert layer_of("finops_xl.money") == (0, "finops_xl.money")
    assert layer_of("finops_xl") == (0, "finops_xl")
    assert layer_of("finops_udfs.server_app.custom_functions") == (3, "finops_udfs")
    with pytest.raises(AssertionError, match="in no layer"):
        layer_of("finops_xl.newcomer")


def test_imports_are_found_at_any_depth_and_relative_ones_resolved(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import b\n")
    (pkg / "a.py").write_text("def f():\n    from .sub.b import g\n    return g\n")
    (pkg / "sub" / "b.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                      "    from ..a import f\nimport pkg.c\n")
    (pkg / "c.py").write_text("from pkg import sub\n")
    found = {(i.source, i.target, i.line, i.implicit) for i in imports({"pkg": pkg}, tmp_path)}
    assert ("pkg.a", "pkg.sub.b", 2, False) in found  # inside a function, relative
    assert ("pkg.a", "pkg.sub", 2, True) in found  # the package __init__ the import runs
    assert ("pkg.sub.b", "pkg.a", 3, False) in found  # under TYPE_CHECKING, two dots up
    assert ("pkg.sub", "pkg.sub.b", 1, False) in found  # ``from . import b`` in a package
    assert ("pkg.c", "pkg.sub", 1, False) in found
    edges: dict[str, set[str]] = {}
    for source, target, _, _ in found:
        edges.setdefault(source, set()).add(target)
    # a ⇄ sub.b directly; sub.b → c → sub → sub.b through the package __init__
    assert circles(edges) == [["pkg.a", "pkg.c", "pkg.sub", "pkg.sub.b"]]
