"""Which Azure cost-details files convert together: actual-cost and amortized-cost exports as pairs,
either one alone otherwise.

Files of one kind (actual cost, counting a file whose rows do not tell as actual; amortized cost),
file type and column set are read together. An actual-cost set and an amortized-cost set pair when
they have the same column set or share a (billing account, month), whatever their column layouts,
so one month is never loaded as two single exports added up. A pair must cover the same billing
accounts and months; a set that would pair with several others is refused (the user says which
exports belong together by loading them in separate commands). Any other set converts alone.
"""

from __future__ import annotations

import duckdb

from finops_xl.focus.convert import azure
from finops_xl.errors import IngestError, Problem
from finops_xl.sources import SourceFile


def azure_groups(con: duckdb.DuckDBPyConnection, files: list, problems: list[Problem]) -> list:
    """``NativeGroup``s of the Azure cost-details ``files`` ((source, header, kind) each); what
    cannot be grouped is appended to ``problems``."""
    from finops_xl.focus.convert.groups import NativeGroup, _reader, _show_periods

    from finops_xl.focus.convert import azure_checks

    by_set: dict[tuple, list] = {}
    for source, header, _ in files:
        problems.extend(azure_checks.currency_problems(con, source, header))
    for source, header, kind in files:
        side = azure.AMORTIZED if kind == azure.AMORTIZED else azure.ACTUAL
        by_set.setdefault((side, source.format, header.columns), []).append((source, header, kind))
    sets = [(key, members, _periods(con, members)) for key, members in by_set.items()]
    actual_sets = [s for s in sets if s[0][0] == azure.ACTUAL]
    amortized_sets = [s for s in sets if s[0][0] == azure.AMORTIZED]

    def partners(one, others):
        return [o for o in others if o[0][1:] == one[0][1:] or o[2] & one[2]]

    def labels(members) -> list[str]:
        return [m[0].label for m in members]

    groups = []
    paired: set[int] = set()
    for a in actual_sets:
        found = partners(a, amortized_sets)
        guessed = tuple(m[0].label for m in a[1] if m[2] == azure.UNKNOWN)
        if not found:
            groups.append(NativeGroup(azure.ACTUAL, tuple(m[0] for m in a[1]), a[1][0][1], guessed=guessed))
            continue
        if len(found) > 1 or len(partners(found[0], actual_sets)) > 1:
            several = [m for s in (a, *found) for m in s[1]]
            problems.extend(Problem(label, (
                "Azure actual-cost and amortized-cost exports of the same months in several column "
                f"layouts ({', '.join(labels(several))}): which of them belong together is not clear; "
                "load each actual-cost export with its own amortized-cost export in a separate command"))
                for label in labels(several))
            paired.update(id(s) for s in found)
            continue
        m = found[0]
        paired.add(id(m))
        if a[2] != m[2]:
            problems.extend(Problem(label, (
                f"the Azure actual-cost and amortized-cost exports cover different billing accounts or "
                f"months (actual only: {_show_periods(a[2] - m[2])}; amortized only: "
                f"{_show_periods(m[2] - a[2])}); give both exports of every month"))
                for label in labels(a[1] + m[1]))
            continue
        sources: tuple[SourceFile, ...] = tuple(x[0] for x in a[1] + m[1])
        groups.append(NativeGroup(azure.PAIR, sources, a[1][0][1], amortized=len(m[1]),
                                  amortized_header=m[1][0][1], guessed=guessed))
    for m in amortized_sets:
        if id(m) not in paired:
            groups.append(NativeGroup(azure.AMORTIZED, tuple(x[0] for x in m[1]), m[1][0][1],
                                      amortized=len(m[1]), amortized_header=m[1][0][1]))
    return groups


def _periods(con: duckdb.DuckDBPyConnection, members: list) -> set:
    """The billing accounts and months of a set of Azure files; a file that cannot be read is named
    with its line (IngestError), never the engine's error."""
    from finops_xl.focus.convert.groups import _reader

    try:
        return azure.periods(con, members[0][1], _reader(m[0] for m in members))
    except duckdb.Error as exc:
        from finops_xl.focus import csvfiles

        csvfiles.check_readable(con, [m[0] for m in members])  # raises naming the file and line
        raise IngestError([Problem(" + ".join(m[0].label for m in members),
                                   f"cannot be read as an Azure cost export: {str(exc).splitlines()[0]}")]) from None
