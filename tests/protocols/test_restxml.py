"""The rest-xml codec against botocore itself (S3's model): botocore serializes requests we
must parse, and parses the responses we serialize. Hostile XML is a 400, never a crash."""

from __future__ import annotations

import pytest
from conformance import normalize
from oracle import LEAVES, botocore_parse, sample, wire_request

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.restxml import RestXmlCodec
from cloudlet.protocols.xml import parse_xml

MODEL = service_model("s3")
CODEC = RestXmlCodec(MODEL)
OPERATIONS = list(MODEL.operation_names)
# Requests the model cannot tell apart: deprecated operations share their successor's
# method and URI, and ListDirectoryBuckets differs from ListBuckets only by endpoint.
TWINS = {
    "GetBucketLifecycle": "GetBucketLifecycleConfiguration",
    "PutBucketLifecycle": "PutBucketLifecycleConfiguration",
    "GetBucketNotification": "GetBucketNotificationConfiguration",
    "PutBucketNotification": "PutBucketNotificationConfiguration",
    "ListDirectoryBuckets": "ListBuckets",
}
# Outputs that cannot round-trip: event streams are not encoded here, and the
# deprecated GetBucketNotification has two members named <Event>.
NO_OUTPUT_ROUND_TRIP = {"SelectObjectContent", "GetBucketNotification"}
# Header-bound members get ASCII text (HTTP headers carry nothing else).
ASCII = {"string": "v-1", "map keys": ("k1", "k2")}
LOCATED = {"header": ASCII, "headers": ASCII}


def put_request(path: str, query: str, body: bytes) -> HttpRequest:
    return HttpRequest("PUT", path, query, Headers([("Host", "s3.example.com")]), body)


# -- every operation, both directions ---------------------------------------------------

@pytest.mark.parametrize("name", OPERATIONS)
def test_every_request_botocore_sends_parses_back_to_its_params(name):
    operation = MODEL.operation_model(name)
    params = (sample(operation.input_shape, LEAVES, LOCATED) or {}) if operation.input_shape else {}
    parsed_operation, parsed = CODEC.parse(wire_request("rest-xml", operation, params))
    assert parsed_operation.name == TWINS.get(name, name)
    if name in TWINS:
        return
    parsed = {k: v for k, v in parsed.items() if v != {} or k in params}  # empty header maps
    assert normalize(operation.input_shape, parsed) == normalize(operation.input_shape, params)


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - NO_OUTPUT_ROUND_TRIP))
def test_every_response_we_send_parses_in_botocore(name):
    operation = MODEL.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape, LEAVES, LOCATED) or {}) if shape is not None else {}
    response = CODEC.serialize(operation, result, "req-42")
    parsed = botocore_parse("rest-xml", response, shape, streaming=operation.has_streaming_output)
    parsed.pop("ResponseMetadata")
    assert normalize(shape, parsed) == normalize(shape, result)


# -- request bodies ---------------------------------------------------------------------

def test_a_structure_payload_with_its_namespace():
    body = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
        b"<Tag><Key>env</Key><Value>prod &amp; more</Value></Tag>"
        b"<Tag><Key>k\xc3\xa9</Key><Value></Value></Tag>"
        b"</TagSet></Tagging>"
    )
    operation, params = CODEC.parse(put_request("/bucket", "tagging", body))
    assert operation.name == "PutBucketTagging"
    assert params["Bucket"] == "bucket"
    assert params["Tagging"] == {"TagSet": [{"Key": "env", "Value": "prod & more"},
                                            {"Key": "ké", "Value": ""}]}


def test_a_blob_payload_is_the_raw_body():
    operation, params = CODEC.parse(put_request("/b/a/b%20c.txt", "", b"<not-xml>\x00\xff"))
    assert operation.name == "PutObject"
    assert (params["Key"], params["Body"]) == ("a/b c.txt", b"<not-xml>\x00\xff")


def test_an_empty_body_leaves_the_payload_absent():
    operation, params = CODEC.parse(put_request("/bucket", "tagging", b""))
    assert params == {"Bucket": "bucket"}


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Tagging><TagSet><Tag><Key>&lol3;</Key><Value>v</Value></Tag></TagSet></Tagging>"""

XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Tagging [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Tagging><TagSet><Tag><Key>&xxe;</Key><Value>v</Value></Tag></TagSet></Tagging>"""

