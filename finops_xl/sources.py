"""Input files: find them, recognise their format, and read them through DuckDB.

An input is a file or a folder (searched recursively) of FOCUS exports as CSV, gzip-compressed CSV
or Parquet. The format is recognised from the file's first bytes, not trusted from its name, so a
ZIP renamed ``.csv`` or an HTML error page saved as ``.parquet`` is refused with a clear message.
Nothing here loads a file into Python memory: DuckDB streams every read.
"""

from __future__ import annotations

import csv
import dataclasses
import gzip
import io
import hashlib
import os
from pathlib import Path

from finops_xl.errors import IngestError, Problem

#: Suffixes picked up when a folder is given (a file given by name is always tried).
DATA_SUFFIXES = (".csv", ".csv.gz", ".parquet", ".parq", ".pq", ".gz", ".jsonl", ".ndjson")

_PARQUET_MAGIC = b"PAR1"
_GZIP_MAGIC = b"\x1f\x8b"
_OTHER_MAGICS = {
    b"PK\x03\x04": "a ZIP archive (unzip it first)",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
    b"\xd0\xcf\x11\xe0": "a legacy Office document (.xls)",
    b"BZh": "a bzip2 archive",
    b"\xfd7zXZ": "an xz archive",
    b"\x28\xb5\x2f\xfd": "a zstd archive",
}


@dataclasses.dataclass(frozen=True)
class SourceFile:
    """One input file and how to read it.

    Attributes:
      path: absolute path of the file.
      label: the name shown in messages (the path as the user gave it, or relative to the folder).
      format: ``"csv"``, ``"csv.gz"``, ``"parquet"`` or ``"jsonl"`` (JSON lines, read only as a
        native export such as Google Cloud's billing export).
      size: size in bytes.
      delimiter: the CSV field separator, from the header line (the most frequent of comma,
        semicolon, tab and bar).
      columns: a CSV's column names, from its header line (read with Python's csv module, so the
        file is read with this explicit dialect and never guessed at by a sniffer).
      parallel: False for a CSV that must be read by one thread (one with short rows and line
        breaks inside quoted values, which the parallel reader cannot pad).
    """

    path: Path
    label: str
    format: str
    size: int
    delimiter: str = ","
    columns: tuple[str, ...] = ()
    parallel: bool = True

    def reader_sql(self) -> str:
        """A DuckDB table expression that streams the file's rows.

        CSV is read as text (every column VARCHAR) so that validation, not the CSV sniffer, decides
        what a value means; unquoted ``NULL``/``null`` and empty fields are null, a quoted ``"NULL"`` is
        text.
        """
        return reader_sql([self])


#: Stands in for "no null string" in a reader that must tell an empty field from a missing one.
_NO_NULL = "\x01finops-xl: no null string\x01"


def reader_sql(
    sources: list[SourceFile], filename_column: str | None = None, *, union_by_name: bool = False,
    keep_empty: bool = False, pad_short_rows: bool = True,
) -> str:
    """A DuckDB table expression streaming the rows of several files of one format and dialect.

    One reader over many files lets DuckDB parallelize across them and write straight to storage.
    With ``filename_column``, each row also carries its file's absolute path in that column.
    With ``union_by_name``, Parquet and JSON files with different column sets are read together
    (columns matched by name, null where a file lacks one).

    CSV is read as a spreadsheet reads it: the dialect is explicit (the file's delimiter, ``"`` quotes
    doubled inside a value, any line ending) and the columns are the header line's, so no sniffer
    guesses. A row with fewer fields than the header has its missing trailing fields read as null
    (generators of AWS CUR files write such rows); a row with more fields is refused. With
    ``keep_empty``, empty fields are read as empty text, so only a missing field is null (to count
    the padded rows). Without ``pad_short_rows`` a short row is an error too (a format whose last
    columns are money cannot lose them).
    """
    first = sources[0]
    paths = "[" + ", ".join(sql_literal(str(s.path)) for s in sources) + "]"
    extra = f", filename={sql_literal(filename_column)}" if filename_column else ""
    if union_by_name and first.format in ("parquet", "jsonl"):
        extra += ", union_by_name=true"
    if first.format == "parquet":
        return f"read_parquet({paths}{extra})"
    if first.format == "jsonl":
        return f"read_json({paths}, format='newline_delimited'{extra})"
    compression = "gzip" if first.format == "csv.gz" else "none"
    nulls = sql_literal(_NO_NULL) if keep_empty else "['NULL', 'null', '']"
    if first.columns:
        columns = "{" + ", ".join(f"{sql_literal(c)}: 'VARCHAR'" for c in first.columns) + "}"
        dialect = f"auto_detect=false, columns={columns}"
    else:
        dialect = "all_varchar=true"
    if not all(s.parallel for s in sources):
        dialect += ", parallel=false"
    return (
        f"read_csv({paths}, header=true, {dialect}, nullstr={nulls}, "
        f"allow_quoted_nulls=false, compression='{compression}', delim={sql_literal(first.delimiter)}, "
        f"quote='\"', escape='\"', strict_mode=true, null_padding={'true' if pad_short_rows else 'false'}{extra})"
    )


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def json_key(tags: str, key: str) -> str:
    """SQL for the text value of the literal top-level ``key`` of the JSON expression ``tags``.

    A key is always a key: DuckDB reads a string that starts with ``$`` as a JSONPath and one that
    starts with ``/`` as a JSON pointer, so the key is written as a quoted JSONPath member
    (``$."team"``) with its quotes and backslashes escaped."""
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f"({tags}->>{sql_literal('$.' + chr(34) + escaped + chr(34))})"


