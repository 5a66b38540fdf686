"""Reading real files: CSV dialects and ragged rows, decimal commas, column types, repeated columns.

Each case runs through ``finops-xl ingest`` and ``finops-xl validate``, which must agree: both load
(or check) the file, or both refuse it naming the file, the line or row, the column and the value,
and nothing internal to the engine. Expected totals come from the files themselves (Python's csv
module and Decimal), never from the reader under test.
"""

from __future__ import annotations

import csv
import re
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from finops_xl.cli import main
from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest, validate
from tests.conftest import read_csv_rows, write_csv_rows
from tests.test_ingest import csv_totals, store_totals

D = Decimal
SAMPLES = Path(__file__).parent / "data" / "provider-samples"
TEST_CUR = SAMPLES / "aws-cur-legacy" / "test_cur.csv"

#: Words that belong to the engine, not to the user: none may reach a message.
INTERNAL = ("strict_mode", "null_padding", "ignore_errors", "__finops_xl", "read_csv", "sniff",
            "Invalid Input Error", "Binder Error", "Traceback", "DECIMAL(38)")


def _cli(command: str, path: Path | list[Path], tmp_path: Path, capsys) -> tuple[int, str]:
    """Run ``finops-xl ingest`` or ``validate`` on ``path``; (exit code, everything printed)."""
    paths = [str(p) for p in (path if isinstance(path, list) else [path])]
    argv = ["ingest", "--quiet", "--store", str(tmp_path / "cli.duckdb"), *paths] if command == "ingest" \
        else ["validate", *paths]
    rc = main(argv)
    out = capsys.readouterr()
    return rc, out.out + out.err


def _refused_by_both(path, tmp_path, capsys, *needles: str) -> str:
    """Both commands refuse ``path``; each message holds every needle and nothing internal."""
    messages = []
    for command in ("ingest", "validate"):
        rc, text = _cli(command, path, tmp_path, capsys)
        assert rc != 0, f"{command} accepted the file:\n{text}"
        for needle in needles:
            assert needle in text, f"{command}: {needle!r} not in\n{text}"
        for word in INTERNAL:
            assert word not in text, f"{command}: {word!r} in\n{text}"
        messages.append(text)
    return messages[0]


def _sample_rows(sample_csv: Path, n: int = 40) -> tuple[list[str], list[list[str]]]:
    header, rows = read_csv_rows(sample_csv)
    return header, [list(r) for r in rows[:n]]


def _write(path: Path, header: list[str], rows: list[list[str]], *, delimiter: str = ",",
           newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh, delimiter=delimiter, lineterminator=newline)
        w.writerow(header)
        w.writerows(rows)
    return path


# ---- 1. CSV dialects, ragged rows, messages --------------------------------------------------------


def _short_rows_file(sample_csv: Path, tmp_path: Path) -> tuple[Path, int]:
    """The sample with CRLF line ends and, on rows whose last field (Tags) is null, that field left
    out, as CUR generators write it; returns the file and how many rows are short."""
    header, rows = _sample_rows(sample_csv)
    assert header[-1] == "Tags"
    short = [r[:-1] if r[-1] == "NULL" else r for r in rows]
    n = sum(len(r) < len(header) for r in short)
    assert 0 < n < len(rows)
    return _write(tmp_path / "short.csv", header, short, newline="\r\n"), n


def test_rows_one_field_short_are_padded_with_a_notice(sample_csv, tmp_path, capsys):
    path, short = _short_rows_file(sample_csv, tmp_path)
    report = ingest([path], tmp_path / "s.duckdb")
    assert store_totals(tmp_path / "s.duckdb") == csv_totals(path)
    notices = [str(n) for n in report.all_notices if "fewer fields" in n.message]
    assert notices and f"{short} rows" in notices[0], report.all_notices
    checked = validate([path])
    assert [str(n) for n in checked[0].notices if "fewer fields" in n.message] == notices
    for command in ("ingest", "validate"):
        rc, text = _cli(command, path, tmp_path, capsys)
        assert rc == 0 and f"{short} rows" in text and "fewer fields" in text, text


def test_a_file_without_short_rows_has_no_padding_notice(sample_csv, tmp_path):
    header, rows = _sample_rows(sample_csv)
    path = _write(tmp_path / "full.csv", header, rows)
    assert not [n for n in validate([path])[0].notices if "fewer fields" in n.message]


