"""botocore's protocol test cases, run server-side against our codecs."""

from __future__ import annotations

import io

import pytest
from botocore.awsrequest import HeadersDict
from botocore.parsers import create_parser
from conformance import cases, model_for, normalize, request_body

from cloudlet.errors import ServiceError
from cloudlet.protocols import codec_class
from cloudlet.protocols.base import Headers, HttpRequest

# Client-side cases whose request a server cannot map back to the params, because two
# different params give the same bytes on the wire. They run, and are expected to fail
# (strictly: one that starts passing is reported).
AMBIGUOUS_ON_THE_WIRE = {
    "rest-json:RestJsonOmitsEmptyListQueryValues":
        "an empty query list is not sent at all; a server reads it as absent",
    "rest-json:RestJsonQueryParamsStringListMap":
        "botocore's AllQueryStringTypes cases put named query params in the map of lists too; "
        "this case leaves them out; the same request cannot satisfy both",
    "rest-xml:RestXmlQueryParamsStringListMap":
        "the same rule as rest-json: a map of lists takes every query param, named or not",
}


def _input_param(stem, protocol, suite, case):
    case_id = f"{stem}:{case['id']}"
    marks = ()
    if case_id in AMBIGUOUS_ON_THE_WIRE:
        marks = pytest.mark.xfail(strict=True, reason=AMBIGUOUS_ON_THE_WIRE[case_id])
    return pytest.param(protocol, suite, case, id=case_id, marks=marks)


INPUT = [_input_param(stem, p, s, c) for stem, p, s, c in cases("input")]
OUTPUT = [pytest.param(p, s, c, id=f"{stem}:{c['id']}") for stem, p, s, c in cases("output")]


def build_request(protocol: str, case: dict, suite: dict | None = None) -> HttpRequest:
    serialized = case["serialized"]
    path, _, query = serialized["uri"].partition("?")
    headers = dict(serialized.get("headers") or {})
    headers.setdefault("Host", serialized.get("host", "example.com"))
    if protocol == "json" and suite and not any(k.lower() == "x-amz-target" for k in headers):
        # A few cases omit the header; botocore's client always sends it.
        headers["X-Amz-Target"] = f"{suite['metadata']['targetPrefix']}.{case['given']['name']}"
    body = request_body(case, protocol)
    return HttpRequest(
        method=serialized["method"], path=path, query=query,
        headers=Headers(headers.items()), body=body,
    )


@pytest.mark.parametrize("protocol,suite,case", INPUT)
def test_input_case_parses_to_its_params(protocol, suite, case):
    model = model_for(suite, case)
    codec = codec_class(protocol)(model)
    operation, params = codec.parse(build_request(protocol, case, suite))
    assert operation.name == case["given"]["name"]
    shape = operation.input_shape
    expected = normalize(shape, case["params"])
    if case.get("description", "").startswith("Does not serialize empty"):
        # The client left the empty list/map off the wire: it can only come back absent.
        expected = {k: v for k, v in expected.items() if v not in ([], {}) or k in params}
    assert normalize(shape, params) == expected


def _botocore_response(response) -> dict:
    body = response.body if isinstance(response.body, bytes) else b"".join(response.body)
    return {
        "status_code": response.status,
        # Case-insensitive, as the urllib3 headers botocore's endpoint hands its parsers.
        "headers": HeadersDict(response.headers.items()),
        "body": body,
    }


@pytest.mark.parametrize("protocol,suite,case", OUTPUT)
def test_output_case_round_trips_through_botocore(protocol, suite, case):
    model = model_for(suite, case)
    operation = model.operation_model(case["given"]["name"])
    codec = codec_class(protocol)(model)
    parser = create_parser(protocol)
    if "error" in case or "errorCode" in case:
        fields = {k: v for k, v in (case.get("error") or {}).items() if k.lower() != "message"}
        shape = codec.error_shape(case["errorCode"])
        status = case["response"]["status_code"]
        error = ServiceError(case.get("errorMessage", ""), code=case["errorCode"], status=status,
                             fields=fields)
        response = codec.serialize_error(error, operation, "req-1")
        raw = _botocore_response(response)
        parsed = parser.parse(raw, operation.output_shape)
        if shape is not None:  # as botocore's endpoint does: modeled fields, parsed by shape
            parsed.update(parser.parse(raw, shape))
        assert parsed["Error"]["Code"] == case["errorCode"]
        if "errorMessage" in case:
            assert parsed["Error"].get("Message", "") == case["errorMessage"]
        if shape is not None and fields:
            expected = normalize(shape, fields)
            got = {k: v for k, v in parsed.items() if k not in ("Error", "ResponseMetadata")}
            # botocore reads some modeled members into the Error dict instead (query XML).
            got.update({k: v for k, v in parsed["Error"].items() if k in expected})
            assert normalize(shape, got) == expected
        return
    response = codec.serialize(operation, case["result"], "req-1")
    raw = _botocore_response(response)
    shape = operation.output_shape
    if shape is not None and shape.serialization.get("payload"):
        payload = shape.members[shape.serialization["payload"]]
        if payload.type_name == "blob" or payload.serialization.get("eventstream"):
            raw["body"] = io.BytesIO(raw["body"]) if operation.has_streaming_output else raw["body"]
    parsed = parser.parse(raw, shape)
    parsed.pop("ResponseMetadata", None)  # botocore adds it even without an output shape
    assert normalize(shape, parsed) == normalize(shape, case["result"])