def sql_identifier(name: str) -> str:
    """``name`` as a quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclasses.dataclass(frozen=True)
class Skipped:
    """An input left out of a load, and why (the same file reached twice, identical bytes under
    another name, a part file that its folder's delivery manifest does not list)."""

    label: str
    reason: str


@dataclasses.dataclass(frozen=True)
class Inputs:
    """What a list of paths expands to.

    Attributes:
      sources: the input files, each once, in a repeatable order.
      skipped: inputs left out, with the reason.
      deliveries: the provider delivery manifests found (``finops_xl.deliveries.Delivery``).
    """

    sources: tuple[SourceFile, ...]
    skipped: tuple[Skipped, ...]
    deliveries: tuple = ()


def discover(paths: list[str | os.PathLike[str]]) -> list[SourceFile]:
    """Expand files and folders into the input files, each once; see :func:`find_inputs`."""
    return list(find_inputs(paths).sources)


def find_inputs(paths: list[str | os.PathLike[str]]) -> Inputs:
    """Expand files and folders into the input files, sorted for a repeatable load order.

    A file reached twice — named twice, inside a folder given and named on its own, spelled
    relative and absolute, through ``..`` or a symbolic link — is one input (the first spelling
    names it). A folder holding a provider delivery manifest is read by it (``finops_xl.deliveries``):
    only the parts it lists. Identical bytes under two names are found later, by content hash.

    Raises IngestError naming every path that does not exist, is empty, or is not CSV/Parquet, and
    every manifest whose delivery is incomplete.
    """
    from finops_xl import deliveries as dl

    found: list[tuple[Path, str]] = []
    manifests: list[Path] = []
    problems: list[Problem] = []
    for given in paths:
        p = Path(given)
        if p.is_dir():
            every = sorted(f for f in p.rglob("*") if f.is_file())
            inside = [f for f in every if f.name.lower().endswith(DATA_SUFFIXES)]
            manifests.extend(f.resolve() for f in every if dl.is_manifest(f))
            if not inside:
                problems.append(Problem(str(given), "folder holds no .csv, .csv.gz or .parquet files"))
            found.extend((f, str(f)) for f in inside)
        elif p.is_file():
            found.append((p, str(given)))
        else:
            problems.append(Problem(str(given), "no such file or folder"))
    skipped: list[Skipped] = []
    seen: dict[Path, str] = {}
    unique: list[tuple[Path, str]] = []
    for path, label in found:
        real = path.resolve()
        if real in seen:
            if label != seen[real]:
                skipped.append(Skipped(label, f"already given as {seen[real]}"))
            else:
                skipped.append(Skipped(label, "already given (named twice)"))
            continue
        seen[real] = label
        unique.append((real, label))
    manifests = sorted(set(manifests))
    found_deliveries: list = []
    if manifests:
        found_deliveries, manifest_problems = dl.deliveries(manifests, [p for p, _ in unique])
        problems.extend(manifest_problems)
        listed = {part for d in found_deliveries for part in d.parts}
        kept = []
        for path, label in unique:
            governing = [d for d in found_deliveries if path.is_relative_to(d.folder)]
            if governing and path not in listed:
                skipped.append(Skipped(label, f"not a part of the delivery that {governing[0].manifest.name} "
                                              f"lists (an older or other delivery in the same folder)"))
                continue
            kept.append((path, label))
        unique = kept
    sources = []
    for path, label in unique:
        try:
            sources.append(sniff(path, label))
        except IngestError as exc:
            problems.extend(exc.problems)
    if problems:
        raise IngestError(problems)
    if not sources:
        raise IngestError([Problem("(no input)", "no input files were given")])
    return Inputs(tuple(sources), tuple(skipped), tuple(found_deliveries))


def sniff(path: Path, label: str | None = None) -> SourceFile:
    """Recognise ``path``'s format from its content."""
    label = label or str(path)
    size = path.stat().st_size
    if size == 0:
        raise IngestError([Problem(label, "file is empty (0 bytes)")])
    with path.open("rb") as fh:
        head = fh.read(4096)
        if head.startswith(_PARQUET_MAGIC):
            fh.seek(max(0, size - 4))
            if size < 12 or fh.read(4) != _PARQUET_MAGIC:
                raise IngestError([Problem(label, "Parquet file is truncated (no footer): re-export or re-download it")])
            return SourceFile(path.absolute(), label, "parquet", size)
    if head.startswith(_GZIP_MAGIC):
        try:
            with gzip.open(path, "rb") as gz:
                first_line = gz.readline(65536).decode("utf-8-sig", errors="replace")
            delimiter = _delimiter(first_line) or ","
            with gzip.open(path, "rb") as gz:
                columns = _header(label, gz, delimiter)
        except (OSError, EOFError) as exc:
            raise IngestError([Problem(label, f"gzip file is truncated or corrupt; re-download it ({exc})")]) from None
        return SourceFile(path.absolute(), label, "csv.gz", size, delimiter, columns)
    for magic, what in _OTHER_MAGICS.items():
        if head.startswith(magic):
            raise IngestError([Problem(label, f"not a CSV or Parquet file: it is {what}")])
    if b"\x00" in head:
        raise IngestError([Problem(label, "not a CSV or Parquet file: it contains binary data")])
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # a multi-byte character cut by the 4 KiB window is fine; anything earlier is not UTF-8
        if exc.start < len(head) - 4:
            raise IngestError([Problem(label, "not a CSV file: it is not UTF-8 text")]) from None
        text = head[: exc.start].decode("utf-8-sig")
    if text.lstrip().startswith("{"):
        return SourceFile(path.absolute(), label, "jsonl", size)
    first_line = text.splitlines()[0] if text.strip() else ""
    if not first_line.strip():
        raise IngestError([Problem(label, "file has no header line (it is blank)")])
    delimiter = _delimiter(first_line)
    if delimiter is None:
        raise IngestError([Problem(label, "not a CSV file: its first line has no column separator", value=first_line[:80])])
    with path.open("rb") as fh:
        columns = _header(label, fh, delimiter)
    return SourceFile(path.absolute(), label, "csv", size, delimiter, columns)


#: Field separators a CSV header line may use, in order of preference on a tie.
DELIMITERS = (",", ";", "\t", "|")


def _delimiter(first_line: str) -> str | None:
    """The separator the header line uses most often (None if it has none)."""
    counts = {d: first_line.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])
    return best if counts[best] else None


