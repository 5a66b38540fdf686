"""Read one FOCUS export as canonical FOCUS 1.2 rows: map its columns, validate it, type it.

Everything here is SQL that DuckDB streams over the file; no billing row passes through Python.

Steps, in order, for one file:

1. **Map columns.** Each column of the file is matched to a FOCUS column of any version (exact name,
   else case-insensitively, recorded as a normalization), or to its successor/predecessor where a
   version renamed it. Any other column is kept as an extra, prefixed ``x_`` unless it already is.
2. **Detect the version** (``schema.detect_version``) and report mandatory columns that are missing.
3. **Validate every row** with one aggregate query (numbers, timestamps, period order, allowed values,
   Tags JSON, ISO 4217 currency, values the store needs to key a row). For each failing check a
   second query finds the first offending row, so the error names file, row, column and value.
4. **Normalize** known real-world deviations instead of rejecting them (``Usage-based`` →
   ``Usage-Based``, an empty string where the spec means null, ``usd`` → ``USD``) and count them.
5. **Type**: a SELECT producing the canonical columns with DECIMAL money and UTC TIMESTAMPs; columns the
   file lacks are null (the upgrade to the 1.2 canonical form); 1.3 columns and extras pass through.

Before step 3 a file is refused whose columns would lose values or cannot hold them
(``columns``: a column named twice, ``Foo`` beside ``x_Foo``, a BOOLEAN cost, a list of ids), and a
CSV not separated by commas has its decimal mark decided (``amounts``). Reading a CSV and what
can go wrong with it is ``csvfiles``; finding the row that holds a value is ``locate``.
"""

from __future__ import annotations

import dataclasses
import difflib

import duckdb

from finops_xl.focus import amounts, locate, schema
from finops_xl.focus.amounts import STORE_LIMIT, number_from_text
from finops_xl.focus.columns import (
    NUMERIC_KINDS, ColumnMap, Normalization, colliding_columns, is_float, is_text, iso_currency_codes,
    map_columns, repeated_parquet_columns, type_problems, value_map,
)
from finops_xl.focus.csvfiles import needs_one_thread, padding_notice, read_failure, serial
from finops_xl.focus.schema import Kind
from finops_xl.errors import IngestError, Notice, Problem
from finops_xl.sources import SourceFile, reader_sql, sql_identifier, sql_literal

#: Columns that must hold a value on every row for the store to key, date and total it
#: (Mandatory and not nullable in every FOCUS version).
REQUIRED_VALUES = (
    "ProviderName",
    "BillingAccountId",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ChargeCategory",
    "BilledCost",
    "EffectiveCost",
    "BillingCurrency",
)

#: Text columns of the slice key: surrounding spaces are removed (a restated export with a trailing
#: space must replace its month, not land beside it).
TRIMMED = ("ProviderName", "BillingAccountId")

#: Date-time columns read as the provider's wall-clock time: a billing period is calendar days, so
#: ``2024-09-01T00:00:00+02:00`` is the period starting 2024-09-01, not 2024-08-31T22:00 UTC.
WALL_CLOCK = ("BillingPeriodStart", "BillingPeriodEnd")

#: A UTC offset at the end of an ISO 8601 date-time.
_OFFSET = r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)$"

#: Pairs whose end must not be before their start.
PERIODS = (("ChargePeriodStart", "ChargePeriodEnd"), ("BillingPeriodStart", "BillingPeriodEnd"))


@dataclasses.dataclass(frozen=True)
class _Check:
    column: str  # the file's column name (or names, for a pair)
    condition: str  # SQL, true on a bad row
    value: str  # SQL text of the offending value
    message: str
    allowed: tuple[str, ...] = ()  # a closed value set, for "did you mean"


def _q(name: str) -> str:
    return sql_identifier(name)


