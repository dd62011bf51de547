"""The rest-json codec against botocore itself (Lambda): botocore serializes requests we
must parse, and parses the responses we serialize."""

from __future__ import annotations

import json

import pytest
from conformance import normalize
from oracle import LEAVES, botocore_parse, sample, wire_request

from cloudlet.errors import ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.restjson import RestJsonCodec

MODEL = service_model("lambda")
CODEC = RestJsonCodec(MODEL)
RESTJSON_LEAVES = {**LEAVES, "string": 'v é&=+/<x>%"\\\n😹', "long": 2**40, "double": -2.25}
LOCATED = {
    "header": {"string": "v-é &=+/%"},  # a header holds no line breaks
    "statusCode": {"integer": 202},
}


def request(method: str, target: str, body: bytes = b"", **headers) -> HttpRequest:
    path, _, query = target.partition("?")
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    return HttpRequest(method, path, query, Headers(headers.items()), body)


OPERATIONS = [pytest.param(n, id=n) for n in MODEL.operation_names]
NOT_STREAMING = [
    pytest.param(n, id=n) for n in MODEL.operation_names
    if not MODEL.operation_model(n).has_event_stream_output
]


@pytest.mark.parametrize("name", OPERATIONS)
def test_what_botocore_sends_parses_back_to_its_params(name):
    operation = MODEL.operation_model(name)
    shape = operation.input_shape
    params = (sample(shape, RESTJSON_LEAVES, LOCATED) or {}) if shape is not None else {}
    parsed_operation, parsed = CODEC.parse(wire_request("rest-json", operation, params))
    assert parsed_operation.name == name
    assert normalize(shape, parsed) == normalize(shape, params)


@pytest.mark.parametrize("name", NOT_STREAMING)
def test_what_we_send_botocore_parses_back_to_the_result(name):
    operation = MODEL.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape, RESTJSON_LEAVES, LOCATED) or {}) if shape is not None else {}
    response = CODEC.serialize(operation, result, "req-42")
    parsed = botocore_parse("rest-json", response, shape, streaming=operation.has_streaming_output)
    assert parsed["ResponseMetadata"]["RequestId"] == "req-42"
    parsed.pop("ResponseMetadata")
    assert normalize(shape, parsed) == normalize(shape, result)


def test_invoke_takes_the_raw_payload_and_headers():
    req = request(
        "POST", "/2015-03-31/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A000000000000%3Afunction%3Af/invocations?Qualifier=live",
        b'{"not": "parsed"', X_Amz_Invocation_Type="Event", X_Amz_Log_Type="Tail",
        Content_Type="application/octet-stream",
    )
    operation, params = CODEC.parse(req)
    assert operation.name == "Invoke"
    assert params == {
        "FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f",
        "Qualifier": "live", "InvocationType": "Event", "LogType": "Tail",
        "Payload": b'{"not": "parsed"',
    }


def test_invoke_answers_with_the_raw_payload_status_and_headers():
    operation = MODEL.operation_model("Invoke")
    response = CODEC.serialize(operation, {
        "StatusCode": 200, "Payload": b'{"ok": true}', "ExecutedVersion": "$LATEST",
        "FunctionError": "Unhandled",
    }, "r")
    assert response.status == 200
    assert response.body == b'{"ok": true}'
    assert response.headers["X-Amz-Executed-Version"] == "$LATEST"
    assert response.headers["X-Amz-Function-Error"] == "Unhandled"


@pytest.mark.parametrize("name", [
    n for n in MODEL.operation_names if MODEL.operation_model(n).http.get("responseCode") == 204
])
def test_an_output_without_body_members_is_an_empty_body_with_the_model_status(name):
    operation = MODEL.operation_model(name)
    response = CODEC.serialize(operation, {}, "r")
    assert response.status == 204
    assert response.body == b""


