"""The ec2 codec against botocore itself: botocore serializes requests we must parse, and
parses the responses we serialize."""

from __future__ import annotations

import pytest
from conformance import normalize
from oracle import LEAVES, WHEN, botocore_parse, sample, wire_request

from cloudlet.errors import ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.ec2 import Ec2Codec

EC2_LEAVES = {**LEAVES, "boolean": False, "timestamp": WHEN.replace(microsecond=123000)}
MODEL = service_model("ec2")
CODEC = Ec2Codec(MODEL)
OPERATIONS = list(MODEL.operation_names)


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_request_botocore_sends_parses_back_to_its_params(name):
    operation = MODEL.operation_model(name)
    params = (sample(operation.input_shape, EC2_LEAVES) or {}) if operation.input_shape else {}
    parsed_operation, parsed = CODEC.parse(wire_request("ec2", operation, params))
    assert parsed_operation.name == name
    assert normalize(operation.input_shape, parsed) == normalize(operation.input_shape, params)


@pytest.mark.parametrize("name", OPERATIONS)
def test_every_response_we_send_parses_in_botocore(name):
    operation = MODEL.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape, EC2_LEAVES) or {}) if shape is not None else {}
    response = CODEC.serialize(operation, result, "req-42")
    parsed = botocore_parse("ec2", response, shape)
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
    request = wire_request("ec2", operation, params)
    fields = dict(request.form())
    assert (fields["SecurityGroupId.1"], fields["SecurityGroupId.2"]) == ("sg-1", "sg-2")
    assert fields["BlockDeviceMapping.1.Ebs.VolumeSize"] == "8"
    assert fields["TagSpecification.1.Tag.1.Value"] == "web é"
    assert CODEC.parse(request)[1] == params


def test_an_empty_list_sends_nothing_and_parses_as_absent():
    operation = MODEL.operation_model("DescribeInstances")
    request = wire_request("ec2", operation, {"InstanceIds": []})
    assert CODEC.parse(request)[1] == {}


def test_the_response_envelope():
    operation = MODEL.operation_model("DescribeVpcs")
    result = {"Vpcs": [{"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "IsDefault": True}]}
    response = CODEC.serialize(operation, result, "rid")
    assert response.body.startswith(
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b'<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
        b"<requestId>rid</requestId><vpcSet><item>"
    )
    assert b"<isDefault>true</isDefault>" in response.body
    assert botocore_parse("ec2", response, operation.output_shape)["Vpcs"] == result["Vpcs"]


def test_an_error_parses_in_botocore():
    error = ServiceError("The instance ID 'i-1' does not exist",
                         code="InvalidInstanceID.NotFound", status=400)
    response = CODEC.serialize_error(error, MODEL.operation_model("StopInstances"), "rid")
    assert response.status == 400
    assert response.body == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>"
        b"<Message>The instance ID 'i-1' does not exist</Message></Error></Errors>"
        b"<RequestID>rid</RequestID></Response>"
    )
    parsed = botocore_parse("ec2", response, None)
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
