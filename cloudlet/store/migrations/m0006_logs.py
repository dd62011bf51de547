"""CloudWatch Logs: groups, streams, filters (events live in DuckDB)."""


def migrate(conn):
    pass
