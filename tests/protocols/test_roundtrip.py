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
import os
import string
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import HeadersDict, create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloudlet.errors import ServiceError
from cloudlet.models import SERVICES, service_model
from cloudlet.protocols import codec_class
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.validate import validate

ENDPOINT = "http://127.0.0.1:4566"
MAX_DEPTH = 4
XML_PROTOCOLS = {"query", "ec2", "rest-xml"}
REST_PROTOCOLS = {"rest-json", "rest-xml"}
CONTAINERS = {"structure", "list", "map"}

EXAMPLES = settings(
    # 3 keeps the whole suite well under a minute; raise it for a deeper run.
    max_examples=int(os.environ.get("CLOUDLET_ROUNDTRIP_EXAMPLES", "3")),
    deadline=None,
    derandomize=True,
    database=None,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture(autouse=True)
def _flat_hypothesis_settings(request):
    """Hypothesis's pytest plugin wraps a parametrized test's settings in one more layer
    on every invocation; over ~1,700 operations the chain overflows the stack (and every
    settings lookup walks it). Start each invocation from our settings again."""
    test = getattr(request.function, "__func__", request.function)
    if hasattr(test, "_hypothesis_internal_use_settings"):
        test._hypothesis_internal_use_settings = EXAMPLES


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

    def shape(self, shape, location=None, depth=0, nonempty=False):
        key = (id(shape), shape.name, location, depth, self._status, nonempty)
        found = self._cache.get(key)
        if found is None:
            self._nonempty = nonempty
            found = getattr(self, f"_{shape.type_name}")(shape, location, depth)
            self._cache[key] = found
        return found

    def _bounds(self, shape, low, high):
        low, high = _size_bounds(shape, low, high)
        if self._nonempty:
            self._nonempty = False
            low = max(low, 1)
            high = max(low, high)
        return low, high

    def members(self, shape, depth):
        """The drawable members of a structure: name -> (strategy, required)."""
        out = {}
        payload = shape.serialization.get("payload")
        wire_names = set()
        for name, member in shape.members.items():
            if member.serialization.get("eventstream"):
                continue  # event streams are not request/response values
            location = member.serialization.get("location")
            wire_name = (location, member.serialization.get("name", name))
            if wire_name in wire_names or wire_name[1].lower() == "content-length":
                # Two members on one wire name (S3's deprecated `Event`/`Events`) cannot
                # both travel; Content-Length is the body's, not the caller's.
                continue
            wire_names.add(wire_name)
            if location == "uri" and name in self._greedy_labels:
                location = "greedy"
            if self.direction == "output" and location in ("uri", "querystring"):
                continue  # not something a response carries
            if self.protocol not in REST_PROTOCOLS:
                location = None
            if name == payload and member.type_name in ("blob", "string"):
                location = "payload"
            required = name in shape.required_members or location in ("uri", "greedy", "statusCode")
            if depth >= MAX_DEPTH and not required and member.type_name in CONTAINERS:
                continue  # deep enough: scalars only
            # An empty required list or payload is absent on several wires; the service
            # would reject it as missing, and so does validation: draw them non-empty.
            out[name] = (self.shape(member, location, depth + 1, required), required)
        return out

    _greedy_labels: frozenset = frozenset()
    _status = 200
    _nonempty = False

    def for_operation(self, op):
        shape = op.input_shape if self.direction == "input" else op.output_shape
        if shape is None:
            return st.just({})
        self._status = op.http.get("responseCode", 200)
        uri = op.http.get("requestUri", "")
        self._greedy_labels = frozenset(
            part[1:-2] for part in uri.replace("?", "/").split("/") if part.endswith("+}")
        )
        return self._structure(shape, None, 0)

    # one method per botocore type name
    def _structure(self, shape, location, depth):
        if shape.metadata.get("document"):
            return st.dictionaries(
                st.text(HEADER_TEXT, min_size=1, max_size=4), st.text(TEXT, max_size=4), max_size=2
            )
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
        if (
            depth
            and not required
            and self.direction == "input"
            and self.protocol in ("query", "ec2")
        ):
            # A query structure with nothing in it sends no key at all; in a list it would
            # leave a hole in the numbering that no client produces on purpose.
            drawn = drawn.filter(functools.partial(_sends_something, self.protocol))
        return drawn

    def _list(self, shape, location, depth):
        low, high = self._bounds(shape, 0, 2)
        if depth >= MAX_DEPTH:
            high = low
        item_location = "header-item" if location == "header" else location
        return st.lists(
            self.shape(shape.member, item_location, depth + 1), min_size=low, max_size=high
        )

    def _map(self, shape, location, depth):
        low, high = self._bounds(shape, 0, 2)
        if depth >= MAX_DEPTH:
            high = low
        if location == "headers":  # a prefix map: x-amz-meta-<key>: <value>
            keys = st.text(string.ascii_lowercase + string.digits, min_size=1, max_size=6)
            return st.dictionaries(
                keys, self.shape(shape.value, "header", depth + 1), max_size=high
            )
        if location == "querystring":
            keys = st.text(string.ascii_lowercase, min_size=3, max_size=6).map(lambda k: f"x-{k}")
            return st.dictionaries(
                keys, self.shape(shape.value, location, depth + 1), max_size=high
            )
        keys = self.shape(shape.key, location, depth + 1)
        values = self.shape(shape.value, location, depth + 1)
        return st.dictionaries(keys, values, min_size=low, max_size=high)

    def _string(self, shape, location, depth):
        if shape.serialization.get("jsonvalue"):
            return st.dictionaries(
                st.text(HEADER_TEXT, min_size=1, max_size=4),
                st.text(HEADER_TEXT, max_size=4),
                max_size=2,
            )
        low, high = self._bounds(shape, 0, 6)
        if shape.enum:
            return st.sampled_from(shape.enum)
        if location in ("header", "headers", "header-item"):
            return st.text(HEADER_TEXT, min_size=max(low, 1), max_size=max(high, 1))
        if location == "uri":
            alphabet = LABEL_TEXT
            return st.text(alphabet, min_size=max(low, 1), max_size=max(high, 1)).filter(
                _plain_segment
            )
        if location == "greedy":
            return st.lists(
                st.text(LABEL_TEXT, min_size=1, max_size=4).filter(_plain_segment),
                min_size=1,
                max_size=3,
            ).map("/".join)
        return st.text(TEXT, min_size=low, max_size=high)

    def _blob(self, shape, location, depth):
        low, high = self._bounds(shape, 0, 8)
        return st.binary(min_size=low, max_size=high)

    def _boolean(self, shape, location, depth):
        return st.booleans()

    def _integer(self, shape, location, depth, bits=31):
        if location == "statusCode":
            return st.just(self._status)
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
        # botocore writes header timestamps from whole seconds, whatever their format.
        whole_seconds = fmt == "rfc822" or location in ("header", "header-item")
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


def _sends_something(protocol: str, value) -> bool:
    """Whether botocore's query/ec2 serializer writes any key for a value."""
    if isinstance(value, dict):
        return any(_sends_something(protocol, v) for v in value.values())
    if isinstance(value, list):
        return protocol == "query" or any(_sends_something(protocol, v) for v in value)
    return value is not None


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
    - rest-xml, both ways: an empty flattened list is no element at all, so absent.
    - REST protocols: see `_absent_on_rest`.
    - members that share a wire name: see `_twins`.
    """
    value = _canonical(shape, value, _drops_empty(protocol, direction))
    if protocol in REST_PROTOCOLS and shape is not None and isinstance(value, dict):
        value = {k: v for k, v in value.items() if not _absent_on_rest(shape, k, v)}
    return value


def _absent_on_rest(shape, name, value) -> bool:
    """REST bindings that cannot tell empty from absent.

    - an empty list or map in a header, prefix headers or the query string sends nothing
      (and S3's codec reads absent prefix headers as an empty map);
    - an empty payload (b"", "", {}) is an empty body;
    - a member bound to Content-Length is the body's length, not a value sent."""
    member = shape.members.get(name)
    if member is None:
        return False
    location = member.serialization.get("location")
    if location == "header" and member.serialization.get("name", "").lower() == "content-length":
        return True
    empty = value in ({}, [], "", b"")
    if location in ("header", "headers", "querystring"):
        return empty and member.type_name in ("list", "map")
    return empty and name == shape.serialization.get("payload")


def _drops_empty(protocol, direction):
    """Which members, when empty, botocore cannot tell from absent."""
    if direction == "input" and protocol == "ec2":
        return _container
    if direction == "input" and protocol == "query":
        return _map_or_structure
    if protocol in ("rest-xml",):
        return _flattened_list
    return _never


def _container(shape) -> bool:
    return shape.type_name in CONTAINERS


def _map_or_structure(shape) -> bool:
    return shape.type_name in ("map", "structure")


def _flattened_list(shape) -> bool:
    return shape.type_name == "list" and bool(shape.serialization.get("flattened"))


def _never(shape) -> bool:
    return False


@functools.cache
def _twins(shape) -> frozenset:
    """Members that share their wire name with another member (S3's deprecated `Event`
    beside `Events`): botocore reads one XML element into both, so neither compares."""
    seen: dict = {}
    for name, member in shape.members.items():
        wire = (member.serialization.get("location"), member.serialization.get("name", name))
        seen.setdefault(wire, []).append(name)
    return frozenset(n for names in seen.values() if len(names) > 1 for n in names)


def _canonical(shape, value, drop_empty):
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if hasattr(value, "read"):
        value = value.read()
    if kind == "structure" and isinstance(value, dict) and not shape.metadata.get("document"):
        out = {}
        twins = _twins(shape)
        for name, item in value.items():
            member = shape.members.get(name)
            if name == "ResponseMetadata" or item is None or name in twins:
                continue
            item = _canonical(member, item, drop_empty)
            if member is not None and item in ({}, []) and drop_empty(member):
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
    return {"status_code": response.status, "headers": HeadersDict(response.headers), "body": body}


def botocore_parse(protocol: str, op, raw: dict):
    shape = op.output_shape
    if op.has_streaming_output:
        raw = {**raw, "body": io.BytesIO(raw["body"])}
    parsed = create_parser(protocol).parse(raw, shape)
    parsed.pop("ResponseMetadata", None)
    if op.name == "GetBucketLocation":  # botocore's handler reads the bare root element
        from botocore.handlers import parse_get_bucket_location

        parse_get_bucket_location(parsed, _Raw(raw["body"]))
    return parsed


class _Raw:
    raw = True

    def __init__(self, content: bytes):
        self.content = content


# -- the tests ---------------------------------------------------------------------------


def _binding(op) -> tuple:
    return op.http.get("method"), op.http.get("requestUri")


def check_request(service: str, protocol: str, op, params: dict) -> None:
    """botocore serializes `params`; our codec must parse the same params back."""
    serializer = create_serializer(protocol, include_validation=False)
    request = http_request(serializer.serialize_to_request(params, op))
    parsed_op, parsed = codec(service, protocol).parse(request)
    if parsed_op.name != op.name:
        # Operations on one HTTP binding (S3's deprecated GetBucketLifecycle beside
        # GetBucketLifecycleConfiguration) are one request on the wire; the codec picks one.
        assert _binding(parsed_op) == _binding(op), f"{op.name} parsed as {parsed_op.name}"
        return
    shape = op.input_shape
    # What a real client sends within the model's bounds must pass validation too.
    validate(shape, parsed)
    got = canonical(shape, parsed, protocol, "input")
    want = canonical(shape, params, protocol, "input")
    assert got == want, f"{service} {op.name} ({protocol}) request\nsent {params!r}\n{request!r}"


def check_response(service: str, protocol: str, op, result: dict) -> None:
    """Our codec serializes `result`; botocore must parse the same result back."""
    response = codec(service, protocol).serialize(op, result, "req-1")
    raw = botocore_response(response)
    parsed = botocore_parse(protocol, op, raw)
    shape = op.output_shape
    got = canonical(shape, parsed, protocol, "output")
    want = canonical(shape, result, protocol, "output")
    assert got == want, f"{service} {op.name} ({protocol}) response\n{raw!r}"


@pytest.mark.parametrize("service,protocol,name", CASES)
@EXAMPLES
@given(data=st.data())
def test_round_trip(service, protocol, name, data):
    """One hypothesis test per operation for both directions: hypothesis's per-test
    set-up is most of the cost at three examples."""
    op = operation(service, name)
    params = data.draw(drawer(protocol, "input").for_operation(op), label="params")
    check_request(service, protocol, op, params)
    if op.has_event_stream_output:
        return  # event-stream responses are framed by the event-stream encoder, not here
    result = data.draw(drawer(protocol, "output").for_operation(op), label="result")
    check_response(service, protocol, op, result)


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
