"""A bounded fuzz of every protocol codec: hostile requests drawn from every served model
(tests/support/hostile.py) go through the codec's parse and validate, as the gateway's
pipeline runs them.

Each one must either parse into params that hold to their types (integers within 32 or 64
bits, floats as floats, aware timestamps, text that is UTF-8 where the wire is), or raise a
4xx `ServiceError` whose code is the model's or the protocol's, which the codec renders
and botocore reads back with that code. Anything else would have been a 500.

Bounded for CI (a few seconds; with the HTTP fuzz, well under a minute on two cores):
`CLOUDLET_FUZZ_EXAMPLES` examples per service and protocol (default 40), derandomized so
every run draws the same requests; raise it to fuzz longer locally.
"""

from __future__ import annotations

import datetime as dt
import functools
import os

import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from hostile import BOMBS, Hostile, build, labels_only
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from cloudlet.errors import ServiceError
from cloudlet.models import SERVICES, service_model
from cloudlet.protocols import codec_class
from cloudlet.protocols.base import Headers, HttpRequest, is_utf8

EXAMPLES = int(os.environ.get("CLOUDLET_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=(Phase.explicit, Phase.generate), suppress_health_check=list(HealthCheck))

# What a codec may answer besides the model's own errors.
PROTOCOL_CODES = {
    "SerializationException", "UnknownOperationException", "UnsupportedMediaTypeException",
    "MalformedXML", "InvalidURI", "InvalidArgument", "InvalidStorageClass",
    "MalformedPOSTRequest", "MissingAction", "InvalidAction", "MissingParameter",
    "InvalidParameterValue", "ValidationError", "ValidationException",
}
TEXT_WIRES = ("query", "ec2", "rest-xml")  # every string is percent-decoded or XML
BOUNDS = {"integer": 2**31, "long": 2**63}


def _pairs():
    for service in SERVICES:
        model = service_model(service)
        for protocol in model.metadata.get("protocols") or [model.protocol]:
            yield pytest.param(service, protocol, id=f"{service}:{protocol}")


PAIRS = list(_pairs())


@functools.cache
def codec(service: str, protocol: str):
    return codec_class(protocol, service)(service_model(service))


@functools.cache
def hostile(protocol: str) -> Hostile:
    return Hostile(protocol)


@functools.cache
def model_codes(service: str) -> frozenset:
    return frozenset(s.error_code for s in service_model(service).error_shapes)


def http_request(wire) -> HttpRequest:
    headers = Headers([("Host", "127.0.0.1:4566"), *wire.headers.items()])
    return HttpRequest(method=wire.method, path=wire.path, query=wire.query, headers=headers,
                       body=wire.body)


def judge(service: str, protocol: str, request: HttpRequest) -> None:
    """Parse and validate as the pipeline does; the outcome must be one of the two above."""
    the_codec = codec(service, protocol)
    operation = None
    try:
        operation, params = the_codec.parse(request)
        the_codec.validate(operation, params)
    except ServiceError as error:
        assert 400 <= error.status < 500, (error.code, error.status, error.message)
        assert error.code in model_codes(service) | PROTOCOL_CODES, (error.code, error.message)
        rendered = the_codec.serialize_error(error, operation, "req-1")
        body = rendered.body if isinstance(rendered.body, bytes) else b"".join(rendered.body)
        parsed = create_parser(protocol).parse(
            {"status_code": rendered.status, "headers": HeadersDict(rendered.headers),
             "body": body}, None)
        assert parsed["Error"]["Code"], (error.code, body[:300])
        return
    check_params(operation.input_shape, params, protocol, "")


def check_params(shape, value, protocol: str, path: str) -> None:
    """What passed the validator holds to its types."""
    if value is None or shape is None or shape.metadata.get("document"):
        return
    kind = shape.type_name
    if kind == "structure":
        for name, item in value.items():
            check_params(shape.members[name], item, protocol, f"{path}.{name}")
    elif kind == "list":
        for item in value:
            check_params(shape.member, item, protocol, f"{path}[]")
    elif kind == "map":
        for key, item in value.items():
            check_params(shape.key, key, protocol, f"{path}{{}}")
            check_params(shape.value, item, protocol, f"{path}.{key}")
    elif kind in BOUNDS:
        assert -BOUNDS[kind] <= value < BOUNDS[kind], (path, value)
    elif kind in ("float", "double"):
        assert isinstance(value, float), (path, value)
    elif kind == "timestamp":
        assert isinstance(value, dt.datetime) and value.tzinfo is not None, (path, value)
    elif kind == "string" and protocol in TEXT_WIRES and isinstance(value, str):
        assert is_utf8(value), (path, value)


@pytest.mark.parametrize("service,protocol", PAIRS)
@FUZZ
@given(data=st.data())
def test_hostile_input_is_a_modeled_4xx_or_valid_params(service, protocol, data):
    model = service_model(service)
    name = data.draw(st.sampled_from(model.operation_names), label="operation")
    operation = model.operation_model(name)
    params = data.draw(hostile(protocol).params(operation), label="params")
    try:
        wire = build(service, protocol, operation, params, model)
    except Exception:  # botocore's serializer refused the value: nothing reaches a server
        return
    judge(service, protocol, http_request(wire))


@pytest.mark.parametrize("service,protocol", PAIRS)
@FUZZ
@given(data=st.data())
def test_bombs_are_modeled_4xx(service, protocol, data):
    """Bodies no shape describes (depth bombs, duplicate keys, huge declared lengths) for
    an operation of the service, in its protocol's envelope."""
    model = service_model(service)
    name = data.draw(st.sampled_from(model.operation_names), label="operation")
    operation = model.operation_model(name)
    wire = build(service, protocol, operation, labels_only(operation), model)
    wire.body = data.draw(BOMBS[protocol](), label="body")
    if protocol == "rest-xml":
        wire.headers["Content-Type"] = "application/xml"
    judge(service, protocol, http_request(wire))
