"""The awsJson codec against botocore itself (CloudWatch Logs; CloudWatch's json mode):
botocore serializes requests we must parse, and parses the responses we serialize."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from conformance import normalize
from oracle import LEAVES, botocore_parse, sample, wire_request

from cloudlet.errors import ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.json import JsonCodec

WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, 250000, tzinfo=dt.UTC)
JSON_LEAVES = {
    **LEAVES,
    "string": 'v é&=+/<x>%"\\\n\u2028😹', "long": 2**53, "double": -2.25e-10,
    "boolean": False, "timestamp": WHEN, "map keys": ("k1", "k é/2&=+", ""),
}


def json_request(codec: JsonCodec, name: str, body: bytes, target: str | None = None):
    target = f"{codec.target_prefix}.{name}" if target is None else target
    headers = {"X-Amz-Target": target, "Content-Type": codec.content_type}
    return HttpRequest("POST", "/", "", Headers(headers.items()), body)


def operations(service: str, streaming: bool = True):
    """Every operation; event-stream outputs (Logs' StartLiveTail) are not served yet."""
    model = service_model(service)
    return [
        pytest.param(service, n, id=f"{service}:{n}") for n in model.operation_names
        if streaming or not model.operation_model(n).has_event_stream_output
    ]


CODECS = {name: JsonCodec(service_model(name)) for name in ("logs", "cloudwatch")}
ALL = operations("logs") + operations("cloudwatch")
NOT_STREAMING = operations("logs", streaming=False) + operations("cloudwatch", streaming=False)


@pytest.mark.parametrize("service,name", ALL)
def test_what_botocore_sends_parses_back_to_its_params(service, name):
    codec = CODECS[service]
    operation = codec.model.operation_model(name)
    shape = operation.input_shape
    params = sample(shape, JSON_LEAVES) or {} if shape is not None else {}
    parsed_operation, parsed = codec.parse(wire_request("json", operation, params))
    assert parsed_operation.name == name
    assert normalize(shape, parsed) == normalize(shape, params)


@pytest.mark.parametrize("service,name", NOT_STREAMING)
def test_what_we_send_botocore_parses_back_to_the_result(service, name):
    codec = CODECS[service]
    operation = codec.model.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape, JSON_LEAVES) or {}) if shape is not None else {}
    response = codec.serialize(operation, result, "req-42")
    assert response.status == 200
    assert response.headers["Content-Type"] == codec.content_type
    parsed = botocore_parse("json", response, shape)
    assert parsed["ResponseMetadata"]["RequestId"] == "req-42"
    parsed.pop("ResponseMetadata")
    assert normalize(shape, parsed) == normalize(shape, result)


def test_put_log_events_reads_timestamps_as_epoch_milliseconds_numbers():
    codec = CODECS["logs"]
    body = json.dumps({
        "logGroupName": "/aws/lambda/f", "logStreamName": "s",
        "logEvents": [{"timestamp": 1614834367250, "message": "hello"}],
    }).encode()
    operation, params = codec.parse(json_request(codec, "PutLogEvents", body))
    assert operation.name == "PutLogEvents"
    assert params["logEvents"] == [{"timestamp": 1614834367250, "message": "hello"}]


def test_cloudwatch_timestamps_are_epoch_seconds_both_ways():
    codec = CODECS["cloudwatch"]
    body = json.dumps({"AlarmName": "a", "HistoryItemType": "StateUpdate",
                       "StartDate": 1614834367.25, "EndDate": "2021-03-04T05:06:07Z"}).encode()
    _, params = codec.parse(json_request(codec, "DescribeAlarmHistory", body))
    assert params["StartDate"] == WHEN
    assert params["EndDate"] == WHEN.replace(microsecond=0)
    operation = codec.model.operation_model("DescribeAlarmHistory")
    response = codec.serialize(operation, {"AlarmHistoryItems": [{"Timestamp": WHEN}]}, "r")
    assert json.loads(response.body) == {"AlarmHistoryItems": [{"Timestamp": 1614834367.25}]}


def test_an_empty_body_is_an_empty_object():
    codec = CODECS["logs"]
    operation, params = codec.parse(json_request(codec, "DescribeLogGroups", b""))
    assert (operation.name, params) == ("DescribeLogGroups", {})


@pytest.mark.parametrize("body", [
    b"{", b'{"logGroupName": "a"', b"{'logGroupName': 'a'}", b"not json", b"\xff\xfe\x00",
    b"[]", b'"a string"', b"null", b"42",
    b'{"logGroupName": 5}', b'{"logGroupName": "a", "tags": ["x"]}',
    b'{"logGroupName": "a", "tags": {"k": 1}}',
    b"[" * 100000,
])
def test_bodies_that_are_not_the_input_shape_are_serialization_exceptions(body):
    codec = CODECS["logs"]
    with pytest.raises(ServiceError) as caught:
        codec.parse(json_request(codec, "CreateLogGroup", body))
    assert caught.value.code == "SerializationException"
    assert caught.value.status == 400


@pytest.mark.parametrize("target", ["", "Logs_20140328", "Logs_20140328.NoSuchThing",
                                    "Other_2020.CreateLogGroup", "CreateLogGroup"])
def test_unknown_targets_are_unknown_operations(target):
    codec = CODECS["logs"]
    with pytest.raises(ServiceError) as caught:
        codec.parse(json_request(codec, "CreateLogGroup", b"{}", target=target))
    assert caught.value.code == "UnknownOperationException"


def test_a_modeled_error_reaches_botocore_with_code_message_and_fields():
    codec = CODECS["logs"]
    operation = codec.model.operation_model("PutLogEvents")
    error = ServiceError("The log group does not exist.", code="ResourceNotFoundException",
                         status=400)
    response = codec.serialize_error(error, operation, "req-7")
    assert response.headers["x-amzn-RequestId"] == "req-7"
    assert json.loads(response.body) == {
        "__type": "ResourceNotFoundException", "message": "The log group does not exist.",
    }
    parsed = botocore_parse("json", response, operation.output_shape)
    assert parsed["Error"] == {"Code": "ResourceNotFoundException",
                               "Message": "The log group does not exist."}
    assert response.status == 400


def test_error_fields_are_serialized_as_the_error_shape_says():
    codec = CODECS["logs"]
    operation = codec.model.operation_model("PutLogEvents")
    error = ServiceError("bad", code="DataAlreadyAcceptedException",
                         fields={"expectedSequenceToken": "49590"})
    response = codec.serialize_error(error, operation, "r")
    shape = codec.error_shape("DataAlreadyAcceptedException")
    assert response.status == 400
    assert botocore_parse("json", response, shape)["expectedSequenceToken"] == "49590"


def test_query_compatible_errors_carry_the_query_code_and_fault():
    codec = CODECS["cloudwatch"]
    operation = codec.model.operation_model("GetMetricData")
    for code, fault in (("ResourceNotFound", True), ("InternalServiceFault", False)):
        error = ServiceError("m", code=code, status=400 if fault else 500, sender_fault=fault)
        response = codec.serialize_error(error, operation, "r")
        shape = codec.error_shape(code)
        expected_code = shape.metadata["error"]["code"]
        side = "Sender" if fault else "Receiver"
        assert response.headers["x-amzn-query-error"] == f"{expected_code};{side}"
        parsed = botocore_parse("json", response, operation.output_shape)
        assert parsed["Error"]["Code"] == expected_code
        assert parsed["Error"]["Type"] == side
