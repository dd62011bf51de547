"""boto3 over HTTPS sends S3 uploads as aws-chunked bodies with a checksum trailer
(STREAMING-UNSIGNED-PAYLOAD-TRAILER). Cloudlet serves TLS with a generated certificate so
that this path is reached by the real client, and verifies the trailer."""

from __future__ import annotations

import re

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def tls_cloudlet(tmp_path_factory):
    from harness import CloudletProcess

    server = CloudletProcess(data_dir=tmp_path_factory.mktemp("tls"), tls=True).start()
    yield server
    server.stop()


def capture_sends(client) -> list:
    sent = []

    def on_send(request, **_):
        body = request.body
        if hasattr(body, "read"):
            body = body.read()
            replace_body(request, body)
        sent.append((dict(request.headers), body))

    client.meta.events.register_first("before-send.s3.PutObject", on_send)
    return sent


def replace_body(request, body: bytes) -> None:
    """Send `body` as a plain Content-Length body (the stream it replaces was chunked)."""
    request.body = body
    for name in ("Transfer-Encoding", "Expect"):
        if name in request.headers:
            del request.headers[name]
    request.headers["Content-Length"] = str(len(body))


def test_sts_over_tls(tls_cloudlet):
    assert tls_cloudlet.client("sts").get_caller_identity()["Account"] == "000000000000"


def test_trailer_upload_passes_authentication(tls_cloudlet):
    s3 = tls_cloudlet.client("s3")
    sent = capture_sends(s3)
    try:
        s3.put_object(Bucket="bucket", Key="k", Body=b"hello trailer " * 1000)
    except ClientError as e:  # the S3 provider is another issue; authentication passed
        assert e.response["Error"]["Code"] in ("NotImplemented", "NoSuchBucket"), e.response
    headers, body = sent[-1]
    assert headers["x-amz-content-sha256"] == b"STREAMING-UNSIGNED-PAYLOAD-TRAILER" or \
        headers["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    assert b"x-amz-checksum-crc32:" in body


def test_corrupted_trailer_checksum_is_rejected(tls_cloudlet):
    s3 = tls_cloudlet.client("s3")

    def corrupt(request, **_):
        body = request.body.read() if hasattr(request.body, "read") else request.body
        replace_body(request, re.sub(rb"x-amz-checksum-crc32:[A-Za-z0-9+/=]+",
                                     b"x-amz-checksum-crc32:AAAAAA==", body))

    s3.meta.events.register_first("before-send.s3.PutObject", corrupt)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bucket", Key="k", Body=b"payload " * 100)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert e.value.response["Error"]["Code"] in ("BadDigest", "InvalidRequest")


def test_corrupted_chunk_data_is_rejected(tls_cloudlet):
    s3 = tls_cloudlet.client("s3")

    def corrupt(request, **_):
        body = request.body.read() if hasattr(request.body, "read") else request.body
        replace_body(request, body.replace(b"payload", b"paYload", 1))

    s3.meta.events.register_first("before-send.s3.PutObject", corrupt)
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="bucket", Key="k", Body=b"payload " * 100)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