def _header(label: str, fh, delimiter: str) -> tuple[str, ...]:
    """The column names of a CSV header, read with the file's dialect.

    An empty name becomes ``column<N>`` (N its 0-based position). Raises IngestError if two columns
    share a name: one column's values would be lost. Names that differ only in letter case (AWS tag
    columns ``resourceTags/user:Name`` and ``resourceTags/user:name``), which a SQL engine cannot
    tell apart, are both kept: the later one gets a ``_1`` (``_2``, …) suffix, as the engine names it.
    """
    text = io.TextIOWrapper(fh, encoding="utf-8-sig", errors="replace", newline="")
    names = next(csv.reader(text, delimiter=delimiter, quotechar='"', doublequote=True, strict=False), [])
    names = [n if n.strip() else f"column{i}" for i, n in enumerate(names)]
    problems = duplicate_columns(label, names)
    if problems:
        raise IngestError(problems)
    taken: set[str] = set()
    unique = []
    for n in names:
        name, k = n, 0
        while name.lower() in taken:
            k += 1
            name = f"{n}_{k}"
        taken.add(name.lower())
        unique.append(name)
    return tuple(unique)


def duplicate_columns(label: str, names: list[str]) -> list[Problem]:
    """A problem for every column name a file's header repeats."""
    seen: dict[str, list[int]] = {}
    for i, n in enumerate(names):
        seen.setdefault(n, []).append(i)
    problems = []
    for positions in seen.values():
        if len(positions) > 1:
            spelled = " and ".join(f"{names[i]!r} (column {i + 1})" for i in positions)
            problems.append(Problem(label, (
                f"the header names one column {len(positions)} times: {spelled}; the values of all but "
                f"one would be lost. Rename or remove the repeated column and export again"),
                column=names[positions[0]]))
    return problems


def content_hash(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes, as ``sha256:<hex>``."""
    with path.open("rb") as fh:  # read and hashed in C, the GIL released
        return "sha256:" + hashlib.file_digest(fh, "sha256").hexdigest()
