"""The RPC v2 CBOR codec: requests botocore sends, responses botocore reads, bad bodies."""

from __future__ import annotations

import datetime as dt
import decimal
import math

import cbor2
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oracle import botocore_parse, wire_request

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.cbor import CborCodec

MODEL = service_model("cloudwatch")
PREFIX = MODEL.metadata["targetPrefix"]
PROTOCOL = "smithy-rpc-v2-cbor"


@pytest.fixture(scope="module")
def codec():
    return CborCodec(MODEL)


def request(operation: str, body: bytes = b"", service: str = PREFIX) -> HttpRequest:
    headers = Headers([("smithy-protocol", "rpc-v2-cbor"), ("Content-Type", "application/cbor")])
    return HttpRequest("POST", f"/service/{service}/operation/{operation}", "", headers, body)


def test_parses_what_botocore_sends(codec):
    when = dt.datetime(2024, 5, 1, 12, 30, 15, 250000, tzinfo=dt.UTC)
    params = {
        "Namespace": "App",
        "MetricData": [
            {
                "MetricName": "Latency",
                "Timestamp": when,
                "Value": 1.5,
                "Dimensions": [{"Name": "Host", "Value": "a"}],
                "StorageResolution": 1,
            }
        ],
    }
    request = wire_request(PROTOCOL, MODEL.operation_model("PutMetricData"), params)
    op, parsed = codec.parse(request)
    assert op.name == "PutMetricData"
    assert parsed == params
    assert parsed["MetricData"][0]["Timestamp"].tzinfo is not None


def test_request_path_uses_target_prefix_or_service_name(codec):
    assert codec.parse(request("ListDashboards", b"\xa0"))[0].name == "ListDashboards"
    assert codec.parse(request("ListDashboards", service="CloudWatch"))[0].name == "ListDashboards"


def test_empty_body_is_empty_input(codec):
    assert codec.parse(request("ListDashboards"))[1] == {}


def test_unknown_operation(codec):
    with pytest.raises(ServiceError) as e:
        codec.parse(request("NoSuchThing", b"\xa0"))
    assert e.value.code == "UnknownOperationException"


@pytest.mark.parametrize(
    "body",
    [
        b"\xff",  # a lone break
        b"\xa1\x61",  # truncated map
        b"\x5b\x00\x00\x00\xff\xff\xff\xff\x00",  # a byte string claiming 4 GiB
        b"\x9b\x00\x00\x00\xff\xff\xff\xff\x00",  # an array claiming 2^32 items
        b"\x81" * 100_000 + b"\x00",  # deep nesting
        b"\x9f" * 100_000,  # deep indefinite nesting
        b"\xd8\x1c\x81\xd8\x1d\x00",  # a shared reference cycle
        b"\xc1\x63abc",  # tag 1 on a string
        b"\xd8\x23\x63a(b",  # a regex tag
        b"\xa0\x00",  # data after the item
        b"\x80",  # an array, not a map
        b"\xa2\x61a\x01\x61a\x02",  # duplicate keys
        b"\xa1\x80\x01",  # a list as a key
        cbor2.dumps({"DashboardNamePrefix": 5}),  # wrong type for a string member
        cbor2.dumps({"DashboardNamePrefix": b"bytes"}),
    ],
)
def test_malformed_bodies_are_serialization_errors(codec, body):
    with pytest.raises(SerializationError) as e:
        codec.parse(request("ListDashboards", body))
    assert e.value.code == "SerializationException"
    assert e.value.status == 400


def test_wrong_types_deep_in_the_input(codec):
    body = cbor2.dumps({"Namespace": "A", "MetricData": [{"MetricName": "m", "Value": "x"}]})
    with pytest.raises(SerializationError):
        codec.parse(request("PutMetricData", body))
    body = cbor2.dumps({"Namespace": "A", "MetricData": [{"MetricName": "m", "Timestamp": "x"}]})
    with pytest.raises(SerializationError):
        codec.parse(request("PutMetricData", body))


def test_unknown_members_and_nulls_are_dropped(codec):
    body = cbor2.dumps({"DashboardNamePrefix": None, "Extra": 1, "NextToken": "t"})
    assert codec.parse(request("ListDashboards", body))[1] == {"NextToken": "t"}


def test_plain_epoch_numbers_are_timestamps(codec):
    body = cbor2.dumps({"AlarmName": "a", "StartDate": 1700000000.5})
    params = codec.parse(request("DescribeAlarmHistory", body))[1]
    assert params["StartDate"] == dt.datetime.fromtimestamp(1700000000.5, dt.UTC)


def test_response_is_cbor_botocore_reads(codec):
    op = MODEL.operation_model("GetMetricData")
    when = dt.datetime(2024, 5, 1, 12, 0, 0, 123000, tzinfo=dt.UTC)
    result = {
        "MetricDataResults": [
            {
                "Id": "m1",
                "Label": "L",
                "Timestamps": [when],
                "Values": [1.25],
                "StatusCode": "Complete",
            }
        ],
        "NextToken": "n",
    }
    response = codec.serialize(op, result, "req-1")
    assert response.headers["Content-Type"] == "application/cbor"
    assert response.headers["smithy-protocol"] == "rpc-v2-cbor"
    decoded = cbor2.loads(response.body)
    stamp = decoded["MetricDataResults"][0]["Timestamps"][0]
    assert stamp == when  # tag 1, decoded by cbor2 as a datetime
    parsed = botocore_parse(PROTOCOL, response, op.output_shape)
    assert parsed["MetricDataResults"] == result["MetricDataResults"]
    assert parsed["ResponseMetadata"]["RequestId"] == "req-1"


