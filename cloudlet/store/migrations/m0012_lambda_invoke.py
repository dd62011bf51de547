"""Lambda's asynchronous invocations (m0012): the durable event queue.

An Event invoke, an S3/SNS/alarm/Logs trigger or a Lambda destination becomes one row; a
worker runs it when `due` (service clock) has come, retries it with backoff, and deletes
it once it succeeded, was sent to its destination or was dropped."""


def migrate(conn):
    for statement in SCHEMA.split(";"):
        if statement.strip():
            conn.execute(statement)


SCHEMA = """
        CREATE TABLE lambda_async_events (
            id TEXT PRIMARY KEY,            -- the request id the caller got
            account TEXT NOT NULL, region TEXT NOT NULL,
            function TEXT NOT NULL,         -- name or ARN as invoked
            qualifier TEXT,                 -- version or alias, NULL for $LATEST
            payload BLOB NOT NULL,
            enqueued REAL NOT NULL,         -- service clock, epoch seconds
            due REAL NOT NULL,              -- when the next attempt may run
            attempts INTEGER NOT NULL DEFAULT 0,
            source TEXT                     -- JSON: what triggered it (for logs)
        );
        CREATE INDEX lambda_async_events_due ON lambda_async_events (due)
"""
