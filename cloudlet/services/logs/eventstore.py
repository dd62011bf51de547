"""The log events themselves, in DuckDB: `<data dir>/logs/events.duckdb`.

One table, `log_events`, one row per event. Logs Insights compiles its queries to SQL over
it (`cursor()`); PutLogEvents appends to it (`insert`), a whole batch in one statement that
commits before the call returns, so an acknowledged batch survives `kill -9`.

`event_id` is unique and increases in ingestion order; with `timestamp` it orders a
stream's events (GetLogEvents, FilterLogEvents).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

SCHEMA = """CREATE TABLE IF NOT EXISTS log_events (
    account VARCHAR, region VARCHAR, log_group VARCHAR, log_stream VARCHAR,
    timestamp BIGINT, ingestion_time BIGINT, event_id BIGINT, message VARCHAR)"""

CHECKPOINT_THRESHOLD = "256MB"

# The messages travel as one string split inside DuckDB: converting 10,000 Python strings
# to a DuckDB list costs more than storing them, and a string crosses in one copy.
_INSERT_SPLIT = (
    "INSERT INTO log_events SELECT $1, $2, $3, $4, t, $6, $7 + i, m FROM ("
    "SELECT unnest($5) AS t, unnest(string_split($8, chr(0))) AS m, "
    "unnest(range(1, $9 + 1)) AS i)"
)
# Messages that contain NUL themselves go as lists.
_INSERT_LISTS = (
    "INSERT INTO log_events SELECT $1, $2, $3, $4, unnest($5), $6, "
    "$7 + generate_subscripts($5, 1), unnest($8)"
)


class EventStore:
    """Opened on a thread of its own (DuckDB replays its WAL on open, which may take a
    while after a crash), so the server serves while it opens; callers wait for it.
    A data directory with no events yet opens it on first use instead: DuckDB weighs about
    60 MiB, which a server that never sees a log event does not carry."""

    def __init__(self, root: Path):
        root = Path(root)
        root.mkdir(parents=True, exist_ok=True)
        self.path = root / "events.duckdb"
        self._write = threading.Lock()
        self._ids = threading.Lock()
        self._local = threading.local()
        self._db: duckdb.DuckDBPyConnection | None = None
        self._next_id = 1
        self._opened = threading.Event()
        self._open_error: BaseException | None = None
        self._opening = threading.Lock()
        self._started = False
        if self.path.exists():
            self._start_open()

    def _start_open(self) -> None:
        with self._opening:
            if self._started:
                return
            self._started = True
        threading.Thread(target=self._open, name="logs-eventstore-open", daemon=True).start()

    def _open(self) -> None:
        try:
            import duckdb

            db = duckdb.connect(str(self.path))
            # A checkpoint rewrites the WAL into compressed row groups; at DuckDB's default
            # (16 MB of WAL) one runs inside every ~20th batch and stalls it. Ingestion lets
            # the WAL grow and `checkpoint()` runs off the request path instead.
            db.execute(f"SET checkpoint_threshold = '{CHECKPOINT_THRESHOLD}'")
            db.execute(SCHEMA)
            self._next_id = (db.execute("SELECT max(event_id) FROM log_events").fetchone()[0]
                             or 0) + 1
            self._db = db
        except BaseException as error:  # reported to every caller
            self._open_error = error
        finally:
            self._opened.set()

    @property
    def db(self) -> duckdb.DuckDBPyConnection:
        if self._db is None:
            self._start_open()
            self._opened.wait()
            if self._open_error is not None:
                raise RuntimeError("the log event store could not be opened") \
                    from self._open_error
        return self._db

    def cursor(self) -> duckdb.DuckDBPyConnection:
        """A cursor for the calling thread (reads; DuckDB's MVCC keeps them consistent)."""
        cursor = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._local.cursor = self.db.cursor()
        return cursor

    def insert(self, account: str, region: str, group: str, stream: str,
               timestamps: list[int], messages: list[str], ingestion_time: int) -> int:
        """Append one batch; returns the event_id of its first event (ids are consecutive).

        Ids are taken under a lock; the insert itself runs on the calling thread's cursor,
        so batches from several requests are stored in parallel (DuckDB appends do not
        conflict, and it releases the GIL while it works)."""
        count = len(timestamps)
        cursor = self.cursor()  # waits for the store to open, and so for `_next_id`
        with self._ids:
            first = self._next_id
            self._next_id = first + count
        joined = "\x00".join(messages)
        if joined.count("\x00") == count - 1:
            cursor.execute(_INSERT_SPLIT, [
                account, region, group, stream, timestamps,
                ingestion_time, first - 1, joined, count])
        else:
            cursor.execute(_INSERT_LISTS, [account, region, group, stream, timestamps,
                                                  ingestion_time, first - 1, messages])
        return first

    def delete(self, account: str, region: str, group: str, stream: str | None = None,
               before: int | None = None) -> int:
        """Delete a group's (or one stream's) events, or only those older than `before`."""
        sql = "DELETE FROM log_events WHERE account = ? AND region = ? AND log_group = ?"
        args: list = [account, region, group]
        if stream is not None:
            sql += " AND log_stream = ?"
            args.append(stream)
        if before is not None:
            sql += " AND timestamp < ?"
            args.append(before)
        with self._write:
            return self.db.execute(sql, args).fetchone()[0]

    def stream_stats(self, account: str, region: str, group: str) -> list[tuple]:
        """(stream, first timestamp, last timestamp, stored bytes) of a group's streams."""
        return self.cursor().execute(
            "SELECT log_stream, min(timestamp), max(timestamp), sum(strlen(message)) "
            "FROM log_events WHERE account = ? AND region = ? AND log_group = ? "
            "GROUP BY log_stream", [account, region, group]).fetchall()

    def checkpoint(self) -> None:
        """Fold the WAL into the database file (the retention sweeper calls it now and
        then); skipped by DuckDB when transactions are running."""
        if self._db is None:
            return  # nothing was ever written
        import duckdb

        with self._write:
            try:
                self.db.execute("CHECKPOINT")
            except duckdb.Error:  # busy: the next round tries again
                pass

    def close(self) -> None:
        with self._opening:
            if not self._started:
                return
        self._opened.wait()
        with self._write:
            if self._db is not None:
                self._db.close()
