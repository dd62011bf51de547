"""The REST HTTP binding: routing from `requestUri` templates and location-bound members."""

from __future__ import annotations

import datetime as dt

import pytest
from botocore.model import ServiceModel
from oracle import wire_request

from cloudlet.errors import SerializationError, UnknownOperation
from cloudlet.models import service_model
from cloudlet.protocols.base import Headers, HttpRequest, HttpResponse
from cloudlet.protocols.rest import RestCodec, split_header_list

WHEN = dt.datetime(2019, 12, 16, 23, 48, 18, tzinfo=dt.UTC)

# Operations whose method and requestUri are identical and that no query key tells apart:
# the newer one of each pair wins, and the S3 codec may look at the body.
INDISTINGUISHABLE = {
    ("s3", "GetBucketLifecycle"), ("s3", "PutBucketLifecycle"),
    ("s3", "GetBucketNotification"), ("s3", "PutBucketNotification"),
    ("s3", "ListDirectoryBuckets"),
}


def request(method: str, target: str, headers: dict | None = None, body: bytes = b"") -> HttpRequest:
    path, _, query = target.partition("?")
    return HttpRequest(method, path, query, Headers((headers or {}).items()), body)


def minimal(shape):
    """The required members of a shape, with plain values."""
    kind = shape.type_name
    if kind == "structure":
        return {name: minimal(shape.members[name]) for name in shape.required_members}
    if kind == "list":
        return [minimal(shape.member)]
    if kind == "map":
        return {"k": minimal(shape.value)}
    if getattr(shape, "enum", None):
        return shape.enum[0]
    return {"integer": 1, "long": 1, "float": 1.5, "double": 1.5, "boolean": True,
            "timestamp": WHEN, "blob": b"x"}.get(kind, "x")


def routable(service: str):
    model = service_model(service)
    return [
        pytest.param(service, name, id=f"{service}:{name}")
        for name in model.operation_names
        if (service, name) not in INDISTINGUISHABLE
    ]


@pytest.fixture(scope="module")
def codecs():
    return {name: RestCodec(service_model(name)) for name in ("s3", "lambda")}


@pytest.mark.parametrize("service,name", routable("s3") + routable("lambda"))
def test_every_operation_routes_from_what_botocore_sends(codecs, service, name):
    model = service_model(service)
    operation = model.operation_model(name)
    params = minimal(operation.input_shape) if operation.input_shape else {}
    assert codecs[service].operation_for(wire_request(model.protocol, operation, params)).name == name


@pytest.mark.parametrize("method,target,headers,expected", [
    ("GET", "/bucket", {}, "ListObjects"),
    ("GET", "/bucket/", {}, "ListObjects"),
    ("GET", "/bucket?list-type=2", {}, "ListObjectsV2"),
    ("GET", "/bucket?list-type=1", {}, "ListObjects"),
    ("GET", "/bucket?acl", {}, "GetBucketAcl"),
    ("GET", "/bucket?versioning", {}, "GetBucketVersioning"),
    ("GET", "/bucket?analytics", {}, "ListBucketAnalyticsConfigurations"),
    ("GET", "/bucket?analytics&id=a", {}, "GetBucketAnalyticsConfiguration"),
    ("GET", "/bucket/a/b.txt", {}, "GetObject"),
    ("GET", "/bucket/a/b.txt?acl", {}, "GetObjectAcl"),
    ("GET", "/bucket/a/b.txt?uploadId=u", {}, "ListParts"),
    ("PUT", "/bucket/key", {}, "PutObject"),
    ("PUT", "/bucket/key", {"x-amz-copy-source": "/b/k"}, "CopyObject"),
    ("PUT", "/bucket/key?partNumber=1&uploadId=u", {}, "UploadPart"),
    ("PUT", "/bucket/key?partNumber=1&uploadId=u", {"x-amz-copy-source": "b/k"}, "UploadPartCopy"),
    ("POST", "/bucket/key?uploads", {}, "CreateMultipartUpload"),
    ("POST", "/bucket/key?uploadId=u", {}, "CompleteMultipartUpload"),
    ("DELETE", "/bucket/key?uploadId=u", {}, "AbortMultipartUpload"),
    ("POST", "/bucket?delete", {}, "DeleteObjects"),
    ("GET", "/", {}, "ListBuckets"),
    ("HEAD", "/bucket/dir/", {}, "HeadObject"),
])
def test_s3_operations_sharing_a_path_are_told_apart(codecs, method, target, headers, expected):
    assert codecs["s3"].operation_for(request(method, target, headers)).name == expected


