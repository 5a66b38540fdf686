"""Bad input: every case gets a clear message naming the file (and row/column where it applies),
and leaves the store exactly as it was."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from finops_xl.store.errors import IngestError
from finops_xl.store.ingest import ingest
from tests.conftest import copy_store, file_digest, read_csv_rows, write_csv_rows


def _edit(row: int, column: str, value: str):
    """A case that sets one cell (data row ``row``, 1-based) of a 20-row slice of the sample."""
    def make(sample: Path, out: Path) -> Path:
        header, rows = read_csv_rows(sample)
        rows = [list(r) for r in rows[:20]]
        rows[row - 1][header.index(column)] = value
        return write_csv_rows(out / "export.csv", header, rows)
    return make


def _drop(column: str):
    def make(sample: Path, out: Path) -> Path:
        header, rows = read_csv_rows(sample)
        i = header.index(column)
        return write_csv_rows(out / "export.csv", header[:i] + header[i + 1:],
                              [r[:i] + r[i + 1:] for r in rows[:20]])
    return make


def _bytes(name: str, data: bytes):
    def make(sample: Path, out: Path) -> Path:
        p = out / name
        p.write_bytes(data)
        return p
    return make


def _truncated_gzip(sample: Path, out: Path) -> Path:
    data = gzip.compress(sample.read_bytes())
    p = out / "export.csv.gz"
    p.write_bytes(data[: len(data) // 2])
    return p


def _header_only(sample: Path, out: Path) -> Path:
    header, _ = read_csv_rows(sample)
    return write_csv_rows(out / "export.csv", header, [])


def _ragged(sample: Path, out: Path) -> Path:
    header, rows = read_csv_rows(sample)
    rows = [list(r) for r in rows[:20]]
    rows[9] = rows[9] + ["surplus", "fields"]
    return write_csv_rows(out / "export.csv", header, rows)


def _parquet_nan(sample: Path, out: Path) -> Path:
    p = out / "export.parquet"
    con = duckdb.connect()
    con.execute(
        f"COPY (SELECT * REPLACE (CASE WHEN row_number() OVER () = 4 THEN 'nan'::DOUBLE "
        f"ELSE BilledCost::DOUBLE END AS BilledCost) FROM read_csv('{sample}', all_varchar=true, "
        f"nullstr=['NULL']) LIMIT 20) TO '{p}' (FORMAT parquet)"
    )
    return p


def _second_file_bad(sample: Path, out: Path) -> list[Path]:
    good = out / "a-good.csv"
    shutil.copyfile(sample, good)
    return [good, _edit(3, "BilledCost", "n/a")(sample, out)]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 64

# case id → (make input, message fragment, data row, column)
CASES = {
    "missing mandatory column": (_drop("BilledCost"), "missing mandatory FOCUS 1.0 column", None, "BilledCost"),
    "non-numeric cost": (_edit(5, "BilledCost", "12.3.4"), "is not a number", 5, "BilledCost"),
    "unparseable timestamp": (_edit(2, "ChargePeriodStart", "yesterday"), "not a valid date-time", 2, "ChargePeriodStart"),
    "impossible timestamp": (_edit(3, "ChargePeriodEnd", "2024-09-31T00:00:00Z"), "not a valid date-time", 3, "ChargePeriodEnd"),
    "impossible hour (as in the spec examples)": (_edit(3, "ChargePeriodEnd", "2024-09-18T30:00:00Z"), "not a valid date-time", 3, "ChargePeriodEnd"),
    "ambiguous US date": (_edit(7, "BillingPeriodStart", "9/1/24"), "not a valid date-time", 7, "BillingPeriodStart"),
    "end before start": (_edit(4, "ChargePeriodEnd", "2024-08-01 00:00:00"), "ChargePeriodEnd is before ChargePeriodStart", 4, "ChargePeriodEnd"),
    "value outside the allowed set": (_edit(6, "ChargeCategory", "Refund"), "not an allowed ChargeCategory value", 6, "ChargeCategory"),
    "invalid JSON in Tags": (_edit(7, "Tags", '{"team": "payments"'), "not a valid JSON object", 7, "Tags"),
    "JSON array in Tags": (_edit(8, "Tags", '["payments"]'), "not a valid JSON object", 8, "Tags"),
    "unknown currency code": (_edit(8, "BillingCurrency", "USX"), "not an ISO 4217 currency code", 8, "BillingCurrency"),
    "empty key value": (_edit(9, "BillingAccountId", ""), "is empty", 9, "BillingAccountId"),
    "empty file": (_bytes("export.csv", b""), "file is empty", None, None),
    "blank file": (_bytes("export.csv", b"\n\n"), "no header line", None, None),
    "header but no rows": (_header_only, "no data rows", None, None),
    "truncated gzip": (_truncated_gzip, "gzip file is truncated or corrupt", None, None),
    "PNG named .csv": (_bytes("export.csv", PNG), "not a CSV or Parquet file: it is a PNG image", None, None),
    "ZIP named .parquet": (_bytes("export.parquet", ZIP), "it is a ZIP archive", None, None),
    "binary junk": (_bytes("export.csv", b"\x01\x02\x00\x03" * 50), "binary data", None, None),
    "prose, not CSV": (_bytes("export.csv", b"Dear customer your invoice is attached\n"), "no column separator", None, None),
    "not FOCUS columns": (_bytes("export.csv", b"date,amount,team\n2024-09-01,12.50,web\n"), "not a FOCUS export", None, None),
    "truncated Parquet": (_bytes("export.parquet", b"PAR1" + b"\x00" * 100), "Parquet file is truncated", None, None),
    "ragged CSV row": (_ragged, "cannot be read as CSV", None, None),
    "NaN cost in Parquet": (_parquet_nan, "not a finite number", 4, "BilledCost"),
    "second of two files bad": (_second_file_bad, "is not a number", 3, "BilledCost"),
}


@pytest.fixture(scope="module")
def loaded_store(tmp_path_factory, sample_csv):
    """A store holding the FOCUS 1.0 sample, copied fresh for each case."""
    base = tmp_path_factory.mktemp("base") / "finops-store"
    ingest([sample_csv], base)
    return base


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_is_refused_clearly_and_changes_nothing(case, loaded_store, sample_csv, tmp_path):
    make, fragment, row, column = CASES[case]
    store = tmp_path / "store" / "finops-store"
    store.parent.mkdir()
    copy_store(loaded_store, store)
    before = file_digest(store)
    inputs = tmp_path / "in"
    inputs.mkdir()
    made = make(sample_csv, inputs)
    paths = made if isinstance(made, list) else [made]

    with pytest.raises(IngestError) as err:
        ingest(paths, store)

    matching = [p for p in err.value.problems if fragment in p.message]
    assert matching, f"{fragment!r} not in {err.value}"
    problem = matching[0]
    assert Path(problem.file).name == paths[-1].name
    assert problem.row == row
    assert problem.column == column
    assert str(paths[-1]) in str(err.value)
    assert file_digest(store) == before, "a failed load changed the store"
    assert not [p for p in store.parent.iterdir() if ".next-" in p.name], "work copy left behind"


def test_missing_path_is_named(store_path, tmp_path):
    with pytest.raises(IngestError, match="no such file or folder") as err:
        ingest([tmp_path / "nope.csv"], store_path)
    assert "nope.csv" in str(err.value)
    assert not store_path.exists()


def test_every_problem_in_a_file_is_listed(sample_csv, tmp_path, store_path):
    header, rows = read_csv_rows(sample_csv)
    rows = [list(r) for r in rows[:20]]
    rows[1][header.index("BilledCost")] = "abc"
    rows[2][header.index("BilledCost")] = "def"
    rows[4][header.index("BillingCurrency")] = "XXY"
    f = write_csv_rows(tmp_path / "two.csv", header, rows)
    with pytest.raises(IngestError) as err:
        ingest([f], store_path)
    got = {(p.column, p.row, p.count) for p in err.value.problems}
    assert got == {("BilledCost", 2, 2), ("BillingCurrency", 5, 1)}
    assert "[2 rows; first shown]" in str(err.value)


def test_long_value_sets_are_summarized_with_a_suggestion(sample_csv, tmp_path, store_path):
    f = _edit(2, "ServiceCategory", "Network")(sample_csv, tmp_path)
    with pytest.raises(IngestError) as err:
        ingest([f], store_path)
    (problem,) = err.value.problems
    assert "one of the 19 values the FOCUS spec lists" in problem.message
    assert "did you mean 'Networking'?" in problem.message
