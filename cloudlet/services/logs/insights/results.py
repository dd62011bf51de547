"""Result rows as AWS returns them: a list of {field, value} per row, every value a string,
timestamps as `YYYY-MM-DD HH:MM:SS.mmm`, fields without a value left out, and `@ptr` (the
event's pointer, for GetLogRecord) last in each row of a query over events."""

from __future__ import annotations

import base64
import datetime as dt
import math


def pointer(log_group: str, event_id: int) -> str:
    raw = f"{log_group}\n{event_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def parse_pointer(ptr: str) -> tuple[str, int] | None:
    """(log group name, event id) of an @ptr, or None if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(ptr + "=" * (-len(ptr) % 4)).decode()
        group, event_id = raw.rsplit("\n", 1)
        return group, int(event_id)
    except (ValueError, UnicodeDecodeError):
        return None


def format_time(ms) -> str:
    ms = int(ms)
    stamp = dt.datetime.fromtimestamp(ms // 1000, dt.UTC)
    return stamp.strftime("%Y-%m-%d %H:%M:%S") + f".{ms % 1000:03d}"


def format_value(value, typ: str) -> str:
    if typ == "time":
        return format_time(value)
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if not isinstance(value, str) and hasattr(value, "is_integer"):   # Decimal
        return format_value(float(value), typ)
    return str(value)


def render(rows: list[tuple], columns: list[tuple[str, str]], with_ptr: bool) -> list[list[dict]]:
    out = []
    for row in rows:
        fields = [{"field": name, "value": format_value(value, typ)}
                  for (name, typ), value in zip(columns, row[:len(columns)], strict=True)
                  if value is not None]
        if with_ptr:
            group, event_id = row[len(columns)], row[len(columns) + 1]
            fields.append({"field": "@ptr", "value": pointer(group, event_id)})
        out.append(fields)
    return out
