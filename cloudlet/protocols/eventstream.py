"""AWS event streams (`application/vnd.amazon.eventstream`), the response side.

An operation whose output has an `eventstream` member (CloudWatch Logs' StartLiveTail)
returns that member as an async iterator of events, each `{member name: value}` of the
stream's union shape. `encode` turns it into frames:

    prelude   total length, headers length (uint32 each), CRC32 of those 8 bytes
    headers   name length (uint8), name, type 7 (string), value length (uint16), value
    payload   the event's members as JSON (json protocols)
    CRC32     of everything before

The stream opens with an `initial-response` event carrying the output's other members
(botocore waits for it). An event whose member is an error shape goes out as
`:message-type: exception`.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import AsyncIterator

from botocore.model import Shape

from cloudlet.protocols import jsonvalue

CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STRING = 7


def message(headers: dict[str, str], payload: bytes) -> bytes:
    encoded = b"".join(
        struct.pack("!B", len(name.encode())) + name.encode()
        + struct.pack("!BH", _STRING, len(value.encode())) + value.encode()
        for name, value in headers.items())
    prelude = struct.pack("!II", 12 + len(encoded) + len(payload) + 4, len(encoded))
    body = prelude + struct.pack("!I", zlib.crc32(prelude)) + encoded + payload
    return body + struct.pack("!I", zlib.crc32(body))


async def encode(stream_shape: Shape, events: AsyncIterator[dict],
                 initial: bytes = b"{}") -> AsyncIterator[bytes]:
    yield message({":message-type": "event", ":event-type": "initial-response",
                   ":content-type": "application/json"}, initial)
    try:
        async for event in events:
            for name, value in event.items():
                shape = stream_shape.members[name]
                payload = jsonvalue.dumps(jsonvalue.encode_members(shape, value or {}))
                if shape.metadata.get("exception"):
                    headers = {":message-type": "exception", ":exception-type": name}
                else:
                    headers = {":message-type": "event", ":event-type": name}
                headers[":content-type"] = "application/json"
                yield message(headers, payload)
    finally:
        await events.aclose()


async def encode_rest(stream_shape: Shape, events: AsyncIterator[dict]) -> AsyncIterator[bytes]:
    """The rest-json form (Lambda's InvokeWithResponseStream): no initial-response (the
    output's other members are headers); an event member marked `eventpayload` is the
    frame's raw payload (a blob: application/octet-stream), else the members as JSON."""
    try:
        async for event in events:
            for name, value in event.items():
                shape = stream_shape.members[name]
                value = value or {}
                raw = next((m for m, s in shape.members.items()
                            if s.serialization.get("eventpayload")), None)
                if shape.metadata.get("exception"):
                    headers = {":message-type": "exception", ":exception-type": name}
                else:
                    headers = {":message-type": "event", ":event-type": name}
                if raw is not None:
                    headers[":content-type"] = "application/octet-stream"
                    payload = value.get(raw) or b""
                else:
                    headers[":content-type"] = "application/json"
                    payload = jsonvalue.dumps(jsonvalue.encode_members(shape, value))
                yield message(headers, payload)
    finally:
        await events.aclose()