def test_create_function_round_trips_its_json_body():
    body = json.dumps({
        "FunctionName": "f", "Role": "arn:aws:iam::000000000000:role/r", "Runtime": "python3.12",
        "Handler": "app.handler", "Code": {"ZipFile": "UEsDBA=="}, "Timeout": 30,
        "Environment": {"Variables": {"A": "1"}}, "Publish": True,
    }).encode()
    req = request("POST", "/2015-03-31/functions", body, Content_Type="application/json")
    operation, params = CODEC.parse(req)
    assert operation.name == "CreateFunction"
    assert params["Code"] == {"ZipFile": b"PK\x03\x04"}
    assert params["Timeout"] == 30 and params["Publish"] is True
    assert params["Environment"] == {"Variables": {"A": "1"}}


@pytest.mark.parametrize("body", [
    b"{", b'{"FunctionName": "f"', b"not json", b"\xff\xfe\x00", b"[]", b'"s"',
    b'{"FunctionName": 5}', b'{"FunctionName": "f", "Timeout": "30"}',
    b'{"FunctionName": "f", "Code": []}', b'{"FunctionName": "f", "Publish": "yes"}',
    b'{"FunctionName": "f", "Code": {"ZipFile": "%%%"}}',
])
def test_bodies_that_are_not_the_input_shape_are_4xx(body):
    req = request("POST", "/2015-03-31/functions", body, Content_Type="application/json")
    with pytest.raises(ServiceError) as caught:
        CODEC.parse(req)
    assert caught.value.code == "SerializationException"
    assert caught.value.status == 400


def test_a_json_body_with_a_foreign_content_type_is_unsupported_media_type():
    req = request("POST", "/2015-03-31/functions", b"FunctionName=f",
                  Content_Type="application/x-www-form-urlencoded")
    with pytest.raises(ServiceError) as caught:
        CODEC.parse(req)
    assert (caught.value.code, caught.value.status) == ("UnsupportedMediaTypeException", 415)


@pytest.mark.parametrize("query", ["MaxItems=ten", "MaxItems=1.5", "MaxItems="])
def test_query_values_that_are_not_their_type_are_4xx(query):
    with pytest.raises(ServiceError) as caught:
        CODEC.parse(request("GET", f"/2015-03-31/functions/?{query}"))
    assert caught.value.status == 400


def test_a_modeled_error_carries_type_message_and_error_type_header():
    operation = MODEL.operation_model("GetFunction")
    error = ServiceError("Function not found: arn:aws:lambda:us-east-1:000000000000:function:f",
                         code="ResourceNotFoundException", status=404)
    response = CODEC.serialize_error(error, operation, "req-9")
    assert response.status == 404
    assert response.headers["x-amzn-ErrorType"] == "ResourceNotFoundException"
    assert response.headers["x-amzn-RequestId"] == "req-9"
    assert json.loads(response.body) == {"Type": "User", "Message": error.message}
    parsed = botocore_parse("rest-json", response, operation.output_shape)
    assert parsed["Error"] == {"Code": "ResourceNotFoundException", "Message": error.message}
    modeled = botocore_parse("rest-json", response, CODEC.error_shape(error.code))
    assert modeled["Type"] == "User"


def test_error_fields_and_server_faults():
    operation = MODEL.operation_model("Invoke")
    error = ServiceError("Rate exceeded", code="TooManyRequestsException", status=429,
                         fields={"retryAfterSeconds": "3", "Reason": "ReservedFunctionConcurrentInvocationLimitExceeded"})
    response = CODEC.serialize_error(error, operation, "r")
    modeled = botocore_parse("rest-json", response, CODEC.error_shape(error.code))
    assert modeled["retryAfterSeconds"] == "3"
    assert modeled["Reason"] == "ReservedFunctionConcurrentInvocationLimitExceeded"
    assert response.headers["Retry-After"] == "3"
    failure = ServiceError("boom", code="ServiceException", status=500, sender_fault=False)
    body = json.loads(CODEC.serialize_error(failure, operation, "r").body)
    assert body == {"Type": "Service", "Message": "boom"}


def test_an_unmodeled_error_still_reaches_botocore():
    operation = MODEL.operation_model("ListFunctions")
    error = ServiceError("1 validation error detected", code="ValidationException")
    response = CODEC.serialize_error(error, operation, "r")
    parsed = botocore_parse("rest-json", response, operation.output_shape)
    assert parsed["Error"] == {"Code": "ValidationException", "Message": error.message}
