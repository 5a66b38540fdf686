"""Input files, for callers that import them from here: they live in ``finops_xl.sources``, beneath
the store, so the FOCUS readers and converters need not import the store."""

from finops_xl.sources import (  # noqa: F401
    DATA_SUFFIXES,
    DELIMITERS,
    Inputs,
    Skipped,
    SourceFile,
    content_hash,
    discover,
    duplicate_columns,
    find_inputs,
    json_key,
    reader_sql,
    sniff,
    sql_identifier,
    sql_literal,
)