def test_timestamps_accept_epoch_and_iso_strings(codec):
    op = MODEL.operation_model("GetMetricData")
    result = {
        "MetricDataResults": [{"Id": "a", "Timestamps": [1700000000, "2024-01-01T00:00:00Z"]}]
    }
    stamps = cbor2.loads(codec.serialize(op, result, "r").body)["MetricDataResults"][0][
        "Timestamps"
    ]
    assert [s.timestamp() for s in stamps] == [1700000000, 1704067200]


def test_operation_without_output_has_empty_body(codec):
    op = MODEL.operation_model("DeleteAlarms")
    response = codec.serialize(op, {}, "r")
    if op.output_shape is None:
        assert response.body == b"" and "Content-Type" not in response.headers
    else:
        assert cbor2.loads(response.body) == {}


def test_modeled_error_carries_query_code_header(codec):
    op = MODEL.operation_model("GetDashboard")
    error = ServiceError("Dashboard x does not exist", code="ResourceNotFound", status=404)
    response = codec.serialize_error(error, op, "req-9")
    assert response.status == 404
    assert response.headers["x-amzn-query-error"] == "ResourceNotFound;Sender"
    body = cbor2.loads(response.body)
    assert body["__type"] == "DashboardNotFoundError"
    parsed = botocore_parse(PROTOCOL, response, op.output_shape)
    assert parsed["Error"]["Code"] == "ResourceNotFound"
    assert parsed["Error"]["Message"] == "Dashboard x does not exist"


def test_error_named_by_shape_uses_the_query_code(codec):
    error = ServiceError("gone", code="DashboardNotFoundError", status=404)
    response = codec.serialize_error(error, None, "r")
    assert response.headers["x-amzn-query-error"] == "ResourceNotFound;Sender"


def test_unmodeled_error_and_receiver_fault(codec):
    error = ServiceError("boom", code="InternalFailure", status=500, sender_fault=False)
    response = codec.serialize_error(error, None, "r")
    assert response.headers["x-amzn-query-error"] == "InternalFailure;Receiver"
    assert cbor2.loads(response.body) == {"__type": "InternalFailure", "message": "boom"}


def test_error_fields_are_serialized_by_the_error_shape(codec):
    error = ServiceError(
        "bad",
        code="InvalidParameterInput",
        fields={"dashboardValidationMessages": [{"DataPath": "p", "Message": "m"}]},
    )
    body = cbor2.loads(codec.serialize_error(error, None, "r").body)
    assert body["dashboardValidationMessages"] == [{"DataPath": "p", "Message": "m"}]


def test_validation_error_code_follows_query_compatibility(codec):
    assert codec.validation_error_code == "ValidationError"
    op = MODEL.operation_model("PutMetricData")
    with pytest.raises(ServiceError) as e:
        codec.validate(op, {"MetricData": []})
    assert e.value.code == "ValidationError"
    assert "Value null at 'namespace'" in e.value.message


def test_integers_beyond_their_type_are_validation_errors(codec):
    """A bignum parses; the validator holds it to the member's type (an `integer` is 32
    bits), in the service's validation words."""
    body = cbor2.dumps({"AlarmName": "a", "EvaluationPeriods": 2**70})
    op, params = codec.parse(request("PutMetricAlarm", body))
    with pytest.raises(ServiceError) as e:
        codec.validate(op, params)
    assert e.value.code == "ValidationError"
    assert ("Value '1180591620717411303424' at 'evaluationPeriods' failed to satisfy "
            "constraint: Member must have value less than or equal to 2147483647"
            ) in e.value.message


@pytest.mark.parametrize("value", [10**400, -(10**400), 2**1100, cbor2.CBORTag(4, [400, 1]),
                                   cbor2.CBORTag(4, [-400, 1])])
def test_bignums_and_decimals_as_doubles_do_not_overflow(codec, value):
    """Found in issue 12: a bignum metric value raised OverflowError (a 500). Beyond a
    double's range it reads as +-Infinity, which the service refuses in its own words."""
    body = cbor2.dumps({"Namespace": "N", "MetricData": [{"MetricName": "m", "Value": value}]})
    op, params = codec.parse(request("PutMetricData", body))
    got = params["MetricData"][0]["Value"]
    assert isinstance(got, float)
    assert abs(got) in (math.inf, 0.0)


def test_a_signalling_nan_is_a_serialization_error(codec):
    with pytest.raises(SerializationError):
        codec._parse_float(MODEL.shape_for("DatapointValue"), decimal.Decimal("sNaN"))


VALID = cbor2.dumps(
    {
        "Namespace": "A",
        "MetricData": [
            {"MetricName": "m", "Value": 1.5, "Timestamp": cbor2.CBORTag(1, 1700000000)},
            {"MetricName": "n", "Values": [1.0, 2.0], "Counts": [1.0, 1.0]},
        ],
    }
)


@settings(max_examples=300, deadline=None, derandomize=True, database=None)
@given(
    st.one_of(
        st.binary(max_size=64),
        st.tuples(st.integers(0, len(VALID) - 1), st.integers(0, 255)).map(
            lambda edit: VALID[: edit[0]] + bytes([edit[1]]) + VALID[edit[0] + 1 :]
        ),
        st.integers(0, len(VALID)).map(lambda cut: VALID[:cut]),
    )
)
def test_any_body_parses_or_is_a_serialization_error(body):
    codec = CborCodec(MODEL)
    try:
        codec.parse(request("PutMetricData", body))
    except SerializationError as e:
        assert e.code == "SerializationException" and e.status == 400