HOSTILE = {
    "billion laughs": BILLION_LAUGHS,
    "xxe": XXE,
    "external dtd": b'<!DOCTYPE Tagging SYSTEM "http://127.0.0.1:9/x.dtd"><Tagging/>',
    "truncated": b"<Tagging><TagSet><Tag><Key>k</Key>",
    "not xml": b"hello, world",
    "mismatched": b"<Tagging></Tag>",
    "bad encoding": b'<?xml version="1.0" encoding="nope"?><Tagging/>',
    "invalid utf-8": b"<Tagging><TagSet><Tag><Key>\xff\xfe</Key></Tag></TagSet></Tagging>",
    "nul": b"<Tagging>\x00</Tagging>",
}


@pytest.mark.parametrize("body", HOSTILE.values(), ids=HOSTILE.keys())
def test_malformed_or_hostile_xml_is_a_400(body):
    with pytest.raises(ServiceError) as raised:
        CODEC.parse(put_request("/bucket", "tagging", body))
    assert (raised.value.code, raised.value.status) == ("MalformedXML", 400)
    response = CODEC.serialize_error(raised.value, None, "rid")
    assert botocore_parse("rest-xml", response, None)["Error"]["Code"] == "MalformedXML"


@pytest.mark.parametrize("body", [BILLION_LAUGHS, XXE, b"<a>", b"", b"\xff"])
def test_parse_xml_refuses_with_a_serialization_error(body):
    with pytest.raises(SerializationError):
        parse_xml(body)


def test_a_bad_scalar_in_the_body_is_malformed_xml():
    body = (b"<LifecycleConfiguration><Rule><Status>Enabled</Status>"
            b"<Expiration><Days>soon</Days></Expiration></Rule></LifecycleConfiguration>")
    with pytest.raises(ServiceError) as raised:
        CODEC.parse(put_request("/bucket", "lifecycle", body))
    assert raised.value.code == "MalformedXML"


# -- responses --------------------------------------------------------------------------

def test_a_streaming_payload_passes_through():
    operation = MODEL.operation_model("GetObject")
    chunks = iter([b"ab", b"cd"])
    response = CODEC.serialize(operation, {"Body": chunks, "ContentLength": 4,
                                           "ContentType": "text/csv"}, "rid")
    assert response.body is chunks
    assert response.headers["Content-Type"] == "text/csv"
    assert response.headers["Content-Length"] == "4"


def test_a_structure_payload_is_rooted_at_its_location_name():
    operation = MODEL.operation_model("GetObjectLegalHold")
    response = CODEC.serialize(operation, {"LegalHold": {"Status": "ON"}}, "rid")
    assert response.headers["Content-Type"] == "application/xml"
    assert response.body.endswith(b"<LegalHold><Status>ON</Status></LegalHold>")


def test_an_error_in_the_generic_envelope():
    error = ServiceError("The specified key does not exist.", code="NoSuchKey", status=404)
    response = CODEC.serialize_error(error, MODEL.operation_model("GetObject"), "rid")
    assert response.status == 404
    assert response.headers["Content-Type"] == "application/xml"
    assert b"<ErrorResponse><Error><Type>Sender</Type><Code>NoSuchKey</Code>" in response.body
    parsed = botocore_parse("rest-xml", response, None)
    assert parsed["Error"]["Code"] == "NoSuchKey"
    assert parsed["Error"]["Message"] == "The specified key does not exist."
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_a_modeled_error_carries_its_fields():
    shape = CODEC.error_shape("InvalidObjectState")
    error = ServiceError("not restored", code="InvalidObjectState", status=403,
                         fields={"StorageClass": "GLACIER", "AccessTier": "ARCHIVE_ACCESS"})
    response = CODEC.serialize_error(error, None, "rid")
    assert response.status == 403
    parsed = botocore_parse("rest-xml", response, shape)
    assert (parsed["StorageClass"], parsed["AccessTier"]) == ("GLACIER", "ARCHIVE_ACCESS")


class BareErrorCodec(RestXmlCodec):
    """What an S3 subclass looks like: only the error envelope changes."""

    def error_document(self, error, shape, fields, request_id):
        import xml.etree.ElementTree as ET

        root = ET.Element("Error")
        self.write_error_detail(root, error, shape, fields)
        ET.SubElement(root, "RequestId").text = request_id
        return root


def test_a_subclass_can_answer_with_a_bare_error():
    error = ServiceError("nope", code="NoSuchBucket", status=404, fields={"BucketName": "b"})
    response = BareErrorCodec(MODEL).serialize_error(error, None, "rid")
    assert response.body.startswith(b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>')
    parsed = botocore_parse("rest-xml", response, None)
    assert parsed["Error"] == {"Code": "NoSuchBucket", "Message": "nope", "BucketName": "b"}
