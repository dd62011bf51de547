"""botocore as the oracle: every operation of every Cloudlet service, both directions.

For each operation (and, for CloudWatch, each protocol it speaks):

- request: hypothesis draws params from the input shape, botocore's own serializer turns
  them into an HTTP request, our codec parses it back; the params must come back equal.
- response: hypothesis draws a result from the output shape, our codec serializes it,
  botocore's parser reads it; the result must come back equal.
- errors: each modeled error of the operation, serialized by our codec, reads back in
  botocore with its code and message.

Values are drawn so that they survive the trip on a real client (see `Draw`): header
values are printable ASCII, URI labels are non-empty, header timestamps are whole seconds
(RFC 822), strings avoid what XML 1.0 cannot carry. What botocore itself drops or reshapes
on the wire is normalized away by `canonical`, one documented rule each.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import math
import string
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloudlet.errors import ServiceError
from cloudlet.models import SERVICES, service_model
from cloudlet.protocols import codec_class
from cloudlet.protocols.base import Headers, HttpRequest

ENDPOINT = "http://127.0.0.1:4566"
MAX_DEPTH = 4
XML_PROTOCOLS = {"query", "ec2", "rest-xml"}
REST_PROTOCOLS = {"rest-json", "rest-xml"}

EXAMPLES = settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


def _cases():
    for service in SERVICES:
        model = service_model(service)
        for protocol in model.metadata.get("protocols") or [model.protocol]:
            for name in model.operation_names:
                yield pytest.param(service, protocol, name, id=f"{service}:{protocol}:{name}")


CASES = list(_cases())


@functools.cache
def codec(service: str, protocol: str):
    return codec_class(protocol, service)(service_model(service))


def operation(service: str, name: str):
    return service_model(service).operation_model(name)


# -- drawing values -----------------------------------------------------------------

# Characters a client can send in any protocol and XML 1.0 can carry: no surrogates,
# controls or unassigned code points (XML parsers also turn \r into \n).
TEXT = st.characters(blacklist_categories=("Cs", "Cc", "Cn", "Co"))
HEADER_TEXT = string.ascii_letters + string.digits + "-_.~"
LABEL_TEXT = HEADER_TEXT + "é😀 +=@"
EPOCH_2000, EPOCH_2100 = 946684800, 4102444800


class Draw:
    """Hypothesis strategies for values of botocore shapes, on one side of one protocol.

    `location` is where the value travels: None (the body), "header", "headers", "uri",
    "greedy" (a `{Key+}` label), "querystring" or "statusCode"."""

    def __init__(self, protocol: str, direction: str):
        self.protocol = protocol
        self.direction = direction
        self._cache: dict = {}

    def shape(self, shape, location=None, depth=0):
        key = (id(shape), shape.name, location, depth)
        found = self._cache.get(key)
        if found is None:
            found = getattr(self, f"_{shape.type_name}")(shape, location, depth)
            self._cache[key] = found
        return found

    def members(self, shape, depth):
        """The drawable members of a structure: name -> (strategy, required)."""
        out = {}
        payload = shape.serialization.get("payload")
        for name, member in shape.members.items():
            if member.serialization.get("eventstream"):
                continue  # event streams are not request/response values
            location = member.serialization.get("location")
            if location == "uri" and name in self._greedy_labels:
                location = "greedy"
            if self.direction == "output" and location in ("uri", "querystring"):
                continue  # not something a response carries
            if self.protocol not in REST_PROTOCOLS:
                location = None
            if name == payload and member.type_name in ("blob", "string"):
                location = "payload"
            required = name in shape.required_members or location in ("uri", "greedy")
            if depth >= MAX_DEPTH and not required:
                continue
            out[name] = (self.shape(member, location, depth + 1), required)
        return out

    _greedy_labels: frozenset = frozenset()

    def for_operation(self, op):
        shape = op.input_shape if self.direction == "input" else op.output_shape
        if shape is None:
            return st.just({})
        uri = op.http.get("requestUri", "")
        self._greedy_labels = frozenset(
            part[1:-2] for part in uri.replace("?", "/").split("/") if part.endswith("+}")
        )
        return self._structure(shape, None, 0)

    # one method per botocore type name
    def _structure(self, shape, location, depth):
        if shape.metadata.get("document"):
            return st.dictionaries(st.text(HEADER_TEXT, min_size=1, max_size=4), st.text(TEXT, max_size=4), max_size=2)
        members = self.members(shape, depth)
        if shape.is_tagged_union:
            if not members:
                return st.just({})
            return st.one_of(
                [st.fixed_dictionaries({name: strat}) for name, (strat, _) in members.items()]
            )
        required = {name: strat for name, (strat, req) in members.items() if req}
        optional = {name: strat for name, (strat, req) in members.items() if not req}
        drawn = st.fixed_dictionaries(required, optional=optional)
        if not required and optional and self._sends_nothing_for_empty:
            # A query list item with nothing in it sends no key at all, leaving a hole in
            # the numbering that no client produces on purpose.
            drawn = drawn.filter(bool)
        return drawn

    @property
    def _sends_nothing_for_empty(self) -> bool:
        return self.direction == "input" and self.protocol in ("query", "ec2")

    def _list(self, shape, location, depth):
        low, high = _size_bounds(shape, 0, 2)
        if depth >= MAX_DEPTH:
            high = low
        item_location = "header-item" if location == "header" else location
        return st.lists(self.shape(shape.member, item_location, depth + 1), min_size=low, max_size=high)

    def _map(self, shape, location, depth):
        low, high = _size_bounds(shape, 0, 2)
        if depth >= MAX_DEPTH:
            high = low
        if location == "headers":  # a prefix map: x-amz-meta-<key>: <value>
            keys = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
            return st.dictionaries(keys, self.shape(shape.value, "header", depth + 1), max_size=high)
        if location == "querystring":
            keys = st.text(string.ascii_lowercase, min_size=3, max_size=6).map(lambda k: f"x-{k}")
            return st.dictionaries(keys, self.shape(shape.value, location, depth + 1), max_size=high)
        keys = self.shape(shape.key, location, depth + 1)
        values = self.shape(shape.value, location, depth + 1)
        return st.dictionaries(keys, values, min_size=low, max_size=high)

    def _string(self, shape, location, depth):
        if shape.serialization.get("jsonvalue"):
            return st.dictionaries(st.text(HEADER_TEXT, min_size=1, max_size=4), st.text(HEADER_TEXT, max_size=4), max_size=2)
        if shape.enum:
            return st.sampled_from(shape.enum)
        low, high = _size_bounds(shape, 0, 6)
        if location in ("header", "headers", "header-item"):
            return st.text(HEADER_TEXT, min_size=max(low, 1), max_size=max(high, 1))
        if location == "uri":
            alphabet = LABEL_TEXT
            return st.text(alphabet, min_size=max(low, 1), max_size=max(high, 1)).filter(_plain_segment)
        if location == "greedy":
            return (
                st.lists(st.text(LABEL_TEXT, min_size=1, max_size=4).filter(_plain_segment), min_size=1, max_size=3)
                .map("/".join)
            )
        return st.text(TEXT, min_size=low, max_size=high)

    def _blob(self, shape, location, depth):
        low, high = _size_bounds(shape, 0, 8)
        return st.binary(min_size=low, max_size=high)

    def _boolean(self, shape, location, depth):
        return st.booleans()

    def _integer(self, shape, location, depth, bits=31):
        if location == "statusCode":
            return st.just(200)
        low = shape.metadata.get("min", -(2**bits))
        high = shape.metadata.get("max", 2**bits - 1)
        return st.integers(int(low), int(high))

    def _long(self, shape, location, depth):
        return self._integer(shape, location, depth, bits=53)

    def _float(self, shape, location, depth, width=32):
        low = shape.metadata.get("min", -1e6)
        high = shape.metadata.get("max", 1e6)
        return st.floats(low, high, width=width, allow_nan=False, allow_infinity=False)

    def _double(self, shape, location, depth):
        return self._float(shape, location, depth, width=64)

    def _timestamp(self, shape, location, depth):
        fmt = shape.serialization.get("timestampFormat")
        whole_seconds = fmt == "rfc822" or (location in ("header", "header-item") and fmt is None)
        if whole_seconds:
            return st.integers(EPOCH_2000, EPOCH_2100).map(_utc)
        return st.integers(EPOCH_2000 * 1000, EPOCH_2100 * 1000).map(lambda ms: _utc(ms / 1000))


def _size_bounds(shape, low, high):
    minimum = int(shape.metadata.get("min", 0) or 0)
    maximum = shape.metadata.get("max")
    low = max(low, minimum)
    high = max(low, high)
    if maximum is not None:
        high = min(high, int(maximum))
    return low, max(low, high)


def _plain_segment(text: str) -> bool:
    return text not in (".", "..")


def _utc(seconds: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


@functools.cache
def drawer(protocol: str, direction: str) -> Draw:
    return Draw(protocol, direction)


# -- comparing values ------------------------------------------------------------------


def canonical(shape, value, protocol: str, direction: str):
    """A value in the form both sides agree on.

    - timestamps: epoch seconds, rounded to the millisecond; blobs: bytes; streams: read.
    - absent, None: dropped.
    - ec2 input: botocore sends nothing for an empty list, so an empty list is absent.
    - query/ec2 input: an empty map or a structure with nothing in it sends nothing.
    - XML output: botocore reads an empty list or map as absent, and a structure with
      nothing in it as absent.
    """
    drop_empty = _drops_empty(protocol, direction)
    return _canonical(shape, value, drop_empty)


def _drops_empty(protocol, direction) -> frozenset:
    if direction == "input" and protocol == "ec2":
        return frozenset(("list", "map", "structure"))
    if direction == "input" and protocol == "query":
        return frozenset(("map", "structure"))
    if direction == "output" and protocol in XML_PROTOCOLS:
        return frozenset(("list", "map", "structure"))
    return frozenset()


def _canonical(shape, value, drop_empty):
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if hasattr(value, "read"):
        value = value.read()
    if kind == "structure" and isinstance(value, dict) and not shape.metadata.get("document"):
        out = {}
        for name, item in value.items():
            member = shape.members.get(name)
            if name == "ResponseMetadata" or item is None:
                continue
            item = _canonical(member, item, drop_empty)
            if member is not None and member.type_name in drop_empty and item in ({}, []):
                continue
            out[name] = item
        return out
    if kind == "list" and isinstance(value, list):
        return [_canonical(shape.member, v, drop_empty) for v in value]
    if kind == "map" and isinstance(value, dict):
        return {k: _canonical(shape.value, v, drop_empty) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return round(value.timestamp(), 3)
        if isinstance(value, int | float):
            return round(float(value), 3)
    if kind == "blob" and isinstance(value, str):
        return value.encode("utf-8")
    if kind == "blob" and isinstance(value, bytearray | memoryview):
        return bytes(value)
    if kind in ("float", "double") and isinstance(value, float) and math.isnan(value):
        return "NaN"
    return value


# -- HTTP on both sides ----------------------------------------------------------------


def http_request(request_dict: dict) -> HttpRequest:
    """What botocore would put on the wire for a serialized request dict."""
    prepare_request_dict(request_dict, endpoint_url=ENDPOINT)
    prepared = create_request_object(request_dict).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body
    if body is None:
        body = b""
    elif isinstance(body, str):
        body = body.encode("utf-8")
    elif hasattr(body, "read"):
        body = body.read()
    headers = [("Host", url.netloc), *prepared.headers.items()]
    return HttpRequest(
        method=prepared.method, path=url.path, query=url.query, headers=Headers(headers), body=body
    )


def botocore_response(response) -> dict:
    body = response.body if isinstance(response.body, bytes) else b"".join(response.body)
    from botocore.awsrequest import HeadersDict

    return {"status_code": response.status, "headers": HeadersDict(response.headers), "body": body}


def botocore_parse(protocol: str, op, raw: dict):
    shape = op.output_shape
    if op.has_streaming_output:
        raw = {**raw, "body": io.BytesIO(raw["body"])}
    parsed = create_parser(protocol).parse(raw, shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


# -- the tests ---------------------------------------------------------------------------


@pytest.mark.parametrize("service,protocol,name", CASES)
@EXAMPLES
@given(data=st.data())
def test_request_round_trip(service, protocol, name, data):
    op = operation(service, name)
    params = data.draw(drawer(protocol, "input").for_operation(op), label="params")
    serializer = create_serializer(protocol, include_validation=False)
    request = http_request(serializer.serialize_to_request(params, op))
    parsed_op, parsed = codec(service, protocol).parse(request)
    assert parsed_op.name == name
    shape = op.input_shape
    got = canonical(shape, parsed, protocol, "input")
    want = canonical(shape, params, protocol, "input")
    assert got == want, f"{service} {name} ({protocol}) request\nsent {params!r}\n{request!r}"


@pytest.mark.parametrize("service,protocol,name", CASES)
@EXAMPLES
@given(data=st.data())
def test_response_round_trip(service, protocol, name, data):
    op = operation(service, name)
    if op.has_event_stream_output:
        pytest.skip("event-stream responses are framed by the event-stream encoder, not here")
    result = data.draw(drawer(protocol, "output").for_operation(op), label="result")
    response = codec(service, protocol).serialize(op, result, "req-1")
    raw = botocore_response(response)
    parsed = botocore_parse(protocol, op, raw)
    shape = op.output_shape
    got = canonical(shape, parsed, protocol, "output")
    want = canonical(shape, result, protocol, "output")
    assert got == want, f"{service} {name} ({protocol}) response\n{raw!r}"


@pytest.mark.parametrize("service,protocol,name", CASES)
def test_modeled_errors_round_trip(service, protocol, name):
    op = operation(service, name)
    for shape in op.error_shapes:
        error_meta = shape.metadata.get("error", {})
        error = ServiceError(
            "Something went wrong: <&> 'quoted' ünïcode",
            code=shape.error_code,
            status=error_meta.get("httpStatusCode", 400),
            sender_fault=error_meta.get("senderFault", True),
        )
        response = codec(service, protocol).serialize_error(error, op, "req-1")
        raw = botocore_response(response)
        parsed = create_parser(protocol).parse(raw, op.output_shape)
        assert parsed["Error"]["Code"] == shape.error_code, (shape.name, raw)
        assert parsed["Error"].get("Message") == error.message, (shape.name, raw)
