"""Pre-signed URLs from plain HTTP: SigV4 and SigV2, GET and PUT, expiry, tampering."""

import time
import uuid

import pytest
import requests
from botocore.config import Config


@pytest.fixture(scope="module")
def bucket(cloudlet):
    name = f"pre-{uuid.uuid4().hex[:16]}"
    cloudlet.client("s3").create_bucket(Bucket=name)
    return name


def client(cloudlet, version: str):
    return cloudlet.client("s3", config=Config(signature_version=version,
                                               retries={"max_attempts": 1}))


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_presigned_put_then_get(cloudlet, bucket, version):
    s3 = client(cloudlet, version)
    key = f"via-url/{version}/file name.txt"
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": key},
                                        ExpiresIn=300)
    assert requests.put(put_url, data=b"uploaded by url").status_code == 200
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": key},
                                        ExpiresIn=300)
    response = requests.get(get_url)
    assert response.status_code == 200
    assert response.content == b"uploaded by url"
    assert response.headers["ETag"]


def test_large_presigned_put_streams(cloudlet, bucket):
    import os

    s3 = client(cloudlet, "s3v4")
    body = os.urandom(8 * 1024 * 1024)
    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "large"})
    assert requests.put(url, data=body).status_code == 200
    assert requests.get(s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "large"})).content == body


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_expired_url(cloudlet, bucket, version):
    s3 = client(cloudlet, version)
    s3.put_object(Bucket=bucket, Key="expiring", Body=b"x")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "expiring"},
                                    ExpiresIn=1)
    time.sleep(2.1)
    response = requests.get(url)
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    assert "Request has expired" in response.text


@pytest.mark.parametrize("version", ["s3v4", "s3"])
def test_tampered_url(cloudlet, bucket, version):
    s3 = client(cloudlet, version)
    s3.put_object(Bucket=bucket, Key="one", Body=b"1")
    s3.put_object(Bucket=bucket, Key="two", Body=b"2")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "one"})
    response = requests.get(url.replace("/one?", "/two?"))
    assert response.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_presigned_get_range_and_head(cloudlet, bucket):
    s3 = client(cloudlet, "s3v4")
    s3.put_object(Bucket=bucket, Key="ranged", Body=b"0123456789")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "ranged"})
    response = requests.get(url, headers={"Range": "bytes=2-4"})
    assert response.status_code == 206 and response.content == b"234"
    assert response.headers["Content-Range"] == "bytes 2-4/10"