def test_empty_last_fields_without_short_rows_are_read_in_one_pass(sample_csv, tmp_path, monkeypatch):
    """A last column that is empty on some rows, in a file with no short row: the values load as
    empty (null), no padding notice, and the load does not read the file again to tell a missing
    field from an empty one (that second pass is for files that do have short rows)."""
    import finops_xl.focus.reader as reader

    header, rows = _sample_rows(sample_csv)
    rows = [r + ["" if i % 2 else f"note {i}"] for i, r in enumerate(rows)]
    path = _write(tmp_path / "empty-last.csv", header + ["x_Comment"], rows)
    rereads = []
    monkeypatch.setattr(reader, "padding_notice", lambda *a, **k: rereads.append(a) or [])
    report = ingest([path], tmp_path / "s.duckdb")
    assert not rereads and not [n for n in report.all_notices if "fewer fields" in n.message]
    assert store_totals(tmp_path / "s.duckdb") == csv_totals(path)
    from finops_xl.store.store import CostStore

    with CostStore(tmp_path / "s.duckdb").reader() as con:
        got = con.execute("SELECT count(*), count(x_Comment) FROM charges").fetchall()[0]
    assert got == (len(rows), sum(1 for r in rows if r[-1]))


def test_a_row_with_too_many_fields_names_its_line_and_both_counts(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 20)
    rows[9] = rows[9] + ["surplus", "fields"]
    path = _write(tmp_path / "long.csv", header, rows)
    text = _refused_by_both(path, tmp_path, capsys, "long.csv", "line 11", f"{len(header) + 2} fields",
                            f"{len(header)} columns")
    assert len(max(text.splitlines(), key=len)) < 400


def test_an_unterminated_quote_names_its_line(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 20)
    path = _write(tmp_path / "quote.csv", header, rows)
    lines = path.read_text().splitlines(keepends=True)
    lines[5] = lines[5].replace(",", ',"', 1)
    path.write_text("".join(lines))
    _refused_by_both(path, tmp_path, capsys, "quote.csv", "line 6", "quote")


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_other_delimiters_are_read(delimiter, sample_csv, tmp_path):
    header, rows = _sample_rows(sample_csv)
    path = _write(tmp_path / "other.csv", header, rows, delimiter=delimiter)
    ingest([path], tmp_path / "s.duckdb")
    assert store_totals(tmp_path / "s.duckdb") == csv_totals(_write(tmp_path / "c.csv", header, rows))


def test_a_header_longer_than_the_first_kilobytes_is_read(sample_csv, tmp_path):
    header, rows = _sample_rows(sample_csv)
    extra = [f"x_Label{i:04d}_{'n' * 40}" for i in range(120)]  # a header line of ~6 KB
    path = _write(tmp_path / "wide.csv", header + extra, [r + [""] * len(extra) for r in rows])
    assert len(path.read_text().splitlines()[0]) > 4096
    assert validate([path])[0].rows == len(rows)


def _cur_rows() -> tuple[list[str], list[list[str]]]:
    with TEST_CUR.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        return next(reader), list(reader)


def test_the_generated_cur_file_with_short_rows_reads_and_ties(tmp_path, capsys):
    header, rows = _cur_rows()
    assert len(header) == 131 and {len(r) for r in rows} == {130}, "the sample's own shape"
    cost = header.index("lineItem/UnblendedCost")
    expected = sum((D(r[cost]) for r in rows), D(0))
    report = ingest([TEST_CUR], tmp_path / "s.duckdb")
    assert report.rows == len(rows)
    from finops_xl.store.store import CostStore

    with CostStore(tmp_path / "s.duckdb").reader() as con:
        billed = con.execute("SELECT sum(BilledCost) FROM charges").fetchall()[0][0]
    # the store keeps 12 decimal places (DECIMAL(38,12)); the file has up to 19: each row may round
    assert abs(D(billed) - expected) <= len(rows) * D("0.5E-12"), (billed, expected)
    assert D(billed).quantize(D("0.01")) == expected.quantize(D("0.01"))
    assert any(f"{len(rows)} rows" in str(n) and "fewer fields" in str(n) for n in report.all_notices)
    rc, text = _cli("validate", TEST_CUR, tmp_path, capsys)
    assert rc == 0 and "fewer fields" in text, text


def test_a_native_export_with_a_row_too_long_names_its_line(tmp_path, capsys):
    header, rows = _cur_rows()
    rows = [r + [""] for r in rows]  # complete rows
    rows[3] = rows[3] + ["surplus"]
    path = _write(tmp_path / "cur.csv", header, rows)
    _refused_by_both(path, tmp_path, capsys, "cur.csv", "line 5", "132 fields", "131 columns")