def test_labels_are_percent_decoded_and_greedy_labels_keep_slashes(codecs):
    codec = codecs["s3"]
    req = request("GET", "/my%20bucket/d%C3%A9j%C3%A0/a%2Fb/c+d")
    operation = codec.operation_for(req)
    params, body = codec._parse_http_bindings(operation, req)
    assert operation.name == "GetObject"
    assert params["Bucket"] == "my bucket"
    assert params["Key"] == "déjà/a/b/c+d"
    assert body == {}


def test_an_unknown_path_is_a_404_unknown_operation(codecs):
    with pytest.raises(UnknownOperation) as caught:
        codecs["lambda"].operation_for(request("GET", "/nothing/here"))
    assert caught.value.status == 404
    with pytest.raises(UnknownOperation):
        codecs["lambda"].operation_for(request("PATCH", "/2015-03-31/functions"))


# -- a model with every binding --------------------------------------------------------

def bindings_model() -> ServiceModel:
    shapes = {
        "Input": {"type": "structure", "required": ["Name"], "members": {
            "Name": {"shape": "String", "location": "uri", "locationName": "name"},
            "Path": {"shape": "String", "location": "uri", "locationName": "path"},
            "Count": {"shape": "Integer", "location": "querystring", "locationName": "count"},
            "Ratio": {"shape": "Double", "location": "querystring", "locationName": "ratio"},
            "Tags": {"shape": "StringList", "location": "querystring", "locationName": "tag"},
            "Since": {"shape": "Timestamp", "location": "header", "locationName": "X-Since"},
            "Epoch": {"shape": "EpochTimestamp", "location": "header", "locationName": "X-Epoch"},
            "Flags": {"shape": "StringList", "location": "header", "locationName": "X-Flags"},
            "Dates": {"shape": "TimestampList", "location": "header", "locationName": "X-Dates"},
            "Enabled": {"shape": "Boolean", "location": "header", "locationName": "X-Enabled"},
            "Doc": {"shape": "String", "location": "header", "locationName": "X-Doc",
                    "jsonvalue": True},
            "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
            "Account": {"shape": "String", "hostLabel": True},
            "Body": {"shape": "String"},
        }},
        "Output": {"type": "structure", "members": {
            "Status": {"shape": "Integer", "location": "statusCode"},
            "Since": {"shape": "Timestamp", "location": "header", "locationName": "X-Since"},
            "Flags": {"shape": "StringList", "location": "header", "locationName": "X-Flags"},
            "Ratio": {"shape": "Double", "location": "header", "locationName": "X-Ratio"},
            "Meta": {"shape": "StringMap", "location": "headers", "locationName": "x-meta-"},
            "Body": {"shape": "String"},
        }},
        "String": {"type": "string"},
        "Integer": {"type": "integer"},
        "Double": {"type": "double"},
        "Boolean": {"type": "boolean"},
        "Timestamp": {"type": "timestamp"},
        "EpochTimestamp": {"type": "timestamp", "timestampFormat": "unixTimestamp"},
        "StringList": {"type": "list", "member": {"shape": "String"}},
        "TimestampList": {"type": "list", "member": {"shape": "Timestamp"}},
        "StringMap": {"type": "map", "key": {"shape": "String"}, "value": {"shape": "String"}},
    }
    operations = {
        "Bind": {
            "name": "Bind", "http": {"method": "POST", "requestUri": "/things/{name}/{path+}"},
            "input": {"shape": "Input"}, "output": {"shape": "Output"},
            "endpoint": {"hostPrefix": "{Account}.data."},
        },
        "GetThing": {
            "name": "GetThing", "http": {"method": "GET", "requestUri": "/things/{name}?x-id=GetThing"},
            "input": {"shape": "Input"},
        },
    }
    metadata = {"protocol": "rest-json", "apiVersion": "2020-01-01", "endpointPrefix": "t"}
    return ServiceModel({"metadata": metadata, "operations": operations, "shapes": shapes}, "t")


