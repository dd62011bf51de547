"""Logs Insights: the query language, compiled to SQL over the event store (DuckDB)."""