class FocusFile:
    """One FOCUS export, mapped to the canonical schema; the SQL that validates and types it.

    Args:
      con: a DuckDB connection (its session time zone must be UTC; see ``store.connect``).
      source: the file.
      partial: accept a file that lacks mandatory columns (the spec's own examples are column
        excerpts). The store never loads partial files: it needs every row keyed.
    """

    def __init__(self, con: duckdb.DuckDBPyConnection, source: SourceFile, *, partial: bool = False):
        self.con = con
        self.source = source
        self.partial = partial
        try:
            described = con.sql(f"DESCRIBE SELECT * FROM {source.reader_sql()}").fetchall()
        except duckdb.Error as exc:
            raise IngestError([Problem(source.label, read_failure(source, exc))]) from None
        self.header: tuple[tuple[str, str], ...] = tuple((r[0], r[1]) for r in described)
        names = [n for n, _ in self.header]
        try:
            self.version = schema.detect_version(names)
        except ValueError as exc:
            from finops_xl.focus.convert import NATIVE_FORMATS_EXPECTED

            raise IngestError([Problem(
                source.label, f"not a FOCUS export: {exc}. {NATIVE_FORMATS_EXPECTED}")]) from None
        self.maps, self.column_normalizations = map_columns(self.header)
        refused = (repeated_parquet_columns(con, source) + colliding_columns(source.label, self.maps)
                   + type_problems(source.label, self.maps))
        if refused:
            raise IngestError(refused)
        self.decimal_comma = self._decimal_comma()
        mapped = {m.target for m in self.maps}
        self.missing = tuple(c for c in schema.mandatory_columns(self.version) if c not in mapped)
        self.rows: int | None = None  # known after problems()
        self._normalized_columns: tuple[ColumnMap, ...] = ()
        self._verified = False  # True once problems() found none: clean columns pass through
        self.notices: tuple[Notice, ...] = ()  # what reading the file did (e.g. short rows padded)
        self.money_totals: dict[str, float] = {}  # store column → Σ |amount|, known after problems()

    # ---- mapping ---------------------------------------------------------------------------------

    @property
    def extras(self) -> tuple[str, ...]:
        """Store names of the file's non-FOCUS columns."""
        return tuple(m.target for m in self.maps if m.focus is None)

    def target_types(self) -> dict[str, str]:
        """Store column → SQL type, for every column this file brings."""
        return {
            m.target: (schema.SQL_TYPES[m.focus.kind] if m.focus else "VARCHAR") for m in self.maps
        }

    def _map_for(self, target: str) -> ColumnMap | None:
        for m in self.maps:
            if m.target == target:
                return m
        return None

    # ---- expressions -----------------------------------------------------------------------------

    def expression(self, m: ColumnMap) -> str:
        """SQL producing the store value of one mapped column from the raw file column."""
        src = _q(m.source)
        col = m.focus
        text = is_text(m.source_type)
        if col is None:
            return src if m.source_type.upper() == "VARCHAR" else f"CAST({src} AS VARCHAR)"
        kind = col.kind
        sql_type = schema.SQL_TYPES[kind]
        if m.source_type.upper() == sql_type and kind is not Kind.STRING:
            return src  # already the store's type: pass through untouched (fast for Parquet)
        if kind in NUMERIC_KINDS:
            if text:
                return number_from_text(src, sql_type, self.decimal_comma)
            return f"TRY_CAST({src} AS {sql_type})"
        if kind is Kind.DATETIME:
            t = m.source_type.upper()
            if text:
                t = f"trim({src})"
                if m.target in WALL_CLOCK:
                    return (f"(CASE WHEN regexp_full_match({t}, '{_ISO_8601}') "
                            f"THEN TRY_CAST(regexp_replace({t}, '{_OFFSET}', '') AS TIMESTAMP) END)")
                return (f"(CASE WHEN regexp_full_match({t}, '{_ISO_8601}') "
                        f"THEN TRY_CAST({t} AS TIMESTAMPTZ) AT TIME ZONE 'UTC' END)")
            if "WITH TIME ZONE" in t or t == "TIMESTAMPTZ":
                return f"({src} AT TIME ZONE 'UTC')"
            return f"CAST({src} AS TIMESTAMP)"
        if kind is Kind.JSON:
            if text:
                return f"CAST(NULLIF(trim({src}), '') AS JSON)"
            return f"CAST(to_json({src}) AS JSON)"
        as_text = src if text else f"CAST({src} AS VARCHAR)"
        if m.target in TRIMMED:
            return f"NULLIF(trim({as_text}), '')"
        if self._verified and m not in self._normalized_columns:
            return as_text  # validated: every value is already canonical, no empty strings
        if kind is Kind.CURRENCY:
            return f"NULLIF(upper(trim({as_text})), '')"
        if col.allowed_values:
            cases = " ".join(
                f"WHEN {sql_literal(k)} THEN {sql_literal(v)}" for k, v in value_map(col).items()
            )
            return f"(CASE lower(trim({as_text})) {cases} ELSE NULL END)"
        return f"NULLIF({as_text}, '')"

    def select_list(self) -> dict[str, str]:
        """Store column → SQL expression, for every column this file brings."""
        return {m.target: self.expression(m) for m in self.maps}

    # ---- validation ------------------------------------------------------------------------------

    def _checks(self) -> list[_Check]:
        checks: list[_Check] = []
        for m in self.maps:
            col, src = m.focus, _q(m.source)
            if col is None:
                continue
            text = is_text(m.source_type)
            raw = f"NULLIF(trim(CAST({src} AS VARCHAR)), '')"
            expr = self.expression(m)
            if col.kind in NUMERIC_KINDS:
                if text:
                    checks.append(_Check(m.source, f"{raw} IS NOT NULL AND {expr} IS NULL", raw,
                                         "is not a number"))
                elif is_float(m.source_type):
                    checks.append(_Check(m.source, f"{src} IS NOT NULL AND NOT isfinite({src})",
                                         f"CAST({src} AS VARCHAR)", "is not a finite number"))
                if not text:
                    checks.append(_Check(m.source, f"{src} IS NOT NULL AND {expr} IS NULL",
                                         f"CAST({src} AS VARCHAR)",
                                         "is out of range for DECIMAL(38,12)"))
            elif col.kind is Kind.DATETIME and text:
                checks.append(_Check(
                    m.source, f"{raw} IS NOT NULL AND {expr} IS NULL", raw,
                    "is not a valid date-time (ISO 8601 UTC expected, e.g. 2024-09-01T00:00:00Z)"))
            elif col.kind is Kind.JSON and text:
                checks.append(_Check(
                    m.source,
                    f"{raw} IS NOT NULL AND NOT (CASE WHEN json_valid({raw}) "
                    f"THEN starts_with(ltrim({raw}), '{{') ELSE false END)",
                    raw, "is not a valid JSON object"))
        if not self.partial:
            for name in REQUIRED_VALUES:
                m = self._map_for(name)
                if m is not None:
                    empty = (f"NULLIF(trim({_q(m.source)}), '') IS NULL" if is_text(m.source_type)
                             else f"{_q(m.source)} IS NULL")
                    checks.append(_Check(m.source, empty, "NULL",
                                         "is empty, but every row needs a value here"))
        for start, end in PERIODS:
            ms, me = self._map_for(start), self._map_for(end)
            if ms is None or me is None:
                continue
            es, ee = self.expression(ms), self.expression(me)
            checks.append(_Check(
                me.source, f"{ee} < {es}",
                f"CAST({_q(ms.source)} AS VARCHAR) || ' > ' || CAST({_q(me.source)} AS VARCHAR)",
                f"{end} is before {start}"))
        return checks

    def problems(self) -> list[Problem]:
        """Everything wrong with the file (empty when it can be loaded); see ``check_files``."""
        return check_files(self.con, [self])[0]

    def _value_sets(self) -> list[ColumnMap]:
        """Columns with a closed value set (enumerations, ISO currency): checked on their distinct
        values rather than row by row, which is much cheaper on large files."""
        return [m for m in self.maps if m.focus is not None
                and (m.focus.allowed_values or (m.focus.kind is Kind.CURRENCY and m.focus.currency_iso_only))]

    def _count_sql(self) -> str:
        """The aggregate list: rows, one count per row check, one per normalization probe, then the
        distinct values of each value-set column."""
        return ", ".join(
            ["count(*)"]
            + [f"count_if({c.condition})" for c in self._checks()]
            + [f"count_if({cond})" for _, cond in self._normalization_probes()]
            + [f"array_agg(DISTINCT CAST({_q(m.source)} AS VARCHAR))" for m in self._value_sets()]
            + [f"sum(abs(TRY_CAST({self.expression(m)} AS DOUBLE)))" for m in self._money()]
            + ([f"count_if({_q(self.source.columns[-1])} IS NULL)"] if self._csv_columns() else [])
        )

    def _money(self) -> list[ColumnMap]:
        """Money columns, whose total over the file must fit the store's DECIMAL(38,12)."""
        return [m for m in self.maps if m.focus is not None and m.focus.kind is Kind.MONEY]

    def _csv_columns(self) -> bool:
        return self.source.format in ("csv", "csv.gz") and bool(self.source.columns)

    def validation_sql(self) -> str:
        """The aggregate list that validates this file in one pass over its rows (any engine runs
        it: ``check_files`` on DuckDB, ``engine.spark_store.ingest_spark`` on Spark)."""
        return self._count_sql()

    def problems_from(self, counts: tuple | None) -> list[Problem]:
        """The file's problems from the results of ``validation_sql`` (None: the file had no rows).
        Locating a failing row reads the file again through this file's DuckDB connection."""
        return self._absorb(counts)

    def _value_set_check(self, m: ColumnMap, distinct: list) -> tuple[_Check | None, bool]:
        """(a check matching the rows whose value is not allowed, or None; whether any value needs
        normalizing), from a column's distinct values."""
        col = m.focus
        assert col is not None
        if col.allowed_values:
            lookup, exact = value_map(col), set(col.allowed_values)
            fold = str.lower
            values = col.allowed_values
            allowed = (", ".join(values) if len(values) <= 12
                       else f"one of the {len(values)} values the FOCUS spec lists")
            message, hint = f"is not an allowed {col.name} value (allowed: {allowed})", values
        else:
            lookup = exact = iso_currency_codes()
            fold = str.upper
            message, hint = "is not an ISO 4217 currency code", ()
        present = [v for v in distinct if v is not None]
        bad = [v for v in present if v.strip() and fold(v.strip()) not in lookup]
        needs_repair = any(v not in exact for v in present)
        if not bad:
            return None, needs_repair
        src = f"CAST({_q(m.source)} AS VARCHAR)"
        condition = f"{src} IN ({', '.join(sql_literal(v) for v in bad)})"
        return _Check(m.source, condition, f"NULLIF(trim({src}), '')", message, hint), needs_repair

    def _absorb(self, counts: tuple | None) -> list[Problem]:
        """Turn the aggregate results into problems; remember rows and what needs normalizing."""
        label = self.source.label
        found = [Problem(label, f"missing mandatory FOCUS {self.version} column", column=c)
                 for c in self.missing] if not self.partial else []
        checks = self._checks()
        probes = self._normalization_probes()
        sets = self._value_sets()
        money = self._money()
        n_checks, n_probes = len(checks), len(probes)
        tail = (0,) if self._csv_columns() else ()
        counts = counts or (0,) + (0,) * (n_checks + n_probes) + ([],) * len(sets) + (0,) * len(money) + tail
        self.rows = int(counts[0])
        if self.rows == 0:
            found.append(Problem(label, "file has a header but no data rows"))
        check_counts = counts[1 : 1 + n_checks]
        probe_counts = counts[1 + n_checks : 1 + n_checks + n_probes]
        start = 1 + n_checks + n_probes
        distincts = counts[start : start + len(sets)]
        totals = counts[start + len(sets) : start + len(sets) + len(money)]
        last_nulls = counts[-1] if tail else 0
        self.money_totals = {m.target: float(t or 0) for m, t in zip(money, totals)}
        for m, total in zip(money, totals):
            if total is not None and total >= STORE_LIMIT:
                found.append(amounts.beyond_limit(self.con, self.source, m.source, m.target,
                                                  self.expression(m)))
        normalized = [m for (m, _), n in zip(probes, probe_counts) if n]
        failing = [(c, int(n)) for c, n in zip(checks, check_counts) if n]
        for m, distinct in zip(sets, distincts):
            check, needs_repair = self._value_set_check(m, list(distinct or []))
            if needs_repair:
                normalized.append(m)
            if check is not None:
                failing.append((check, None))
        self._normalized_columns = tuple(normalized)
        self._verified = not failing and not found
        if self._verified and last_nulls:
            self.notices = tuple(padding_notice(self.con, self.source, int(last_nulls)))
        for check, n in failing:
            row, value = self._locate(check)
            if n is None:
                n = int(self.con.sql(
                    f"SELECT count_if({check.condition}) FROM {self.source.reader_sql()}").fetchall()[0][0])
            message = check.message
            close = difflib.get_close_matches(value or "", check.allowed, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean {close[0]!r}?"
            found.append(Problem(label, message, row=row, column=check.column,
                                 value=value, count=n))
        return found

    def _decimal_comma(self) -> bool:
        """Whether this file's numbers use a decimal comma (``amounts.decimal_comma``)."""
        numeric = [m.source for m in self.maps if m.focus is not None and m.focus.kind in NUMERIC_KINDS
                   and is_text(m.source_type)]
        comma, self.source = amounts.decimal_comma(self.con, self.source, numeric)
        return comma

    def _locate(self, check: _Check) -> tuple[int | None, str | None]:
        """First row (1-based, header excluded) failing ``check``, and its value."""
        return locate.first(self.con, self.source, check.value, check.condition)

    # ---- normalization ---------------------------------------------------------------------------

    def _normalization_probes(self) -> list[tuple[ColumnMap, str]]:
        """(column, SQL true on a row whose value ``expression`` repairs), per repairable column."""
        probes = []
        for m in self.maps:
            col = m.focus
            if col is None:
                continue
            if col.kind in NUMERIC_KINDS and is_text(m.source_type):
                raw = f"NULLIF(trim({_q(m.source)}), '')"
                unusual = (f"regexp_matches({raw}, '[.,]')" if self.decimal_comma
                           else f"TRY_CAST({raw} AS DOUBLE) IS NULL")
                probes.append((m, f"{raw} IS NOT NULL AND {unusual} AND {self.expression(m)} IS NOT NULL"))
            elif col.allowed_values or (col.kind is Kind.CURRENCY and col.currency_iso_only):
                continue  # judged on distinct values: see _value_set_check
            elif col.kind is Kind.CURRENCY:
                src = _q(m.source) if is_text(m.source_type) else f"CAST({_q(m.source)} AS VARCHAR)"
                probes.append((m, f"{src} IS NOT NULL AND {src} IS DISTINCT FROM {self.expression(m)}"))
            elif col.kind is Kind.STRING:
                src = _q(m.source) if is_text(m.source_type) else f"CAST({_q(m.source)} AS VARCHAR)"
                if m.target in TRIMMED:
                    probes.append((m, f"{src} <> trim({src})"))
                else:
                    probes.append((m, f"{src} = ''"))
            elif col.kind is Kind.DATETIME and m.target in WALL_CLOCK and is_text(m.source_type):
                t = f"trim({_q(m.source)})"
                probes.append((m, f"regexp_matches({t}, '[+-][0-9]{{2}}(:?[0-9]{{2}})?$') "
                                  f"AND NOT regexp_matches({t}, '[+-]00(:?00)?$')"))
        return probes

    def value_normalizations(self) -> list[Normalization]:
        """Values repaired by ``expression`` (enumeration spelling, empty → null, currency case).

        Call after ``problems()``, which finds the columns that need it in its aggregate pass.
        """
        parts = []
        probes = dict((m.target, cond) for m, cond in self._normalization_probes())
        for m in self._value_sets():
            src = f"CAST({_q(m.source)} AS VARCHAR)"
            exact = m.focus.allowed_values or tuple(sorted(iso_currency_codes()))
            probes[m.target] = f"{src} IS NOT NULL AND {src} NOT IN ({', '.join(sql_literal(v) for v in exact)})"
        for m in self._normalized_columns:
            src = _q(m.source) if is_text(m.source_type) else f"CAST({_q(m.source)} AS VARCHAR)"
            expr = f"CAST({self.expression(m)} AS VARCHAR)"
            if m.focus is not None and m.focus.kind in NUMERIC_KINDS:
                # many distinct amounts: one line per column, with the first example
                select = f"min({src}) AS original, arg_min({expr}, {src}) AS normalized, 'number'"
                group = ""
            else:
                select = f"{src} AS original, {expr} AS normalized, 'value'"
                group = " GROUP BY ALL"
            parts.append(
                f"SELECT {sql_literal(m.target)} AS col, {select} AS what, count(*) AS n "
                f"FROM {self.source.reader_sql()} WHERE {probes[m.target]}{group}"
            )
        if not parts:
            return []
        rows = self.con.sql(" UNION ALL ".join(parts) + " ORDER BY 1, 2").fetchall()
        out = []
        for col, original, normalized, what, n in rows:
            if what == "number" and self.decimal_comma:
                note = ("decimal comma read: the file writes numbers the European way (1.234,50 is "
                        "1234.50), so its commas were read as decimal marks")
            elif what == "number":
                note = "formatted number (currency sign, thousands separators) read as a plain number"
            elif col in WALL_CLOCK:
                note = "UTC offset of a billing period date ignored (billing periods are calendar days)"
            elif col in TRIMMED and normalized is not None and original is not None and original.strip() == normalized:
                note = "surrounding spaces removed"
            elif normalized is None:
                note = "empty text read as null"
            else:
                note = "spelling normalized to the FOCUS value"
            out.append(Normalization(col, original, normalized, int(n), note))
        return out

    def plan_key(self) -> tuple:
        """Files with equal keys are read and typed by the same SQL (one reader over all of them)."""
        return (self.source.format, self.source.delimiter, self.source.parallel, self.header, self.decimal_comma,
                tuple(m.target for m in self._normalized_columns), self._verified)

    def select_sql(
        self,
        columns: dict[str, str] | None = None,
        extra: dict[str, str] | None = None,
        reader: str | None = None,
    ) -> str:
        """``SELECT <typed canonical columns> FROM <file>``.

        Args:
          columns: store column → SQL type of the target table; columns the file lacks are selected
            as typed nulls (defaults to the canonical 1.2 columns plus this file's own).
          extra: further store column → SQL expression (e.g. lineage columns).
          reader: the FROM clause, when one reader streams several files with this file's plan.
        """
        exprs = self.select_list()
        if columns is None:
            columns = {c.name: schema.SQL_TYPES[c.kind] for c in schema.canonical_columns()}
            columns.update(self.target_types())
        items = []
        for name, sql_type in columns.items():
            if extra and name in extra:
                items.append(f"{extra[name]} AS {_q(name)}")
            elif name in exprs:
                items.append(f"CAST({exprs[name]} AS {sql_type}) AS {_q(name)}")
            else:
                items.append(f"CAST(NULL AS {sql_type}) AS {_q(name)}")
        return f"SELECT {', '.join(items)} FROM {reader or self.source.reader_sql()}"


def read_together(files: list[FocusFile]) -> list[list[int]]:
    """The indexes of ``files`` in groups that one reader reads together: the same format, dialect,
    header and reading options."""
    groups: dict[tuple, list[int]] = {}
    for i, f in enumerate(files):
        groups.setdefault((f.source.format, f.source.delimiter, f.source.parallel, f.header,
                           f.decimal_comma, f.partial), []).append(i)
    return list(groups.values())


def check_files(con: duckdb.DuckDBPyConnection, files: list[FocusFile]) -> list[list[Problem]]:
    """Validate files; returns each file's problems (empty when it can be loaded).

    Files that share format, dialect and header are checked by one aggregate query over all of
    them, grouped by file, so DuckDB parallelizes across files. For each failing check one more
    query finds the file's first offending row.
    """
    results: dict[int, list[Problem]] = {}
    for members in read_together(files):
        first = files[members[0]]
        src = "__finops_xl_source_path"
        reader = reader_sql([files[i].source for i in members], filename_column=src)
        try:
            rows = con.sql(
                f"SELECT {sql_identifier(src)}, {first._count_sql()} FROM {reader} GROUP BY 1"
            ).fetchall()
        except duckdb.Error as exc:
            if len(members) == 1:
                f = files[members[0]]
                if needs_one_thread(f.source, exc):
                    f.source = serial(f.source)
                    results[members[0]] = check_files(con, [f])[0]
                    continue
                results[members[0]] = [Problem(f.source.label, read_failure(f.source, exc))]
            else:  # find which file cannot be read
                for i in members:
                    results[i] = check_files(con, [files[i]])[0]
            continue
        by_path = {r[0]: tuple(r[1:]) for r in rows}
        for i in members:
            results[i] = files[i]._absorb(by_path.get(str(files[i].source.path)))
    _beyond_limit_together(files, results)
    return [results[i] for i in range(len(files))]


def _beyond_limit_together(files: list[FocusFile], results: dict[int, list[Problem]]) -> None:
    """Files that each fit the store's DECIMAL(38,12) may not together (one load sums them per slice):
    the file, row and value where the running total of a money column passes the limit."""
    if any(results[i] for i in range(len(files))):
        return
    running: dict[str, float] = {}
    for i, f in enumerate(files):
        for target, total in f.money_totals.items():
            before = running.get(target, 0.0)
            running[target] = before + total
            if running[target] >= STORE_LIMIT:
                m = f._map_for(target)
                assert m is not None
                results[i].append(amounts.beyond_limit(f.con, f.source, m.source, target, f.expression(m),
                                                       offset=before))
                return


#: ISO 8601 date-time as FOCUS writes it (``2024-09-01T00:00:00Z``), also with a space for ``T``,
#: fractional seconds, an offset, or no zone (read as UTC). Anything else, e.g. ``12/1/25``
#: (month/day or day/month?), is refused rather than guessed.
_ISO_8601 = (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?)?"
             r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$")