# ---- 2. decimal commas -----------------------------------------------------------------------------

_NUMERIC = ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost", "ListUnitPrice",
            "ContractedUnitPrice", "PricingQuantity", "ConsumedQuantity")


def _european(header: list[str], rows: list[list[str]], fmt) -> list[list[str]]:
    cols = [header.index(c) for c in _NUMERIC if c in header]
    out = []
    for r in rows:
        r = list(r)
        for i in cols:
            if r[i] not in ("", "NULL"):
                r[i] = fmt(D(r[i]))
        out.append(r)
    return out


def _comma(value: Decimal) -> str:
    return format(value, "f").replace(".", ",")


def _grouped(value: Decimal) -> str:
    """1234.5 → 1.234,5 (dot thousands, decimal comma)."""
    text = format(value, "f")
    whole, _, frac = text.partition(".")
    sign = "-" if whole.startswith("-") else ""
    whole = whole.lstrip("-")
    groups = re.sub(r"(?<=\d)(?=(\d{3})+$)", ".", whole)
    return sign + groups + ("," + frac if frac else "")


def _large(header, rows):
    """Rows with costs of some thousands, so that thousands separators appear."""
    b, e = header.index("BilledCost"), header.index("EffectiveCost")
    out = []
    for k, r in enumerate(rows):
        r = list(r)
        r[b] = str(D(r[b]) + D(1000 * (k % 7)) + D("0.25"))
        r[e] = str(D(r[e]) + D(1000 * (k % 5)) + D("0.5"))
        out.append(r)
    return out


def _euro(value: Decimal) -> str:
    """1234.5 → 1.234,5 € (as a spreadsheet formatted as currency saves it)."""
    return _grouped(value) + " €"


@pytest.mark.parametrize("fmt", [_comma, _grouped, _euro], ids=["decimal comma", "dot thousands", "euro sign"])
def test_a_semicolon_file_with_decimal_commas_loads_at_its_value(fmt, sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv)
    rows = _large(header, rows)
    plain = _write(tmp_path / "plain.csv", header, rows)
    path = _write(tmp_path / "eu.csv", header, _european(header, rows, fmt), delimiter=";")
    ingest([path], tmp_path / "s.duckdb")
    assert store_totals(tmp_path / "s.duckdb") == csv_totals(plain)
    assert validate([path])[0].rows == len(rows)
    rc, text = _cli("validate", path, tmp_path, capsys)
    assert rc == 0 and "decimal comma" in text, text


def test_a_file_mixing_decimal_marks_is_refused_naming_the_value(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv)
    rows = _european(header, _large(header, rows), _comma)
    b = header.index("BilledCost")
    rows[6][b] = "12.75"  # a decimal point among decimal commas
    path = _write(tmp_path / "mixed.csv", header, rows, delimiter=";")
    _refused_by_both(path, tmp_path, capsys, "mixed.csv", "row 7", "column BilledCost", "'12.75'")


# ---- 3. column types -------------------------------------------------------------------------------


def _parquet(sample_csv: Path, path: Path, column: str, array) -> Path:
    header, rows = _sample_rows(sample_csv, len(array))
    cols = {h: pa.array([r[i] if r[i] != "NULL" else None for r in rows]) for i, h in enumerate(header)}
    cols[column] = array
    pq.write_table(pa.table(cols), path)
    return path


def test_a_boolean_cost_column_is_refused(sample_csv, tmp_path, capsys):
    path = _parquet(sample_csv, tmp_path / "bool.parquet", "BilledCost", pa.array([True, False] * 10))
    _refused_by_both(path, tmp_path, capsys, "bool.parquet", "column BilledCost", "BOOLEAN", "number")


def test_a_list_account_id_is_refused(sample_csv, tmp_path, capsys):
    path = _parquet(sample_csv, tmp_path / "list.parquet", "BillingAccountId",
                    pa.array([[1, 2]] * 20, type=pa.list_(pa.int64())))
    _refused_by_both(path, tmp_path, capsys, "list.parquet", "column BillingAccountId", "list",
                     "one value")


