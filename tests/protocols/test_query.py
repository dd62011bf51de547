"""The awsQuery codec against botocore itself: botocore serializes requests we must parse,
and parses the responses we serialize."""

from __future__ import annotations

import pytest
from conformance import normalize
from oracle import WHEN, botocore_parse, sample, wire_request

from cloudlet.errors import ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.query import QueryCodec

SERVICES = ("iam", "sts", "sns", "rds", "cloudwatch")


def operations(services) -> list:
    return [
        pytest.param(service, name, id=f"{service}.{name}")
        for service in services
        for name in service_model(service).operation_names
    ]


def codec_for(service: str) -> QueryCodec:
    return QueryCodec(service_model(service))


# -- every operation, both directions ---------------------------------------------------

@pytest.mark.parametrize("service,name", operations(SERVICES))
def test_every_request_botocore_sends_parses_back_to_its_params(service, name):
    codec = codec_for(service)
    operation = codec.model.operation_model(name)
    params = sample(operation.input_shape) or {} if operation.input_shape else {}
    parsed_operation, parsed = codec.parse(wire_request("query", operation, params))
    assert parsed_operation.name == name
    assert normalize(operation.input_shape, parsed) == normalize(operation.input_shape, params)


@pytest.mark.parametrize("service,name", operations(SERVICES))
def test_every_response_we_send_parses_in_botocore(service, name):
    codec = codec_for(service)
    operation = codec.model.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape) or {}) if shape is not None else {}
    response = codec.serialize(operation, result, "req-42")
    assert response.status == 200
    parsed = botocore_parse("query", response, shape)
    assert parsed["ResponseMetadata"]["RequestId"] == "req-42"
    parsed.pop("ResponseMetadata")
    assert normalize(shape, parsed) == normalize(shape, result)


# -- request details --------------------------------------------------------------------

def test_an_empty_list_is_sent_and_parsed_as_empty():
    codec = codec_for("iam")
    operation = codec.model.operation_model("CreateUser")
    request = wire_request("query", operation, {"UserName": "alice", "Tags": []})
    assert b"Tags=" in request.body
    assert codec.parse(request)[1] == {"UserName": "alice", "Tags": []}


def test_the_query_string_of_a_get_is_read_too():
    codec = codec_for("sts")
    request = HttpRequest("GET", "/", "Action=GetCallerIdentity&Version=2011-06-15")
    operation, params = codec.parse(request)
    assert (operation.name, params) == ("GetCallerIdentity", {})


def test_maps_with_locationnames_and_structure_values():
    codec = codec_for("sns")
    operation = codec.model.operation_model("Publish")
    params = {
        "Message": "hi",
        "TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
        "MessageAttributes": {
            "color": {"DataType": "String", "StringValue": "blue"},
            "raw": {"DataType": "Binary", "BinaryValue": b"\x01\x02"},
        },
    }
    request = wire_request("query", operation, params)
    assert b"MessageAttributes.entry.1.Name=color" in request.body
    assert codec.parse(request)[1] == params


def test_an_unknown_action_is_invalid_action_in_aws_words():
    with pytest.raises(ServiceError) as raised:
        codec_for("iam").parse(HttpRequest("POST", "/", body=b"Action=Nope&Version=2010-05-08"))
    assert (raised.value.code, raised.value.status) == ("InvalidAction", 400)
    assert raised.value.message == "Could not find operation Nope for version 2010-05-08"


def test_a_missing_action_is_refused():
    with pytest.raises(ServiceError) as raised:
        codec_for("iam").parse(HttpRequest("POST", "/", body=b"Version=2010-05-08"))
    assert (raised.value.code, raised.value.status) == ("MissingAction", 400)


@pytest.mark.parametrize("field", ["MaxItems=lots", "PathPrefix=/&Marker=x&MaxItems=1.5"])
def test_a_malformed_number_is_a_validation_error(field):
    body = f"Action=ListUsers&Version=2010-05-08&{field}".encode()
    with pytest.raises(ServiceError) as raised:
        codec_for("iam").parse(HttpRequest("POST", "/", body=body))
    assert (raised.value.code, raised.value.status) == ("ValidationError", 400)


def test_a_body_that_is_not_utf8_is_a_client_error():
    with pytest.raises(ServiceError) as raised:
        codec_for("iam").parse(HttpRequest("POST", "/", body=b"Action=ListUsers&X=\xff\xfe"))
    assert 400 <= raised.value.status < 500


# -- response details -------------------------------------------------------------------

def test_the_response_envelope():
    codec = codec_for("iam")
    operation = codec.model.operation_model("GetUser")
    user = {"Path": "/", "UserName": "a", "UserId": "AIDA", "Arn": "arn:aws:iam::0:user/a",
            "CreateDate": WHEN}
    response = codec.serialize(operation, {"User": user}, "rid")
    assert response.headers["Content-Type"] == "text/xml"
    assert response.headers["x-amzn-RequestId"] == "rid"
    assert response.body.startswith(
        b'<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult>'
    )
    assert b"<CreateDate>2021-03-04T05:06:07Z</CreateDate>" in response.body
    assert response.body.endswith(
        b"<ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetUserResponse>"
    )


def test_an_operation_without_output_still_answers_with_its_request_id():
    codec = codec_for("iam")
    operation = codec.model.operation_model("DeleteUser")
    response = codec.serialize(operation, {}, "rid")
    assert botocore_parse("query", response, operation.output_shape)["ResponseMetadata"][
        "RequestId"] == "rid"


def test_text_that_xml_would_normalise_survives():
    codec = codec_for("sts")
    operation = codec.model.operation_model("GetCallerIdentity")
    result = {"UserId": "a\r\nb\tc <&> \"'", "Account": "0", "Arn": "x"}
    parsed = botocore_parse("query", codec.serialize(operation, result, "r"), operation.output_shape)
    assert parsed["UserId"] == result["UserId"]


def test_an_error_parses_in_botocore():
    codec = codec_for("iam")
    error = ServiceError("The user with name bob cannot be found.", code="NoSuchEntity",
                         status=404)
    response = codec.serialize_error(error, codec.model.operation_model("GetUser"), "rid")
    assert response.status == 404
    assert response.headers["Content-Type"] == "text/xml"
    parsed = botocore_parse("query", response, None)
    assert parsed["Error"] == {
        "Type": "Sender", "Code": "NoSuchEntity",
        "Message": "The user with name bob cannot be found.",
    }
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_a_server_fault_is_a_receiver_error_with_extra_fields():
    codec = codec_for("sts")
    error = ServiceError("boom", code="InternalFailure", status=500, sender_fault=False,
                         fields={"Detail": "more"}, headers={"Retry-After": "1"})
    response = codec.serialize_error(error, None, "rid")
    assert response.headers["Retry-After"] == "1"
    parsed = botocore_parse("query", response, None)
    assert parsed["Error"]["Type"] == "Receiver"
    assert parsed["Error"]["Detail"] == "more"


def test_a_modeled_error_field_is_serialized_by_its_shape():
    codec = codec_for("cloudwatch")
    shape = codec.error_shape("InvalidParameterInput")  # matched on its error.code
    assert shape is not None and shape.name == "DashboardInvalidInputError"
    fields = {"dashboardValidationMessages": [{"DataPath": "/widgets", "Message": "bad"}]}
    error = ServiceError("invalid", code="InvalidParameterInput", status=400, fields=fields)
    parsed = botocore_parse("query", codec.serialize_error(error, None, "r"), shape)
    assert parsed["dashboardValidationMessages"] == fields["dashboardValidationMessages"]
