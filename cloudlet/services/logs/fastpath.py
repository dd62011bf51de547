"""PutLogEvents' request, parsed and validated in one pass.

The generic json codec decodes every one of up to 10,000 events member by member, and the
validator walks them again; for the hottest operation of the service that costs more than
storing the batch. `parse` reads the body once and accepts only a request that the generic
path would accept unchanged (known members, the right JSON types, lengths within the
model's bounds), returning the same params. Anything else returns None, and the request
takes the generic path, so every error stays the codec's and the validator's, word for word.
"""

from __future__ import annotations

import json
import threading

TARGET = "Logs_20140328.PutLogEvents"
_MEMBERS = frozenset(("logGroupName", "logStreamName", "logEvents", "sequenceToken"))
COLUMNS = "logs.columns"  # where the context carries the batch as two lists
_NAME_MAX = 512
_EVENTS_MAX = 10_000


def parse(codec, request, context=None):
    if request.headers.get("x-amz-target") != TARGET:
        return None
    typed = _typed or load_typed()
    if typed:
        return _parse_typed(typed, codec, request, context)
    try:
        body = json.loads(request.body)
    except (ValueError, RecursionError):
        return None
    if type(body) is not dict or not body.keys() <= _MEMBERS:
        return None
    group, stream = body.get("logGroupName"), body.get("logStreamName")
    events, token = body.get("logEvents"), body.get("sequenceToken", "")
    if (type(group) is not str or not 0 < len(group) <= _NAME_MAX
            or type(stream) is not str or not 0 < len(stream) <= _NAME_MAX
            or type(token) is not str or ("sequenceToken" in body and not token)
            or type(events) is not list or not 0 < len(events) <= _EVENTS_MAX):
        return None
    columns = _columns(events)
    if columns is None:
        return None
    params = {"logGroupName": group, "logStreamName": stream, "logEvents": events}
    if "sequenceToken" in body:
        params["sequenceToken"] = token
    if context is not None:
        context.extra[COLUMNS] = columns
    return codec.operation("PutLogEvents"), params


def _columns(events: list) -> tuple[list[int], list[str]] | None:
    """(timestamps, messages) when every event is exactly {"timestamp": <int, 0..2**63>,
    "message": <non-empty string>}; checked with C-level passes, not a Python loop."""
    if set(map(type, events)) != {dict} or sum(map(len, events)) != 2 * len(events):
        return None
    try:
        timestamps = [e["timestamp"] for e in events]
        messages = [e["message"] for e in events]
    except KeyError:
        return None
    if (set(map(type, timestamps)) != {int} or set(map(type, messages)) != {str}
            or not all(messages) or min(timestamps) < 0 or max(timestamps) >= 2**63):
        return None
    return timestamps, messages


# msgspec's typed decoder checks the shape while it parses, at several times json's speed.
# It loads on first use (or from `load_typed` on a thread at start), off the import path;
# False when msgspec is not installed, and the json path serves.
_typed: tuple | bool | None = None
_typed_lock = threading.Lock()


def load_typed() -> tuple | bool:
    global _typed
    with _typed_lock:
        if _typed is None:
            try:
                import msgspec
            except ImportError:  # pragma: no cover
                _typed = False
            else:
                _typed = (msgspec, msgspec.json.Decoder(_request_type(msgspec)))
    return _typed


def _request_type(msgspec):
    event = msgspec.defstruct("InputLogEvent", [("timestamp", int), ("message", str)],
                              forbid_unknown_fields=True)
    return msgspec.defstruct("PutLogEventsRequest", [
        ("logGroupName", str), ("logStreamName", str), ("logEvents", list[event]),
        ("sequenceToken", str | msgspec.UnsetType, msgspec.UNSET)],
        forbid_unknown_fields=True)


def _parse_typed(typed: tuple, codec, request, context):
    """The same acceptance as the json path, with msgspec doing the type checks (it, like
    `json`, keeps the last of duplicate keys; whatever it refuses, the codec judges)."""
    msgspec, decoder = typed
    try:
        body = decoder.decode(request.body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    group, stream, token = body.logGroupName, body.logStreamName, body.sequenceToken
    events = body.logEvents
    if (not 0 < len(group) <= _NAME_MAX or not 0 < len(stream) <= _NAME_MAX
            or token == "" or not 0 < len(events) <= _EVENTS_MAX):
        return None
    timestamps = [e.timestamp for e in events]
    messages = [e.message for e in events]
    if not all(messages) or min(timestamps) < 0 or max(timestamps) >= 2**63:
        return None
    params = {"logGroupName": group, "logStreamName": stream,
              "logEvents": [{"timestamp": t, "message": m}
                            for t, m in zip(timestamps, messages, strict=True)]}
    if token is not msgspec.UNSET:
        params["sequenceToken"] = token
    if context is not None:
        context.extra[COLUMNS] = timestamps, messages
    return codec.operation("PutLogEvents"), params