@pytest.fixture(scope="module")
def codec():
    return RestCodec(bindings_model())


def test_every_location_is_read_as_its_type(codec):
    req = request(
        "POST", "/things/a%20b/x/y%2Fz?count=3&ratio=NaN&tag=a&tag=b",
        headers={
            "Host": "123456789012.data.example.com",
            "X-Since": "Mon, 16 Dec 2019 23:48:18 GMT",
            "X-Epoch": "1576540098",
            "X-Flags": 'a, "b, c", d',
            "X-Dates": "Mon, 16 Dec 2019 23:48:18 GMT, Mon, 16 Dec 2019 23:48:18 GMT",
            "X-Enabled": "false",
            "X-Doc": "eyJhIjpbMSwyXX0=",
            "x-meta-Color": "blue",
        },
    )
    operation, labels = codec._route(req)
    params, body = codec._parse_http_bindings(operation, req, labels)
    ratio = params.pop("Ratio")
    assert ratio != ratio  # NaN
    assert params == {
        "Name": "a b", "Path": "x/y/z", "Count": 3, "Tags": ["a", "b"],
        "Since": WHEN, "Epoch": WHEN, "Flags": ["a", "b, c", "d"], "Dates": [WHEN, WHEN],
        "Enabled": False, "Doc": {"a": [1, 2]}, "Meta": {"Color": "blue"},
        "Account": "123456789012",
    }
    assert set(body) == {"Account", "Body"}


def test_an_x_id_literal_is_optional_but_must_match_when_sent(codec):
    assert codec.operation_for(request("GET", "/things/a")).name == "GetThing"
    assert codec.operation_for(request("GET", "/things/a?x-id=GetThing")).name == "GetThing"
    with pytest.raises(UnknownOperation):
        codec.operation_for(request("GET", "/things/a?x-id=Other"))


@pytest.mark.parametrize("query,headers", [
    ("count=three", {}),
    ("ratio=fast", {}),
    ("", {"X-Enabled": "maybe"}),
    ("", {"X-Since": "yesterday"}),
    ("", {"X-Doc": "not base64!"}),
])
def test_values_that_do_not_convert_are_400s(codec, query, headers):
    req = request("POST", f"/things/a/b?{query}", headers=headers)
    with pytest.raises(SerializationError) as caught:
        codec._parse_http_bindings(codec.operation_for(req), req)
    assert caught.value.status == 400


def test_output_bindings_are_written_and_the_rest_returned(codec):
    operation = codec.model.operation_model("Bind")
    response = HttpResponse()
    rest = codec._serialize_http_bindings(operation, {
        "Status": 201, "Since": WHEN, "Flags": ["a", "b,c"], "Ratio": float("inf"),
        "Meta": {"Color": "blue"}, "Body": "text", "Unknown": 1,
    }, response)
    assert response.status == 201
    assert response.headers == {
        "X-Since": "Mon, 16 Dec 2019 23:48:18 GMT", "X-Flags": 'a, "b,c"',
        "X-Ratio": "Infinity", "x-meta-Color": "blue",
    }
    assert rest == {"Body": "text"}


def test_quoted_header_lists_split_back_to_their_items(codec):
    shape = codec.model.operation_model("Bind").input_shape.members["Flags"]
    assert split_header_list(shape, 'a, "b, \\"c\\"", d') == ["a", 'b, "c"', "d"]


@pytest.mark.parametrize("query", [
    "", "a", "a=", "=b", "a=1&a=2&b", "&&a=1&", "k%20ey=v+al%2Bue", "x=%E2%98%83&y=%ZZ&z=%",
    "a=b=c", "prefix=dir%2F&delimiter=%2F&encoding-type=url", "uploads&max-uploads=3",
    "p=+%2B+", "bad=%C3%28",
])
def test_query_multidict_reads_as_parse_qsl(query):
    """As parse_qsl, except that bytes which are not UTF-8 are kept (surrogateescape) for
    the codec to refuse, not replaced."""
    from urllib.parse import parse_qsl

    from cloudlet.protocols.rest import query_multidict

    expected: dict = {}
    for key, value in parse_qsl(query, keep_blank_values=True, errors="surrogateescape"):
        expected.setdefault(key, []).append(value)
    assert query_multidict(query) == expected
