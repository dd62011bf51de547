"""Only S3 takes an unsigned payload. Every other service signs the body itself, as AWS's
do: a request signed as `x-amz-content-sha256: UNSIGNED-PAYLOAD` gets the service's
signature mismatch, and a captured signature cannot carry another body. S3's presigned
URLs, unsigned and streaming uploads go on working."""

from __future__ import annotations

import hashlib
import io

import botocore.auth
import pytest
import requests
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import error_of, unique

FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


def capture(endpoint: str, service: str, body: str, headers: dict) -> dict:
    """The headers a client signed `body` with (what an eavesdropper keeps)."""
    request = AWSRequest(method="POST", url=endpoint + "/", data=body, headers=dict(headers))
    botocore.auth.SigV4Auth(Credentials("test", "test"), service, "us-east-1").add_auth(request)
    return dict(request.headers.items())


def send(endpoint: str, body: str, headers: dict) -> requests.Response:
    return requests.post(endpoint + "/", data=body.encode(), headers=headers, timeout=10)


LIST_USERS = "Action=ListUsers&Version=2010-05-08"


@pytest.mark.parametrize("unsigned", [True, False], ids=["unsigned-payload", "signed-payload"])
def test_a_captured_signature_cannot_carry_another_body(cloudlet, unsigned):
    name = unique("smuggled")
    headers = {**FORM, **({"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"} if unsigned else {})}
    captured = capture(cloudlet.endpoint, "iam", LIST_USERS, headers)
    assert send(cloudlet.endpoint, LIST_USERS, captured).status_code == (403 if unsigned else 200)
    swapped = send(cloudlet.endpoint, f"Action=CreateUser&UserName={name}&Version=2010-05-08",
                   captured)
    assert swapped.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in swapped.content
    iam = cloudlet.client("iam")
    assert error_of(iam.get_user, UserName=name)[0] == "NoSuchEntity"


def test_a_payload_hash_of_another_body_is_refused(cloudlet):
    name = unique("smuggled")
    claimed = hashlib.sha256(LIST_USERS.encode()).hexdigest()
    captured = capture(cloudlet.endpoint, "iam", LIST_USERS,
                       {**FORM, "X-Amz-Content-SHA256": claimed})
    swapped = send(cloudlet.endpoint, f"Action=CreateUser&UserName={name}&Version=2010-05-08",
                   captured)
    assert swapped.status_code == 403
    assert error_of(cloudlet.client("iam").get_user, UserName=name)[0] == "NoSuchEntity"


UNSIGNED_CALLS = [
    ("iam", LIST_USERS, FORM, "SignatureDoesNotMatch"),
    ("sts", "Action=GetCallerIdentity&Version=2011-06-15", FORM, "SignatureDoesNotMatch"),
    ("logs", "{}", {"Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": "Logs_20140328.DescribeLogGroups"},
     "InvalidSignatureException"),
]


@pytest.mark.parametrize("service,body,headers,code", UNSIGNED_CALLS,
                         ids=[c[0] for c in UNSIGNED_CALLS])
def test_unsigned_payload_is_refused_outside_s3(cloudlet, service, body, headers, code):
    signed = capture(cloudlet.endpoint, service, body,
                     {**headers, "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    reply = send(cloudlet.endpoint, body, signed)
    assert reply.status_code == 403
    assert code.encode() in reply.content
    hashed = capture(cloudlet.endpoint, service, body, headers)  # the same call, body signed
    assert send(cloudlet.endpoint, body, hashed).status_code == 200


def test_s3_keeps_unsigned_and_streaming_payloads_and_presigned_urls(cloudlet, tmp_path):
    s3 = cloudlet.client("s3")
    bucket = unique("payloads")
    s3.create_bucket(Bucket=bucket)
    # boto3's uploads: a plain PutObject, and a multipart upload of 12 MiB
    s3.put_object(Bucket=bucket, Key="plain", Body=b"plain bytes")
    big = tmp_path / "big"
    big.write_bytes(b"x" * (12 * 1024 * 1024))
    s3.upload_file(str(big), bucket, "big")
    assert s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == 12 * 1024 * 1024
    s3.upload_fileobj(io.BytesIO(b"streamed"), bucket, "fileobj")
    # a header-signed PUT with UNSIGNED-PAYLOAD
    url = f"{cloudlet.endpoint}/{bucket}/unsigned"
    request = AWSRequest(method="PUT", url=url, data=b"unsigned body",
                         headers={"X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"})
    botocore.auth.S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    assert requests.put(url, data=b"unsigned body", headers=dict(request.headers.items()),
                        timeout=10).status_code == 200
    # presigned URLs, both ways
    put = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "presigned"})
    assert requests.put(put, data=b"presigned body", timeout=10).status_code == 200
    get = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "presigned"})
    assert requests.get(get, timeout=10).content == b"presigned body"
    for key, body in (("plain", b"plain bytes"), ("fileobj", b"streamed"),
                      ("unsigned", b"unsigned body")):
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == body
