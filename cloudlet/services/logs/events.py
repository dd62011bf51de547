"""Writing and reading log events: PutLogEvents, GetLogEvents, FilterLogEvents.

PutLogEvents follows AWS's rules: a batch is at most 1,048,576 bytes (the messages' UTF-8
bytes plus 26 per event) and 10,000 events, in chronological order, spanning at most 24
hours; events more than 2 hours ahead, older than 14 days, or older than the group's
retention are rejected (`rejectedLogEventsInfo`) while the rest are stored. Sequence tokens
are accepted and ignored, as AWS now does.

A GetLogEvents token is a position in the stream's (timestamp, event_id) order:
`f/<position>` reads forward from it, `b/<position>` backward. FilterLogEvents' token is the
position too, with the direction.
"""

from __future__ import annotations

import bisect

from cloudlet.services.logs.errors import InvalidParameter, invalid_token
from cloudlet.services.logs.fastpath import COLUMNS
from cloudlet.services.logs.groups import decode_token, encode_token, now_ms
from cloudlet.services.logs.patterns import compile_pattern

MAX_BATCH_BYTES = 1_048_576
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = MAX_BATCH_BYTES - EVENT_OVERHEAD
MAX_EVENTS = 10_000
DAY_MS = 86_400_000
HOUR_MS = 3_600_000
SPAN_MS = 24 * HOUR_MS
TOO_NEW_MS = 2 * HOUR_MS
TOO_OLD_MS = 14 * DAY_MS
END = 2**63 - 1  # a position after every event
NEWEST_FIRST_SINCE = 1_704_067_200_000  # 2024-01-01: FilterLogEvents reads backward from here
MAX_RESPONSE_BYTES = 1_048_576
SCAN_CHUNK = 5_000


def _position(token: str) -> tuple[str, int, int]:
    direction, _, digits = token.partition("/")
    if direction not in ("f", "b") or len(digits) != 38 or not digits.isascii() \
            or not digits.isdigit():
        raise invalid_token()
    ts, eid = int(digits[:19]), int(digits[19:])
    if ts > END or eid > END:
        raise invalid_token()
    return direction, ts, eid


def _token(direction: str, timestamp: int, event_id: int) -> str:
    return f"{direction}/{timestamp:019d}{event_id:019d}"


def event_id_text(event_id: int) -> str:
    return f"{event_id:056d}"


def batch_size(messages: list[str]) -> int:
    """Bytes a batch counts against the 1 MiB limit."""
    return len("".join(messages).encode("utf-8", "surrogatepass")) + EVENT_OVERHEAD * len(messages)


def storable(messages: list[str]) -> list[str]:
    """Messages as UTF-8 can hold them: a lone surrogate (JSON allows "\\ud800") becomes
    '?', as Java's UTF-8 encoder makes it."""
    try:
        "".join(messages).encode("utf-8")
        return messages
    except UnicodeEncodeError:
        return [m.encode("utf-8", "replace").decode("utf-8") for m in messages]


def _trim(rows: list, backward: bool) -> list:
    """At most 1 MB of events in a response: the first ones, or the last when reading back."""
    total = 0
    ordered = reversed(rows) if backward else rows
    kept = []
    for row in ordered:
        total += len(row[-1]) + EVENT_OVERHEAD
        if total > MAX_RESPONSE_BYTES and kept:
            break
        kept.append(row)
    return kept[::-1] if backward else kept


