"""The core tables: a key-value table for small service records, partitioned by account
and region as AWS partitions them ('' for global scopes)."""


def migrate(conn):
    conn.execute(
        """CREATE TABLE records (
            service  TEXT NOT NULL,
            account  TEXT NOT NULL,
            region   TEXT NOT NULL,
            kind     TEXT NOT NULL,
            key      TEXT NOT NULL,
            value    TEXT NOT NULL,
            PRIMARY KEY (service, account, region, kind, key)
        )"""
    )
