"""The query layer's error, importable without DuckDB (the Excel boundary catches it everywhere)."""


class QueryError(ValueError):
    """A cost question that cannot be answered as asked; the message says what to change."""
