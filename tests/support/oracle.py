"""botocore as the oracle of the codec tests: `wire_request` is the HTTP request botocore
would send for some params, `botocore_parse` is what botocore reads from one of our
responses, and `sample` fills a shape with a value for every member."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlsplit

from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer

from cloudlet.protocols.base import Headers, HttpRequest, HttpResponse

ENDPOINT = "https://service.example.com"
WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
# What `sample` puts at the leaves: a value per scalar type, and the keys of every map.
LEAVES = {
    "string": "v é&=+/<x>%",
    "integer": 7, "long": 8, "short": 3, "byte": 1,
    "float": 1.5, "double": 2.25,
    "boolean": True,
    "timestamp": WHEN,
    "blob": b"\x00\xffblob",
    "map keys": ("k1", "k é/2&=+"),
}


def sample(shape, leaves: dict = LEAVES, located: dict | None = None, depth: int = 0,
           location: str | None = None):
    """A value for every member of a shape, a few levels deep; None where too deep.
    `located` maps an HTTP location ("header", ...) to the leaves that replace some of
    `leaves` in a member bound there, and in the lists and maps it holds."""
    kind = shape.type_name
    if kind in ("structure", "list", "map") and depth > 5:
        return None
    if kind == "structure":
        values = {
            n: sample(m, leaves, located, depth + 1, m.serialization.get("location"))
            for n, m in shape.members.items()
            if not m.serialization.get("eventstream")
        }
        return {n: v for n, v in values.items() if v is not None} or None
    if kind == "list":
        item = sample(shape.member, leaves, located, depth + 1, location)
        return None if item is None else [item, item]
    here = {**leaves, **(located or {}).get(location, {})}
    if kind == "map":
        value = sample(shape.value, leaves, located, depth + 1, location)
        return None if value is None else dict.fromkeys(here["map keys"], value)
    return here[kind]


def wire_request(protocol: str, operation, params: dict) -> HttpRequest:
    """The HTTP request botocore would send for `params` (path-style, for S3)."""
    serializer = create_serializer(protocol, include_validation=False)
    serialized = serializer.serialize_to_request(params, operation)
    prepare_request_dict(serialized, endpoint_url=ENDPOINT)
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if hasattr(body, "read"):
        body = body.read()
    return HttpRequest(
        method=prepared.method, path=url.path or "/", query=url.query,
        headers=Headers(prepared.headers.items()),
        body=body.encode("utf-8") if isinstance(body, str) else body,
    )


def botocore_parse(protocol: str, response: HttpResponse, shape, streaming: bool = False) -> dict:
    """What botocore reads from `response` as `shape` (None for an error); `streaming`
    hands it the body as a stream, as for an operation with a streaming payload."""
    body = response.body if isinstance(response.body, bytes) else b"".join(response.body)
    raw = {
        "status_code": response.status,
        "headers": HeadersDict(response.headers.items()),  # case-insensitive, as on the wire
        "body": io.BytesIO(body) if streaming else body,
    }
    return create_parser(protocol).parse(raw, shape)
