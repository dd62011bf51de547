"""S3 POST uploads: forms made by botocore's generate_presigned_post (V4 and V2)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import botocore.session
import pytest
from botocore.config import Config

from cloudlet.auth import authenticate, check_post_policy, decode_policy
from cloudlet.auth.credentials import CredentialStore
from cloudlet.auth.post_policy import parse_form
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import Headers, HttpRequest

BOUNDARY = "----cloudlet-boundary-7d1f"
STORE = CredentialStore()


def presigned_post(signature_version, conditions=None, fields=None, expires=3600, secret="test"):
    client = botocore.session.get_session().create_client(
        "s3", region_name="us-east-1", endpoint_url="http://127.0.0.1:4566",
        aws_access_key_id="test", aws_secret_access_key=secret,
        config=Config(signature_version=signature_version),
    )
    return client.generate_presigned_post(
        "bucket", "uploads/${filename}", Fields=fields, Conditions=conditions,
        ExpiresIn=expires,
    )


def multipart(fields: dict[str, str], content: bytes, filename="photo.jpg", extra=()) -> bytes:
    parts = []
    for name, value in [*fields.items(), *extra]:
        parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                     f"{value}\r\n".encode())
    parts.append(f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; '
                 f'filename="{filename}"\r\nContent-Type: image/jpeg\r\n\r\n'.encode()
                 + content + b"\r\n")
    parts.append(f"--{BOUNDARY}--\r\n".encode())
    return b"".join(parts)


def post_request(body: bytes) -> HttpRequest:
    return HttpRequest("POST", "/bucket", "", Headers([
        ("Host", "127.0.0.1:4566"),
        ("Content-Type", f"multipart/form-data; boundary={BOUNDARY}"),
    ]), body)


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_post_verifies_and_its_policy_holds(version):
    post = presigned_post(version, conditions=[["content-length-range", 1, 100],
                                               ["starts-with", "$Content-Type", "image/"]],
                          fields={"Content-Type": "image/jpeg"})
    body = multipart(post["fields"], b"\xff\xd8 jpeg bytes")
    result = authenticate(post_request(body), "s3", STORE)
    assert result.method == "post-policy"
    assert result.credential.account_id == "000000000000"
    form = result.post_form
    assert form.content == b"\xff\xd8 jpeg bytes"
    assert form.file_name == "photo.jpg"
    assert form.get("key") == "uploads/${filename}"
    policy = decode_policy(form.get("policy"))
    check_post_policy(policy, form.fields, len(form.content), bucket="bucket")
    if version == "s3v4":
        assert (result.region, result.service) == ("us-east-1", "s3")


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_post_with_another_secret_is_rejected(version):
    post = presigned_post(version, secret="wrong")
    with pytest.raises(ServiceError) as info:
        authenticate(post_request(multipart(post["fields"], b"x")), "s3", STORE)
    assert info.value.code == "SignatureDoesNotMatch"


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_post_with_a_changed_policy_is_rejected(version):
    post = presigned_post(version)
    fields = dict(post["fields"])
    document = json.loads(base64.b64decode(fields["policy"]))
    document["expiration"] = "2099-01-01T00:00:00Z"
    fields["policy"] = base64.b64encode(json.dumps(document).encode()).decode()
    with pytest.raises(ServiceError) as info:
        authenticate(post_request(multipart(fields, b"x")), "s3", STORE)
    assert info.value.code == "SignatureDoesNotMatch"


def checked(post, content=b"x", extra=(), bucket="bucket", now=None, override=None):
    fields = {**post["fields"], **(override or {})}
    form = parse_form(multipart(fields, content, extra=extra),
                      f"multipart/form-data; boundary={BOUNDARY}")
    check_post_policy(decode_policy(form.get("policy")), form.fields, len(form.content),
                      bucket=bucket, now=now)


def test_policy_expiration():
    post = presigned_post("s3v4", expires=60)
    checked(post)
    with pytest.raises(ServiceError) as info:
        checked(post, now=datetime.now(UTC) + timedelta(minutes=2))
    assert (info.value.code, info.value.message) == (
        "AccessDenied", "Invalid according to Policy: Policy expired.")


def test_policy_content_length_range():
    post = presigned_post("s3v4", conditions=[["content-length-range", 2, 4]])
    checked(post, b"abc")
    with pytest.raises(ServiceError) as info:
        checked(post, b"abcde")
    assert info.value.code == "EntityTooLarge"
    with pytest.raises(ServiceError) as info:
        checked(post, b"a")
    assert info.value.code == "EntityTooSmall"


def test_policy_eq_and_starts_with():
    post = presigned_post("s3v4", conditions=[["starts-with", "$Content-Type", "image/"],
                                              {"acl": "private"}],
                          fields={"Content-Type": "image/png", "acl": "private"})
    checked(post)
    with pytest.raises(ServiceError) as info:
        checked(post, override={"Content-Type": "text/html"})
    assert info.value.code == "AccessDenied"
    assert "Policy Condition failed" in info.value.message
    with pytest.raises(ServiceError):
        checked(post, override={"acl": "public-read"})
    with pytest.raises(ServiceError):
        checked(post, bucket="another-bucket")


def test_policy_refuses_fields_it_does_not_mention():
    post = presigned_post("s3v4")
    checked(post, extra=[("x-ignore-me", "fine")])
    with pytest.raises(ServiceError) as info:
        checked(post, extra=[("x-amz-meta-color", "red")])
    assert "Extra input fields: x-amz-meta-color" in info.value.message


def test_anonymous_post_without_policy():
    result = authenticate(post_request(multipart({"key": "k"}, b"data")), "s3", STORE)
    assert (result.credential, result.method, result.post_form.content) == (None, "anonymous",
                                                                            b"data")


@pytest.mark.parametrize("body", [b"", b"garbage", f"--{BOUNDARY}\r\nno headers".encode()])
def test_malformed_form_is_a_service_error(body):
    with pytest.raises(ServiceError):
        authenticate(post_request(body), "s3", STORE)