def test_a_total_beyond_the_store_precision_is_refused_by_both(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 20)
    b = header.index("BilledCost")
    huge = "60000000000000000000000000"  # 6E25: fits DECIMAL(38,12) alone, two of them do not
    rows[2][b] = rows[4][b] = huge
    path = _write(tmp_path / "huge.csv", header, rows)
    assert sum(D(r[b]) for r in rows) >= D(10) ** 26
    _refused_by_both(path, tmp_path, capsys, "huge.csv", "row 5", "column BilledCost", huge)


# ---- 4. columns that would lose values -------------------------------------------------------------


def test_a_column_and_its_x_prefixed_twin_are_refused(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 20)
    path = _write(tmp_path / "twin.csv", header + ["Foo", "x_Foo"], [r + ["a", "b"] for r in rows])
    _refused_by_both(path, tmp_path, capsys, "twin.csv", "'Foo'", "'x_Foo'")


def test_a_repeated_cost_column_is_refused(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 20)
    b = header.index("BilledCost")
    path = _write(tmp_path / "twice.csv", header + ["BilledCost"], [r + [r[b]] for r in rows])
    _refused_by_both(path, tmp_path, capsys, "twice.csv", "'BilledCost'", "2 times")


def test_a_repeated_parquet_column_is_refused(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 20)
    arrays = [pa.array([r[i] for r in rows]) for i in range(len(header))]
    b = header.index("BilledCost")
    path = tmp_path / "twice.parquet"
    pq.write_table(pa.Table.from_arrays(arrays + [arrays[b]], names=header + ["BilledCost"]), path)
    _refused_by_both(path, tmp_path, capsys, "twice.parquet", "'BilledCost'", "2 times")


def test_a_refused_file_leaves_the_store_as_it_was(sample_csv, tmp_path):
    header, rows = _sample_rows(sample_csv, 20)
    good = _write(tmp_path / "good.csv", header, rows)
    ingest([good], tmp_path / "s.duckdb")
    path = _write(tmp_path / "twin.csv", header + ["Foo", "x_Foo"], [r + ["a", "b"] for r in rows])
    with pytest.raises(IngestError) as err:
        ingest([path], tmp_path / "s.duckdb")
    assert all(p.file == str(path) for p in err.value.problems)
    assert store_totals(tmp_path / "s.duckdb") == csv_totals(good)


def test_short_rows_in_a_file_with_line_breaks_inside_quoted_values(sample_csv, tmp_path, capsys):
    """The engine's parallel reader cannot pad such a file: it is read by one thread instead."""
    header, rows = _sample_rows(sample_csv)
    rows[3][header.index("ChargeDescription")] = "two\nlines, and a comma"
    short = [r[:-1] if r[-1] == "NULL" else r for r in rows]
    n = sum(len(r) < len(header) for r in short)
    path = _write(tmp_path / "multiline.csv", header, short)
    report = ingest([path], tmp_path / "s.duckdb")
    assert store_totals(tmp_path / "s.duckdb") == csv_totals(path)
    assert any(f"{n} rows" in str(x) and "fewer fields" in str(x) for x in report.all_notices)
    rc, text = _cli("validate", path, tmp_path, capsys)
    assert rc == 0 and f"{n} rows" in text, text


def test_a_native_export_with_short_rows_and_line_breaks_in_quoted_values_reads(tmp_path):
    header, rows = _cur_rows()
    rows[2][header.index("lineItem/LineItemDescription")] = "two\nlines, and a comma"
    path = _write(tmp_path / "cur.csv", header, rows)
    report = ingest([path], tmp_path / "s.duckdb")
    assert report.rows == len(rows)


def test_two_files_whose_total_is_beyond_the_store_precision_are_refused(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 10)
    b = header.index("BilledCost")
    huge = "60000000000000000000000000"
    first, second = [list(r) for r in rows[:5]], [list(r) for r in rows[5:]]
    first[0][b] = second[1][b] = huge
    paths = [_write(tmp_path / "a.csv", header, first), _write(tmp_path / "b.csv", header, second)]
    _refused_by_both(paths, tmp_path, capsys, "b.csv", "row 2", "column BilledCost", huge)


@pytest.mark.parametrize("delimiter, value", [("\t", "1,250"), ("\t", "1.250"), (";", "1.250")])
def test_a_value_that_reads_two_ways_is_refused(delimiter, value, sample_csv, tmp_path, capsys):
    """Nothing else in the file tells the decimal mark: 1.25 or 1250?"""
    header, rows = _sample_rows(sample_csv, 20)
    cols = [header.index(c) for c in _NUMERIC if c in header]
    for r in rows:
        for i in cols:
            if r[i] not in ("", "NULL"):
                r[i] = str(int(D(r[i])))  # whole numbers: no decimal mark at all
    rows[11][header.index("BilledCost")] = value
    path = _write(tmp_path / "twoways.csv", header, rows, delimiter=delimiter)
    _refused_by_both(path, tmp_path, capsys, "twoways.csv", "row 12", "column BilledCost", repr(value),
                     "two ways")


