"""The rest-xml codec against botocore itself (S3's model): botocore serializes requests we
must parse, and parses the responses we serialize. Hostile XML is a 400, never a crash."""

from __future__ import annotations

import datetime as dt
import io
from urllib.parse import urlsplit

import pytest
from botocore.awsrequest import create_request_object, prepare_request_dict
from botocore.parsers import create_parser
from botocore.serialize import create_serializer
from conformance import normalize

from cloudlet.errors import SerializationError, ServiceError
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest
from cloudlet.protocols.restxml import RestXmlCodec
from cloudlet.protocols.xml import parse_xml

WHEN = dt.datetime(2021, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
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
HEADER_LOCATIONS = ("header", "headers")


def sample(shape, depth: int = 0, ascii_only: bool = False):
    """A value for every member of a shape, a few levels deep; None where too deep.
    Header-bound members get ASCII text (HTTP headers carry nothing else)."""
    kind = shape.type_name
    if kind in ("structure", "list", "map") and depth > 5:
        return None
    if kind == "structure":
        values = {
            n: sample(m, depth + 1, m.serialization.get("location") in HEADER_LOCATIONS)
            for n, m in shape.members.items()
            if not m.serialization.get("eventstream")
        }
        return {n: v for n, v in values.items() if v is not None} or None
    if kind == "list":
        item = sample(shape.member, depth + 1, ascii_only)
        return None if item is None else [item, item]
    if kind == "map":
        value = sample(shape.value, depth + 1, ascii_only)
        keys = ("k1", "k2") if ascii_only else ("k1", "k é/2&=+")
        return None if value is None else dict.fromkeys(keys, value)
    return {
        "string": "v-1" if ascii_only else "v é&=+/<x>%",
        "integer": 7, "long": 8, "short": 3, "byte": 1,
        "float": 1.5, "double": 2.25,
        "boolean": True,
        "timestamp": WHEN,
        "blob": b"\x00\xffblob",
    }[kind]


def wire_request(operation, params: dict) -> HttpRequest:
    """The HTTP request botocore would send for `params` (path-style)."""
    serializer = create_serializer("rest-xml", include_validation=False)
    serialized = serializer.serialize_to_request(params, operation)
    prepare_request_dict(serialized, endpoint_url="https://s3.us-east-1.amazonaws.com")
    prepared = create_request_object(serialized).prepare()
    url = urlsplit(prepared.url)
    body = prepared.body or b""
    if hasattr(body, "read"):
        body = body.read()
    return HttpRequest(
        method=prepared.method, path=url.path or "/", query=url.query,
        headers=Headers(prepared.headers.items()),
        body=body.encode("utf-8") if isinstance(body, str) else body,
    )


def botocore_parse(response, shape, streaming: bool = False) -> dict:
    body = response.body if isinstance(response.body, bytes) else b"".join(response.body)
    raw = {
        "status_code": response.status,
        "headers": response.headers,
        "body": io.BytesIO(body) if streaming else body,
    }
    return create_parser("rest-xml").parse(raw, shape)


def put_request(path: str, query: str, body: bytes) -> HttpRequest:
    return HttpRequest("PUT", path, query, Headers([("Host", "s3.example.com")]), body)


# -- every operation, both directions ---------------------------------------------------

@pytest.mark.parametrize("name", OPERATIONS)
def test_every_request_botocore_sends_parses_back_to_its_params(name):
    operation = MODEL.operation_model(name)
    params = (sample(operation.input_shape) or {}) if operation.input_shape else {}
    parsed_operation, parsed = CODEC.parse(wire_request(operation, params))
    assert parsed_operation.name == TWINS.get(name, name)
    if name in TWINS:
        return
    parsed = {k: v for k, v in parsed.items() if v != {} or k in params}  # empty header maps
    assert normalize(operation.input_shape, parsed) == normalize(operation.input_shape, params)


@pytest.mark.parametrize("name", sorted(set(OPERATIONS) - NO_OUTPUT_ROUND_TRIP))
def test_every_response_we_send_parses_in_botocore(name):
    operation = MODEL.operation_model(name)
    shape = operation.output_shape
    result = (sample(shape) or {}) if shape is not None else {}
    response = CODEC.serialize(operation, result, "req-42")
    parsed = botocore_parse(response, shape, streaming=operation.has_streaming_output)
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
    assert botocore_parse(response, None)["Error"]["Code"] == "MalformedXML"


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
    parsed = botocore_parse(response, None)
    assert parsed["Error"]["Code"] == "NoSuchKey"
    assert parsed["Error"]["Message"] == "The specified key does not exist."
    assert parsed["ResponseMetadata"]["RequestId"] == "rid"


def test_a_modeled_error_carries_its_fields():
    shape = CODEC.error_shape("InvalidObjectState")
    error = ServiceError("not restored", code="InvalidObjectState", status=403,
                         fields={"StorageClass": "GLACIER", "AccessTier": "ARCHIVE_ACCESS"})
    response = CODEC.serialize_error(error, None, "rid")
    assert response.status == 403
    parsed = botocore_parse(response, shape)
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
    parsed = botocore_parse(response, None)
    assert parsed["Error"] == {"Code": "NoSuchBucket", "Message": "nope", "BucketName": "b"}
