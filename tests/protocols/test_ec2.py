"""The ec2 codec against botocore itself: botocore serializes requests we must parse, and
parses the responses we serialize."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from conformance import normalize

from cloudlet.errors import ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.ec2 import Ec2Codec

WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, 123000, tzinfo=dt.UTC)
MODEL = service_model("ec2")
CODEC = Ec2Codec(MODEL)
OPERATIONS = list(MODEL.operation_names)


def sample(shape, depth: int = 0):
    """A value for every member of a shape, a few levels deep; None where too deep."""
    kind = shape.type_name
    if kind in ("structure", "list", "map") and depth > 5:
        return None
    if kind == "structure":
        values = {n: sample(m, depth + 1) for n, m in shape.members.items()}
        return {n: v for n, v in values.items() if v is not None} or None
    if kind == "list":
        item = sample(shape.member, depth + 1)
        return None if item is None else [item, item]
    if kind == "map":
        value = sample(shape.value, depth + 1)
        return None if value is None else {"k1": value, "k é/2&=+": value}
    return {
        "string": "v é&=+/<x>%",
        "integer": 7, "long": 8, "short": 3, "byte": 1,
        "float": 1.5, "double": 2.25,
        "boolean": False,
        "timestamp": WHEN,
        "blob": b"\x00\xffblob",
    }[kind]


def wire_request(operation, params: dict) -> HttpRequest:
    """The HTTP request botocore would send for `params`."""
    serializer = create_serializer("ec2", include_validation=False)
    serialized = serializer.serialize_to_request(params, operation)
    prepare_request_dict(serialized, endpoint_url="https://ec2.us-east-1.amazonaws.com")
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    return HttpRequest(
        method=prepared.method, path=url.path or "/", query=url.query,
        headers=Headers(prepared.headers.items()),
        body=body.encode("utf-8") if isinstance(body, str) else body,
    )


def botocore_parse(response, shape) -> dict:
    raw = {"status_code": response.status, "headers": response.headers, "body": response.body}
    return create_parser("ec2").parse(raw, shape)


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_request_botocore_sends_parses_back_to_its_params(name):
    operation = MODEL.operation_model(name)
    params = (sample(operation.input_shape) or {}) if operation.input_shape else {}
    parsed_operation, parsed = CODEC.parse(wire_request(operation, params))
    assert parsed_operation.name == name
    assert normalize(operation.input_shape, parsed) == normalize(operation.input_shape, params)


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_response_we_send_parses_in_botocore(name):
    operation = MODEL.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape) or {}) if shape is not None else {}
    response = CODEC.serialize(operation, result, "req-42")
    parsed = botocore_parse(response, shape)
    assert parsed["ResponseMetadata"]["RequestId"] == "req-42"
    parsed.pop("ResponseMetadata")
    assert normalize(shape, parsed) == normalize(shape, result)


def test_field_names_follow_ec2_rules():
    operation = MODEL.operation_model("RunInstances")
    params = {
        "ImageId": "ami-1", "MinCount": 1, "MaxCount": 1,
        "SecurityGroupIds": ["sg-1", "sg-2"],
        "BlockDeviceMappings": [{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 8}}],
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": "web é"}]}
        ],
    }
    request = wire_request(operation, params)
    fields = dict(request.form())
    assert (fields["SecurityGroupId.1"], fields["SecurityGroupId.2"]) == ("sg-1", "sg-2")
    assert fields["BlockDeviceMapping.1.Ebs.VolumeSize"] == "8"
    assert fields["TagSpecification.1.Tag.1.Value"] == "web é"
    assert CODEC.parse(request)[1] == params


def test_an_empty_list_sends_nothing_and_parses_as_absent():
    operation = MODEL.operation_model("DescribeInstances")
    request = wire_request(operation, {"InstanceIds": []})
    assert CODEC.parse(request)[1] == {}


def test_the_response_envelope():
    operation = MODEL.operation_model("DescribeVpcs")
    result = {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "IsDefault": True}]}
    response = CODEC.serialize(operation, result, "rid")
    assert response.body.startswith(
        b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        b"<requestId>rid</requestId><vpcSet><item>"
    )
    assert b"<isDefault>true</isDefault>" in response.body
    assert botocore_parse(response, operation.output_shape)["Vpcs"] == result["Vpcs"]


def test_an_error_parses_in_botocore():
    error = ServiceError("The instance ID 'i-1' does not exist",
                         code="InvalidInstanceID.NotFound", status=400)
    response = CODEC.serialize_error(error, MODEL.operation_model("StopInstances"), "rid")
    assert response.status == 400
    assert response.body == (
        b"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
        b"<Message>The instance ID 'i-1' does not exist</Message></Error></Errors>"
        b"<RequestID>rid</RequestID></Response>"
    )
    parsed = botocore_parse(response, None)
    assert parsed["Error"] == {"Code": "InvalidInstanceID.NotFound",
                               "Message": "The instance ID 'i-1' does not exist"}
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_an_unknown_action():
    with pytest.raises(ServiceError) as raised:
        CODEC.parse(HttpRequest("POST", "/", body=b"Action=LaunchRockets&Version=2016-11-15"))
    assert (raised.value.code, raised.value.status) == ("InvalidAction", 400)
    assert "LaunchRockets" in raised.value.message


def test_a_bad_value_is_invalid_parameter_value():
    with pytest.raises(ServiceError) as raised:
        CODEC.parse(HttpRequest(
            "POST", "/", body=b"Action=DescribeInstances&Version=2016-11-15&MaxResults=ten"))
    assert (raised.value.code, raised.value.status) == ("InvalidParameterValue", 400)


@pytest.mark.parametrize("operation,params,missing", [
    ("RunInstances", {"ImageId": "ami-1", "MaxCount": 1}, "MinCount"),
    ("CreateTags", {"Resources": ["i-1"]}, "Tag"),  # the wire name, not "Tags"
])
def test_a_missing_required_member_is_missing_parameter(operation, params, missing):
    with pytest.raises(ServiceError) as raised:
        CODEC.validate(MODEL.operation_model(operation), params)
    assert (raised.value.code, raised.value.status) == ("MissingParameter", 400)
    assert raised.value.message == f"The request must contain the parameter {missing}"