def test_columns_differing_only_in_letter_case_are_both_kept(tmp_path):
    """AWS tag keys are case-sensitive: resourceTags/user:Name and resourceTags/user:name may both
    be columns of one CUR. Neither is refused, neither is lost."""
    header, rows = _cur_rows()
    rows = [r + [""] for r in rows]
    header = header + ["resourceTags/user:Name", "resourceTags/user:name"]
    rows = [r + ["upper", "lower"] for r in rows]
    path = _write(tmp_path / "tags.csv", header, rows)
    assert ingest([path], tmp_path / "s.duckdb").rows == len(rows)
    from finops_xl.store.store import CostStore

    with CostStore(tmp_path / "s.duckdb").reader() as con:
        tags = con.execute("SELECT DISTINCT CAST(Tags AS VARCHAR) FROM charges").fetchall()
    assert any("upper" in (t or "") and "lower" in (t or "") for (t,) in tags), tags


def test_an_azure_export_with_a_row_too_long_names_its_line(tmp_path, capsys):
    source = SAMPLES / "azure-ea-actual" / "azure_version_2.csv"
    with source.open(newline="", encoding="utf-8-sig") as fh:
        rows = list(csv.reader(fh))
    rows[2] = rows[2] + ["surplus"]
    path = _write(tmp_path / "azure.csv", rows[0], rows[1:])
    _refused_by_both(path, tmp_path, capsys, "azure.csv", "line 3", f"{len(rows[0]) + 1} fields")


def test_bytes_that_are_not_utf8_name_their_line(sample_csv, tmp_path, capsys):
    header, rows = _sample_rows(sample_csv, 200)
    rows[150][header.index("ChargeDescription")] = "caf\N{LATIN SMALL LETTER E WITH ACUTE}"
    path = _write(tmp_path / "latin1.csv", header, rows)
    path.write_bytes(path.read_bytes().replace("é".encode(), "é".encode("latin-1")))
    assert len(path.read_bytes().split(b"\xe9")[0]) > 4096, "beyond the part the format check reads"
    _refused_by_both(path, tmp_path, capsys, "latin1.csv", "line 152", "UTF-8")


def _stored(path: Path) -> tuple[list, list]:
    """(the store's charges columns and types, every charge row as text, sorted)."""
    from finops_xl.store.store import CostStore

    with CostStore(path).reader() as con:
        columns = con.execute("DESCRIBE charges").fetchall()
        rows = sorted(con.execute("SELECT CAST(COLUMNS(*) AS VARCHAR) FROM charges").fetchall(), key=repr)
    return [c[:2] for c in columns], rows


def test_staged_csv_rows_become_the_load_without_a_copy_and_load_the_same(sample_csv, tmp_path, monkeypatch):
    """One group of CSV files (one header and dialect) is staged in the layout of the charges
    table and becomes it; the store holds exactly what a load that copies the staged rows holds
    (columns, types, order and every value), new extra columns included."""
    import finops_xl.focus.staging as staging

    header, rows = _sample_rows(sample_csv, 200)
    first = _write(tmp_path / "in" / "a.csv", header + ["x_Team"], [r + [f"team-{i % 3}"] for i, r in enumerate(rows[:120])])
    second = _write(tmp_path / "in" / "b.csv", header + ["x_Team"], [r + [""] for r in rows[120:]])
    adopted = []
    real = staging.adopt
    monkeypatch.setattr(staging, "adopt", lambda *a, **k: adopted.append(real(*a, **k)) or adopted[-1])
    ingest([first, second], tmp_path / "adopted")
    assert adopted == [True]
    monkeypatch.setattr(staging, "adopt", lambda *a, **k: False)
    ingest([first, second], tmp_path / "copied")
    assert _stored(tmp_path / "adopted") == _stored(tmp_path / "copied")
    assert store_totals(tmp_path / "adopted") == {
        p: tuple(a + b for a, b in zip(csv_totals(first).get(p, (0, 0, 0)), csv_totals(second).get(p, (0, 0, 0))))
        for p in csv_totals(first).keys() | csv_totals(second).keys()}
