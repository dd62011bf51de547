"""botocore's own signers as the oracle: what they sign, we verify.

Requests come from real botocore clients (captured just before they would be sent) and
from botocore's signer classes used directly; they must authenticate, and fail with the
target service's own error codes when tampered with, signed with another secret, signed
by an unknown key, expired or skewed.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import botocore.session
import pytest
from botocore.auth import (
    HmacV1Auth,
    HmacV1QueryAuth,
    S3SigV4Auth,
    S3SigV4QueryAuth,
    SigV4Auth,
    SigV4QueryAuth,
)
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from cloudlet.auth import authenticate, scope_of
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import Headers, HttpRequest

ENDPOINT = "http://127.0.0.1:4566"
STORE = CredentialStore()


class Captured(Exception):
    pass


def _text(value) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def to_http(prepared) -> HttpRequest:
    """A botocore request as the server receives it."""
    split = urlsplit(prepared.url)
    headers = [(name, _text(value)) for name, value in prepared.headers.items()]
    if not any(name.lower() == "host" for name, _ in headers):
        headers.append(("Host", split.netloc))
    body = prepared.body
    if body is None:
        body = b""
    elif hasattr(body, "read"):
        body = body.read()
    elif isinstance(body, str):
        body = body.encode("utf-8")
    return HttpRequest(prepared.method, split.path or "/", split.query, Headers(headers), bytes(body))


@functools.cache
def client(service, key="test", secret="test", token=None, endpoint=ENDPOINT, **config):
    session = botocore.session.get_session()
    return session.create_client(
        service, region_name="us-east-1", endpoint_url=endpoint,
        aws_access_key_id=key, aws_secret_access_key=secret, aws_session_token=token,
        config=Config(retries={"total_max_attempts": 1},
                      **{k: dict(v) if isinstance(v, tuple) else v for k, v in config.items()}),
    )


def capture(service, operation, params, **client_options) -> HttpRequest:
    c = client(service, **client_options)
    sent = []

    def before_send(request, **kwargs):
        sent.append(request)
        raise Captured()

    c.meta.events.register("before-send", before_send, unique_id="capture")
    try:
        with pytest.raises(Captured):
            getattr(c, operation)(**params)
    finally:
        c.meta.events.unregister("before-send", unique_id="capture")
    return to_http(sent[0])


# (cloudlet service, botocore service, operation, params)
CALLS = [
    ("sts", "sts", "get_caller_identity", {}),
    ("iam", "iam", "list_users", {"PathPrefix": "/a+b=c&d/"}),
    ("ec2", "ec2", "describe_instances",
     {"Filters": [{"Name": "tag:Name", "Values": ["x y*", "é/ü"]}]}),
    ("rds", "rds", "describe_db_instances", {"DBInstanceIdentifier": "db-1"}),
    ("sns", "sns", "publish", {"TopicArn": "arn:aws:sns:us-east-1:000000000000:t",
                               "Message": "hello wörld & more"}),
    ("cloudwatch", "cloudwatch", "put_metric_data",
     {"Namespace": "App", "MetricData": [{"MetricName": "m", "Value": 1.0}]}),
    ("logs", "logs", "put_log_events",
     {"logGroupName": "/aws/lambda/f", "logStreamName": "s",
      "logEvents": [{"timestamp": 1, "message": "m"}]}),
    ("lambda", "lambda", "invoke",
     {"FunctionName": "arn:aws:lambda:us-east-1:000000000000:function:f",
      "Qualifier": "$LATEST", "Payload": b'{"a": 1}'}),
    ("lambda", "lambda", "list_functions", {"MaxItems": 5}),
    ("s3", "s3", "put_object", {"Bucket": "b", "Key": "dir/a b+c~d=é(1).txt", "Body": b"data"}),
    ("s3", "s3", "get_object", {"Bucket": "b", "Key": "x//y/../z", "Range": "bytes=0-1"}),
    ("s3", "s3", "list_objects_v2", {"Bucket": "b", "Prefix": "a b/", "Delimiter": "/"}),
    ("s3", "s3", "delete_objects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "k"}]}}),
    ("s3", "s3", "put_object", {"Bucket": "b", "Key": "k", "Body": b"x" * 1000,
                                "ChecksumAlgorithm": "SHA256"}),
]
IDS = [f"{c[0]}.{c[2]}" for c in CALLS]

MISMATCH = {"s3": "SignatureDoesNotMatch", "ec2": "AuthFailure", "logs": "InvalidSignatureException",
            "lambda": "InvalidSignatureException"}
UNKNOWN = {"s3": "InvalidAccessKeyId", "ec2": "AuthFailure", "logs": "UnrecognizedClientException",
           "lambda": "UnrecognizedClientException"}
SKEWED = {"s3": "RequestTimeTooSkewed", "ec2": "RequestExpired", "logs": "InvalidSignatureException",
          "lambda": "InvalidSignatureException"}
MISSING = {"ec2": "MissingAuthenticationToken", "logs": "MissingAuthenticationTokenException",
           "lambda": "MissingAuthenticationTokenException"}


def rejected(request, service, store=STORE, now=None) -> ServiceError:
    with pytest.raises(ServiceError) as info:
        authenticate(request, service, store, now=now)
    return info.value


@pytest.mark.parametrize("service,boto,operation,params", CALLS, ids=IDS)
def test_client_request_authenticates(service, boto, operation, params):
    request = capture(boto, operation, params)
    result = authenticate(request, service, STORE)
    assert result.method == "sigv4-header"
    assert result.credential.account_id == "000000000000"
    assert result.credential.arn == "arn:aws:iam::000000000000:root"
    assert result.region == "us-east-1"
    assert scope_of(request)[2:] == (result.region, result.service)
    assert result.body == request.body


@pytest.mark.parametrize("service,boto,operation,params", CALLS, ids=IDS)
def test_client_request_with_another_secret_is_rejected(service, boto, operation, params):
    request = capture(boto, operation, params, secret="not-the-secret")
    error = rejected(request, service)
    assert error.code == MISMATCH.get(service, "SignatureDoesNotMatch")
    assert error.status in (401, 403)
    if service == "s3":
        assert error.message == ("The request signature we calculated does not match the "
                                 "signature you provided. Check your key and signing method.")
        assert set(error.fields) >= {"AWSAccessKeyId", "StringToSign", "SignatureProvided",
                                     "StringToSignBytes", "CanonicalRequest",
                                     "CanonicalRequestBytes"}
        assert error.fields["StringToSign"].startswith("AWS4-HMAC-SHA256\n")
        assert error.fields["StringToSignBytes"].startswith("41 57 53 34")


@pytest.mark.parametrize("service,boto,operation,params", CALLS, ids=IDS)
def test_client_request_by_an_unknown_key_is_rejected(service, boto, operation, params):
    request = capture(boto, operation, params, key="AKIAUNKNOWNKEY000000")
    error = rejected(request, service)
    assert error.code == UNKNOWN.get(service, "InvalidClientTokenId")
    if service == "s3":
        assert error.message == "The AWS Access Key Id you provided does not exist in our records."
        assert error.fields["AWSAccessKeyId"] == "AKIAUNKNOWNKEY000000"
    elif service not in ("ec2",):
        assert error.message == "The security token included in the request is invalid."


@pytest.mark.parametrize("service,boto,operation,params", CALLS, ids=IDS)
def test_client_request_too_far_from_the_server_clock_is_rejected(service, boto, operation, params):
    request = capture(boto, operation, params)
    for skew in (timedelta(minutes=16), -timedelta(minutes=16)):
        error = rejected(request, service, now=datetime.now(UTC) + skew)
        assert error.code == SKEWED.get(service, "SignatureDoesNotMatch")
        if service == "s3":
            assert error.status == 403
            assert error.message == ("The difference between the request time and the "
                                     "current time is too large.")
            assert error.fields["MaxAllowedSkewMilliseconds"] == "900000"
    assert authenticate(request, service, STORE, now=datetime.now(UTC) + timedelta(minutes=14))


def tamperings(request: HttpRequest):
    yield "path", HttpRequest(request.method, request.path + "x", request.query,
                              request.headers, request.body)
    query = request.query + "&x=1" if request.query else "x=1"
    yield "query", HttpRequest(request.method, request.path, query, request.headers, request.body)
    if request.body:
        body = bytes([request.body[0] ^ 1]) + request.body[1:]
        yield "body", HttpRequest(request.method, request.path, request.query,
                                  request.headers, body)
    raw = [(n, v + "0" if n.lower() == "x-amz-date" else v) for n, v in request.headers.raw]
    raw = [(n, v[:-2] + "9Z" if n.lower() == "x-amz-date" else v) for n, v in raw]
    yield "date", HttpRequest(request.method, request.path, request.query, Headers(raw),
                              request.body)


@pytest.mark.parametrize("service,boto,operation,params", CALLS, ids=IDS)
def test_tampered_client_request_is_rejected(service, boto, operation, params):
    request = capture(boto, operation, params)
    for what, changed in tamperings(request):
        error = rejected(changed, service)
        expected = {MISMATCH.get(service, "SignatureDoesNotMatch")}
        if service == "s3" and what == "body":
            expected = {"XAmzContentSHA256Mismatch"}
        if what == "date":
            expected |= {"IncompleteSignature", "AuthorizationHeaderMalformed",
                         "IncompleteSignatureException"}
        assert error.code in expected, what


@pytest.mark.parametrize("service", ["sts", "iam", "rds", "sns", "cloudwatch", "ec2", "logs",
                                     "lambda"])
def test_unsigned_request_is_refused(service):
    request = HttpRequest("POST", "/", "", Headers([("Host", "127.0.0.1:4566")]), b"Action=X")
    error = rejected(request, service)
    assert error.code == MISSING.get(service, "MissingAuthenticationToken")
    if service in ("sts", "iam"):
        assert (error.status, error.message) == (403, "Request is missing Authentication Token")


def test_unsigned_s3_request_is_anonymous():
    request = HttpRequest("GET", "/bucket/key", "", Headers([("Host", "127.0.0.1:4566")]))
    result = authenticate(request, "s3", STORE)
    assert (result.credential, result.method) == (None, "anonymous")


# -- session credentials ------------------------------------------------------------------

def session_store(token, expiration):
    store = CredentialStore()
    store.add_resolver(lambda key: Credential(
        key, "session-secret", "123456789012", "arn:aws:sts::123456789012:assumed-role/r/s",
        session_token=token, expiration=expiration, kind="assumed-role",
    ) if key.startswith("ASIA") else None)
    return store


@pytest.mark.parametrize("service,code,expired_code", [
    ("s3", "InvalidToken", "ExpiredToken"), ("sts", "InvalidClientTokenId", "ExpiredToken"),
    ("lambda", "UnrecognizedClientException", "ExpiredTokenException"),
])
def test_session_token_must_match_and_be_current(service, code, expired_code):
    later = datetime.now(UTC) + timedelta(hours=1)
    boto, operation, params = {
        "s3": ("s3", "list_buckets", {}), "sts": ("sts", "get_caller_identity", {}),
        "lambda": ("lambda", "list_functions", {}),
    }[service]
    request = capture(boto, operation, params, key="ASIAEXAMPLE", secret="session-secret",
                      token="the-token")
    result = authenticate(request, service, session_store("the-token", later))
    assert result.credential.kind == "assumed-role"
    assert rejected(request, service, session_store("other-token", later)).code == code
    error = rejected(request, service, session_store("the-token", datetime.now(UTC)
                                                     - timedelta(seconds=1)))
    assert error.code == expired_code
    if service == "s3":
        assert (error.status, error.message) == (400, "The provided token has expired.")


# -- presigned URLs -----------------------------------------------------------------------

def presigned(service, operation, params, expires=3600, method="GET", headers=(), body=b"",
              **client_options) -> HttpRequest:
    url = client(service, **client_options).generate_presigned_url(
        operation, Params=params, ExpiresIn=expires, HttpMethod=method
    )
    split = urlsplit(url)
    return HttpRequest(method, split.path, split.query,
                       Headers([("Host", split.netloc), *headers]), body)


def test_presigned_s3_v4_get():
    request = presigned("s3", "get_object", {"Bucket": "b", "Key": "a b/ü+=.txt"},
                        signature_version="s3v4")
    result = authenticate(request, "s3", STORE)
    assert (result.method, result.region, result.service) == ("sigv4-query", "us-east-1", "s3")
    assert scope_of(request)[0] == "test"
    tampered = HttpRequest("GET", request.path + "x", request.query, request.headers)
    assert rejected(tampered, "s3").code == "SignatureDoesNotMatch"


def test_presigned_s3_v4_put_with_content_type():
    request = presigned("s3", "put_object", {"Bucket": "b", "Key": "k", "ContentType": "text/plain"},
                        method="PUT", headers=[("Content-Type", "text/plain")], body=b"hello",
                        signature_version="s3v4")
    assert authenticate(request, "s3", STORE).body == b"hello"
    other = HttpRequest("PUT", request.path, request.query,
                        Headers([(n, "image/png" if n == "Content-Type" else v)
                                 for n, v in request.headers.raw]), b"hello")
    assert rejected(other, "s3").code == "SignatureDoesNotMatch"


def test_presigned_s3_v4_expires():
    request = presigned("s3", "get_object", {"Bucket": "b", "Key": "k"}, expires=60,
                        signature_version="s3v4")
    assert authenticate(request, "s3", STORE, now=datetime.now(UTC) + timedelta(seconds=30))
    error = rejected(request, "s3", now=datetime.now(UTC) + timedelta(seconds=120))
    assert (error.code, error.status, error.message) == ("AccessDenied", 403, "Request has expired")
    assert error.fields["X-Amz-Expires"] == "60"
    assert {"Expires", "ServerTime"} <= set(error.fields)


def test_presigned_expiry_longer_than_a_week_is_refused():
    request = presigned("s3", "get_object", {"Bucket": "b", "Key": "k"}, expires=604800,
                        signature_version="s3v4")
    assert authenticate(request, "s3", STORE)
    longer = HttpRequest("GET", request.path,
                         request.query.replace("X-Amz-Expires=604800", "X-Amz-Expires=604801"),
                         request.headers)
    assert rejected(longer, "s3").code == "AuthorizationQueryParametersError"


def test_presigned_sts_v4():
    request = presigned("sts", "get_caller_identity", {}, expires=60)
    assert authenticate(request, "sts", STORE).method == "sigv4-query"
    error = rejected(request, "sts", now=datetime.now(UTC) + timedelta(minutes=2))
    assert error.code == "SignatureDoesNotMatch"
    assert error.message.startswith("Signature expired")


def test_presigned_s3_v2():
    request = presigned("s3", "get_object", {"Bucket": "b", "Key": "a b/ü+=.txt",
                                             "ResponseContentType": "text/plain"},
                        expires=60, signature_version="s3")
    assert "AWSAccessKeyId=" in request.query
    assert scope_of(request) == ("test", None, None, "s3")
    assert authenticate(request, "s3", STORE).method == "sigv2-query"
    error = rejected(request, "s3", now=datetime.now(UTC) + timedelta(seconds=120))
    assert (error.code, error.message) == ("AccessDenied", "Request has expired")
    tampered = HttpRequest("GET", request.path,
                           request.query.replace("text%2Fplain", "text%2Fhtml"), request.headers)
    assert "text%2Fplain" in request.query
    assert rejected(tampered, "s3").code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("operation,params", [
    ("put_object", {"Bucket": "b", "Key": "a b/c", "Body": b"data", "Metadata": {"m": "v"}}),
    ("get_object_acl", {"Bucket": "b", "Key": "k"}),
    ("list_objects", {"Bucket": "b", "Prefix": "p"}),
])
def test_s3_v2_header(operation, params):
    request = capture("s3", operation, params, signature_version="s3")
    assert request.headers["authorization"].startswith("AWS test:")
    assert authenticate(request, "s3", STORE).method == "sigv2-header"
    wrong = capture("s3", operation, params, signature_version="s3", secret="wrong")
    error = rejected(wrong, "s3")
    assert error.code == "SignatureDoesNotMatch"
    assert {"AWSAccessKeyId", "StringToSign", "SignatureProvided", "StringToSignBytes"} <= set(
        error.fields)
    assert rejected(request, "s3", now=datetime.now(UTC) + timedelta(minutes=20)).code == (
        "RequestTimeTooSkewed")


def test_s3_v2_header_virtual_hosted():
    request = capture("s3", "get_object", {"Bucket": "bucket", "Key": "k"},
                      signature_version="s3", endpoint="http://s3.localhost.localstack.cloud:4566",
                      s3=(("addressing_style", "virtual"),))
    assert request.headers["host"].startswith("bucket.s3.")
    assert authenticate(request, "s3", STORE).method == "sigv2-header"


def test_s3_v4_virtual_hosted():
    request = capture("s3", "get_object", {"Bucket": "bucket", "Key": "k"},
                      endpoint="http://s3.localhost.localstack.cloud:4566",
                      s3=(("addressing_style", "virtual"),))
    assert authenticate(request, "s3", STORE).method == "sigv4-header"


# -- botocore's signer classes, used directly ---------------------------------------------

CREDENTIALS = Credentials("test", "test")


def signed_with(signer, method="GET", url=ENDPOINT + "/b/some%20key", data=b"", headers=None):
    request = AWSRequest(method=method, url=url, data=data, headers=headers or {})
    signer.add_auth(request)
    return to_http(request.prepare())


SIGNERS = [
    ("sts", lambda: SigV4Auth(CREDENTIALS, "sts", "eu-west-1"), "sigv4-header"),
    ("logs", lambda: SigV4Auth(CREDENTIALS, "logs", "ap-south-1"), "sigv4-header"),
    ("s3", lambda: S3SigV4Auth(CREDENTIALS, "s3", "us-west-2"), "sigv4-header"),
    ("sts", lambda: SigV4QueryAuth(CREDENTIALS, "sts", "eu-west-1", expires=300), "sigv4-query"),
    ("s3", lambda: S3SigV4QueryAuth(CREDENTIALS, "s3", "us-west-2", expires=300), "sigv4-query"),
    ("s3", lambda: HmacV1Auth(CREDENTIALS), "sigv2-header"),
    ("s3", lambda: HmacV1QueryAuth(CREDENTIALS, expires=300), "sigv2-query"),
]


@pytest.mark.parametrize("service,make,method", SIGNERS,
                         ids=[f"{s}-{m}-{i}" for i, (s, _, m) in enumerate(SIGNERS)])
def test_botocore_signer_classes(service, make, method):
    request = signed_with(make(), url=ENDPOINT + "/b/some%20key?acl&versionId=v%2F1")
    result = authenticate(request, service, STORE)
    assert result.method == method
    tampered = HttpRequest(request.method, request.path,
                           request.query.replace("v%2F1", "v%2F2"), request.headers)
    assert rejected(tampered, service).code in ("SignatureDoesNotMatch", "InvalidSignatureException")
