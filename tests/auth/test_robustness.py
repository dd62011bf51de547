"""Whatever arrives, authentication answers with a ServiceError or a result, never a crash;
and verifying a typical signed request stays cheap."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cloudlet.auth import authenticate, scope_of, streaming
from cloudlet.auth.credentials import CredentialStore
from cloudlet.auth.post_policy import check_post_policy, parse_form
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import Headers, HttpRequest

STORE = CredentialStore()
SERVICES = ["s3", "ec2", "sts", "iam", "logs", "lambda", "cloudwatch", "unknown"]
NOW = datetime(2015, 8, 30, 12, 36, tzinfo=UTC)

# Any code point, lone surrogates included.
token = st.text(st.characters(exclude_categories=()), min_size=0, max_size=30)
credential = st.one_of(
    st.just("test/20150830/us-east-1/s3/aws4_request"),
    st.builds(lambda parts: "/".join(parts), st.lists(token, max_size=6)),
)
authorization = st.one_of(
    token,
    st.builds(lambda c, h, s: f"AWS4-HMAC-SHA256 Credential={c}, SignedHeaders={h}, Signature={s}",
              credential, st.sampled_from(["host;x-amz-date", "host", ""]) | token, token),
    st.builds(lambda k, s: f"AWS {k}:{s}", token, token),
)
header_names = st.sampled_from([
    "Host", "X-Amz-Date", "Date", "x-amz-content-sha256", "x-amz-security-token",
    "Content-Type", "Content-MD5", "x-amz-checksum-crc32", "x-amz-trailer",
    "x-amz-decoded-content-length", "X-Foo",
]) | token
header_values = st.one_of(
    token, st.sampled_from([
        "20150830T123600Z", "Sun, 30 Aug 2015 12:36:00 GMT", "UNSIGNED-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "x-amz-checksum-crc32", "10",
        "multipart/form-data; boundary=b", "AAAAAA==",
    ]),
)
query = st.one_of(
    token,
    st.builds(lambda a, b, c, d: f"X-Amz-Algorithm={a}&X-Amz-Credential={b}&X-Amz-Date={c}"
                                 f"&X-Amz-Expires={d}&X-Amz-SignedHeaders=host&X-Amz-Signature=0",
              token, credential, st.sampled_from(["20150830T123600Z"]) | token, token),
    st.builds(lambda k, s, e: f"AWSAccessKeyId={k}&Signature={s}&Expires={e}", token, token, token),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    service=st.sampled_from(SERVICES),
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE"]),
    path=st.one_of(st.just("/"), token.map(lambda t: "/" + t)),
    query=query,
    headers=st.lists(st.tuples(header_names, header_values), max_size=8),
    auth=st.none() | authorization,
    body=st.binary(max_size=200),
)
def test_random_requests_only_raise_service_errors(service, method, path, query, headers, auth,
                                                   body):
    raw = list(headers) + ([("Authorization", auth)] if auth is not None else [])
    request = HttpRequest(method, path, query, Headers(raw), body)
    scope_of(request)
    try:
        authenticate(request, service, STORE, now=NOW)
    except ServiceError:
        pass


@settings(max_examples=400, deadline=None)
@given(
    body=st.lists(st.one_of(st.binary(max_size=40), st.sampled_from(
        [b"\r\n", b"0\r\n", b"3\r\nabc\r\n", b"ffffffffffff\r\n", b";chunk-signature=",
         b"x-amz-checksum-crc32:AAAAAA==\r\n", b"-1\r\n"])), max_size=10).map(b"".join),
    signed=st.booleans(),
)
def test_random_chunked_bodies_only_raise_service_errors(body, signed):
    signer = streaming.ChunkSigner(b"k" * 32, "20150830T123600Z", "s", "0" * 64) if signed else None
    decoder = streaming.AwsChunkedDecoder(signer=signer, trailer_names=["x-amz-checksum-crc32"])
    try:
        decoder.feed(body)
        decoder.finish()
    except ServiceError:
        pass


@settings(max_examples=300, deadline=None)
@given(
    body=st.lists(st.one_of(st.binary(max_size=30), st.sampled_from(
        [b"--b", b"\r\n", b"--b--", b"Content-Disposition: form-data; name=\"policy\"",
         b"\r\n\r\n", b"name=\"file\"; filename=\"x\""])), max_size=12).map(b"".join),
    policy=st.one_of(st.dictionaries(st.sampled_from(["expiration", "conditions"]),
                                     st.one_of(token, st.lists(st.one_of(
                                         st.lists(token | st.integers(), max_size=4),
                                         st.dictionaries(token, token, max_size=2)),
                                         max_size=3))), token),
)
def test_random_forms_and_policies_only_raise_service_errors(body, policy):
    request = HttpRequest("POST", "/b", "", Headers([
        ("Content-Type", "multipart/form-data; boundary=b")]), body)
    try:
        authenticate(request, "s3", STORE)
    except ServiceError:
        pass
    try:
        form = parse_form(body, "multipart/form-data; boundary=b")
        check_post_policy(policy if isinstance(policy, dict) else {"expiration": policy},
                          form.fields, len(form.content))
    except ServiceError:
        pass