class EventOperations:
    # -- PutLogEvents -----------------------------------------------------------------------

    def put_log_events(self, ctx, params):
        group = self.group_row(ctx, {"logGroupName": params["logGroupName"]})
        stream = self._stream(group, params["logStreamName"])
        events = params["logEvents"]
        columns = ctx.extra.get(COLUMNS)
        if columns is not None:  # the fast path's lists
            timestamps, messages = columns
        else:
            timestamps = [e["timestamp"] for e in events]
            messages = [e["message"] for e in events]
        size = batch_size(messages)
        if size > MAX_BATCH_BYTES:
            raise InvalidParameter(
                f"Upload too large: {size} bytes exceeds limit of {MAX_BATCH_BYTES}")
        if len(events) > MAX_EVENTS:
            raise InvalidParameter(
                f"Upload too many log events: {len(events)} exceeds limit of {MAX_EVENTS}")
        if timestamps != sorted(timestamps):
            raise InvalidParameter(
                "Log events in a single PutLogEvents request must be in chronological order.")
        if timestamps[-1] - timestamps[0] > SPAN_MS:
            raise InvalidParameter(
                "The batch of log events in a single PutLogEvents request cannot span more "
                "than 24 hours.")
        first_id, rejected = self.store_batch(group, stream, timestamps, messages, size)
        result = {"nextSequenceToken": f"{max(first_id, 1):056d}"}
        if rejected:
            result["rejectedLogEventsInfo"] = rejected
        return result

    def store_batch(self, group, stream, timestamps: list[int], messages: list[str],
                    size: int | None = None) -> tuple[int, dict]:
        """Store a sorted batch but its too old, expired and too new events; returns the
        first event id (0 when nothing was stored) and the `rejectedLogEventsInfo`."""
        now = now_ms()
        rejected = {}
        lo = bisect.bisect_left(timestamps, now - TOO_OLD_MS)
        if lo:
            rejected["tooOldLogEventEndIndex"] = lo
        if group["retention_days"]:
            expired = bisect.bisect_left(timestamps, now - group["retention_days"] * DAY_MS)
            if expired:
                rejected["expiredLogEventEndIndex"] = expired
                lo = max(lo, expired)
        hi = bisect.bisect_right(timestamps, now + TOO_NEW_MS)
        if hi < len(timestamps):
            rejected["tooNewLogEventStartIndex"] = hi
        if lo >= hi:
            return 0, rejected
        if size is None or lo or hi < len(timestamps):
            timestamps, messages = timestamps[lo:hi], messages[lo:hi]
            size = batch_size(messages)
        messages = storable(messages)
        first_id = self.events.insert(group["account"], group["region"], group["name"],
                                      stream["name"], timestamps, messages, now)
        self._record_put(stream, timestamps[0], timestamps[-1], now,
                         size - EVENT_OVERHEAD * len(messages))
        self.after_put(group, stream["name"], timestamps, messages, first_id, now)
        if self.tails.sessions:
            self.tails.publish((group["account"], group["region"], group["name"]),
                               stream["name"], timestamps, messages, now)
        return first_id, rejected

    def _record_put(self, stream, first: int, last: int, ingested: int, stored: int) -> None:
        with self.store.db.transaction() as conn:
            conn.execute(
                "UPDATE logs_streams SET first_event = min(coalesce(first_event, ?), ?), "
                "last_event = max(coalesce(last_event, ?), ?), last_ingestion = ?, "
                "stored_bytes = stored_bytes + ? WHERE account = ? AND region = ? "
                "AND log_group = ? AND name = ?",
                (first, first, last, last, ingested, stored, stream["account"],
                 stream["region"], stream["log_group"], stream["name"]))

    # -- GetLogEvents -----------------------------------------------------------------------

    def get_log_events(self, ctx, params):
        group = self.group_row(ctx, params)
        stream = self._stream(group, params["logStreamName"])
        limit = params.get("limit") or 10_000
        token = params.get("nextToken")
        if token:
            direction, ts, eid = _position(token)
        elif params.get("startFromHead"):
            direction, ts, eid = "f", -1, 0
        else:
            direction, ts, eid = "b", END, END
        sql = ("SELECT timestamp, ingestion_time, event_id, message FROM log_events "
               "WHERE account = ? AND region = ? AND log_group = ? AND log_stream = ?")
        args: list = [group["account"], group["region"], group["name"], stream["name"]]
        sql, args = _time_range(sql, args, params)
        if direction == "f":
            sql += (" AND (timestamp > ? OR (timestamp = ? AND event_id > ?))"
                    " ORDER BY timestamp, event_id LIMIT ?")
        else:
            sql += (" AND (timestamp < ? OR (timestamp = ? AND event_id < ?))"
                    " ORDER BY timestamp DESC, event_id DESC LIMIT ?")
        rows = self.events.cursor().execute(sql, [*args, ts, ts, eid, limit]).fetchall()
        if direction == "b":
            rows.reverse()
        rows = _trim(rows, direction == "b")
        if rows:
            forward = _token("f", rows[-1][0], rows[-1][2])
            backward = _token("b", rows[0][0], rows[0][2])
        else:
            here = (max(ts, 0), max(eid, 0))
            forward = token if direction == "f" and token else _token("f", *here)
            backward = token if direction == "b" and token else _token("b", *here)
        return {"events": [{"timestamp": r[0], "message": r[3], "ingestionTime": r[1]}
                           for r in rows],
                "nextForwardToken": forward, "nextBackwardToken": backward}

    # -- FilterLogEvents --------------------------------------------------------------------

    def filter_log_events(self, ctx, params):
        group = self.group_row(ctx, params)
        names, prefix = params.get("logStreamNames"), params.get("logStreamNamePrefix")
        if names is not None and prefix is not None:
            raise InvalidParameter(
                "Cannot specify both logStreamNames and logStreamNamePrefix.")
        matcher = compile_pattern(params.get("filterPattern") or "")
        limit = params.get("limit") or 10_000
        ascending = params.get("startFromHead") is not False
        if not ascending and (params.get("startTime") or 0) < NEWEST_FIRST_SINCE and \
                params.get("startTime") is not None:
            raise InvalidParameter("startFromHead=false is supported only when startTime is "
                                   "on or after Jan 1, 2024 00:00:00 UTC.")
        sql = ("SELECT timestamp, ingestion_time, event_id, log_stream, message FROM log_events "
               "WHERE account = ? AND region = ? AND log_group = ?")
        args: list = [group["account"], group["region"], group["name"]]
        if names:
            sql += f" AND log_stream IN ({', '.join('?' * len(names))})"
            args += names
        if prefix:
            sql += " AND starts_with(log_stream, ?)"
            args.append(prefix)
        sql, args = _time_range(sql, args, params, end_inclusive=True)
        prefilter = matcher.sql_prefilter()
        if prefilter is not None:
            sql += f" AND {prefilter[0]}"
            args += prefilter[1]
        if params.get("nextToken"):
            # the token's direction wins over startFromHead, as AWS documents
            token = decode_token(params["nextToken"])
            if (not isinstance(token, list) or len(token) != 3 or token[2] not in ("f", "b")
                    or not all(type(p) is int and -1 <= p <= END for p in token[:2])):
                raise invalid_token()
            position, ascending = token[:2], token[2] == "f"
        else:
            position = [-1, 0] if ascending else [END, END]
        if ascending:
            sql += (" AND (timestamp > ? OR (timestamp = ? AND event_id > ?))"
                    " ORDER BY timestamp, event_id LIMIT ?")
        else:
            sql += (" AND (timestamp < ? OR (timestamp = ? AND event_id < ?))"
                    " ORDER BY timestamp DESC, event_id DESC LIMIT ?")
        cursor = self.events.cursor()
        found, total, more = [], 0, False
        while True:
            ts, eid = position
            rows = cursor.execute(sql, [*args, ts, ts, eid, SCAN_CHUNK]).fetchall()
            for row in rows:
                position = [row[0], row[2]]
                if not matcher.matches(row[4]):
                    continue
                total += len(row[4]) + EVENT_OVERHEAD
                if len(found) >= limit or (total > MAX_RESPONSE_BYTES and found):
                    more = True
                    position = [found[-1][0], found[-1][2]]
                    break
                found.append(row)
            if more or len(rows) < SCAN_CHUNK:
                break
        result = {"events": [
            {"logStreamName": r[3], "timestamp": r[0], "message": r[4], "ingestionTime": r[1],
             "eventId": event_id_text(r[2])} for r in found],
            "searchedLogStreams": []}
        if more:
            result["nextToken"] = encode_token([*position, "f" if ascending else "b"])
        return result


def _time_range(sql: str, args: list, params: dict, end_inclusive: bool = False
                ) -> tuple[str, list]:
    if params.get("startTime") is not None:
        sql += " AND timestamp >= ?"
        args.append(params["startTime"])
    if params.get("endTime") is not None:
        sql += " AND timestamp <= ?" if end_inclusive else " AND timestamp < ?"
        args.append(params["endTime"])
    return sql, args
