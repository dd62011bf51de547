"""Objects: put/get/head/delete/copy, metadata, ranges, conditions, checksums, bad input."""

import base64
import datetime as dt
import hashlib
import os
import uuid
import zlib

import pytest
import requests
from botocore.exceptions import ClientError


def unique(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


def code(info) -> str:
    return info.value.response["Error"]["Code"]


def status(info) -> int:
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


@pytest.fixture
def bucket(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    return name


def test_put_get_head_with_headers_and_metadata(s3, bucket):
    body = b"hello, world"
    put = s3.put_object(Bucket=bucket, Key="docs/a.txt", Body=body, ContentType="text/plain",
                        ContentDisposition="attachment", ContentLanguage="en", CacheControl="no-cache",
                        ContentEncoding="identity", Metadata={"color": "blue"},
                        StorageClass="STANDARD_IA", Tagging="a=1&b=2",
                        WebsiteRedirectLocation="/other")
    assert put["ETag"] == f'"{hashlib.md5(body).hexdigest()}"'
    got = s3.get_object(Bucket=bucket, Key="docs/a.txt")
    assert got["Body"].read() == body
    assert got["ContentType"] == "text/plain"
    assert got["ContentDisposition"] == "attachment"
    assert got["ContentLanguage"] == "en"
    assert got["CacheControl"] == "no-cache"
    assert got["Metadata"] == {"color": "blue"}
    assert got["StorageClass"] == "STANDARD_IA"
    assert got["TagCount"] == 2
    assert got["WebsiteRedirectLocation"] == "/other"
    assert got["ETag"] == put["ETag"]
    head = s3.head_object(Bucket=bucket, Key="docs/a.txt")
    assert head["ContentLength"] == len(body)
    assert head["AcceptRanges"] == "bytes"


def test_default_content_type_and_empty_object(s3, bucket):
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    got = s3.get_object(Bucket=bucket, Key="empty")
    assert got["Body"].read() == b""
    assert got["ContentType"] == "binary/octet-stream"
    assert got["ETag"] == '"d41d8cd98f00b204e9800998ecf8427e"'


def test_read_after_write_overwrite_and_delete(s3, bucket):
    for i in range(5):
        s3.put_object(Bucket=bucket, Key="k", Body=f"v{i}".encode())
        assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == f"v{i}".encode()
    s3.delete_object(Bucket=bucket, Key="k")
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="k")
    assert code(info) == "NoSuchKey"
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="k")
    assert status(info) == 404
    s3.delete_object(Bucket=bucket, Key="never-there")  # deleting nothing is fine


def test_no_such_bucket(s3):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=unique("missing"), Key="k", Body=b"x")
    assert code(info) == "NoSuchBucket"


def test_unicode_and_long_keys(s3, bucket):
    keys = ["ünïcödé/ключ/鍵 with spaces+plus%percent", "a" * 1024, "emoji/😀?&=#", "tab\tnewline"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
        assert s3.get_object(Bucket=bucket, Key=key)["Body"].read() == key.encode()
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="a" * 1025, Body=b"x")
    assert code(info) == "KeyTooLongError"


def test_metadata_too_large(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="m", Body=b"x", Metadata={"big": "v" * 2100})
    assert code(info) == "MetadataTooLarge"


def test_invalid_storage_class(s3, bucket):
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="sc", Body=b"x", StorageClass="PLATINUM")
    assert code(info) == "InvalidStorageClass"


def test_content_md5(s3, bucket):
    body = b"check me"
    good = base64.b64encode(hashlib.md5(body).digest()).decode()
    s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5=good)
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="md5", Body=body,
                      ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode())
    assert code(info) == "BadDigest"
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="md5", Body=body, ContentMD5="not-base64")
    assert code(info) == "InvalidDigest"
    assert s3.get_object(Bucket=bucket, Key="md5")["Body"].read() == body


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME", "SHA1", "SHA256"])
def test_checksums_stored_and_returned(s3, bucket, algorithm):
    body = os.urandom(1000)
    put = s3.put_object(Bucket=bucket, Key=f"c-{algorithm}", Body=body, ChecksumAlgorithm=algorithm)
    sent = put[f"Checksum{algorithm}"]
    got = s3.get_object(Bucket=bucket, Key=f"c-{algorithm}", ChecksumMode="ENABLED")
    assert got["Body"].read() == body
    assert got[f"Checksum{algorithm}"] == sent
    head = s3.head_object(Bucket=bucket, Key=f"c-{algorithm}", ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == sent
    plain = s3.head_object(Bucket=bucket, Key=f"c-{algorithm}")
    assert f"Checksum{algorithm}" not in plain


def test_default_checksum_is_crc32(s3, bucket):
    body = b"boto3 sends crc32 by default"
    s3.put_object(Bucket=bucket, Key="crc", Body=body)
    got = s3.head_object(Bucket=bucket, Key="crc", ChecksumMode="ENABLED")
    expected = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    assert got["ChecksumCRC32"] == expected


def test_wrong_checksum_header(s3, bucket):
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="bad", Body=b"data", ChecksumCRC32=wrong)
    assert code(info) in ("BadDigest", "InvalidRequest")
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="bad")


@pytest.mark.parametrize("size", [70_000, 3 * 1024 * 1024 + 5])
def test_aws_chunked_body_is_stored_decoded(fresh_cloudlet, size):
    """boto3 over HTTPS sends aws-chunked bodies with a CRC32 trailer: stored decoded, the
    trailer's checksum kept (small bodies are read whole, large ones stream to disk)."""
    server = fresh_cloudlet(tls=True)
    s3 = server.client("s3")
    seen = []
    s3.meta.events.register("before-send.s3.PutObject",
                            lambda request, **_: seen.append(dict(request.headers)))
    s3.create_bucket(Bucket="chunked")
    body = os.urandom(size)
    s3.put_object(Bucket="chunked", Key="k", Body=body)
    sha = seen[-1]["x-amz-content-sha256"]
    assert (sha.decode() if isinstance(sha, bytes) else sha) == "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
    got = s3.get_object(Bucket="chunked", Key="k", ChecksumMode="ENABLED")
    assert got["ContentLength"] == size
    assert got["Body"].read() == body
    assert got["ChecksumCRC32"] == base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()


def test_ranges(s3, bucket):
    body = bytes(range(256)) * 4
    s3.put_object(Bucket=bucket, Key="r", Body=body)
    got = s3.get_object(Bucket=bucket, Key="r", Range="bytes=10-19")
    assert got["Body"].read() == body[10:20]
    assert got["ContentRange"] == f"bytes 10-19/{len(body)}"
    assert got["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=-5")["Body"].read() == body[-5:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-")["Body"].read() == body[1000:]
    assert s3.get_object(Bucket=bucket, Key="r", Range="bytes=1000-99999")["Body"].read() == body[1000:]
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="r", Range="bytes=5000-6000")
    assert code(info) == "InvalidRange"
    assert status(info) == 416


def test_conditional_reads(s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="c", Body=b"cond")["ETag"]
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag)["Body"].read() == b"cond"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="c", IfMatch='"0000"')
    assert status(info) == 412 and code(info) == "PreconditionFailed"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status(info) == 304
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="c", IfNoneMatch=etag)
    assert status(info) == 304
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=future)
    assert status(info) == 304
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=bucket, Key="c", IfUnmodifiedSince=past)
    assert status(info) == 412
    assert s3.get_object(Bucket=bucket, Key="c", IfModifiedSince=past)["Body"].read() == b"cond"
    # If-Match true wins over If-Unmodified-Since false, as on AWS
    assert s3.get_object(Bucket=bucket, Key="c", IfMatch=etag, IfUnmodifiedSince=past)["Body"].read()


def test_conditional_writes(s3, bucket):
    s3.put_object(Bucket=bucket, Key="lock", Body=b"1", IfNoneMatch="*")
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="lock", Body=b"2", IfNoneMatch="*")
    assert status(info) == 412
    etag = s3.head_object(Bucket=bucket, Key="lock")["ETag"]
    new = s3.put_object(Bucket=bucket, Key="lock", Body=b"3", IfMatch=etag)["ETag"]
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="lock", Body=b"4", IfMatch=etag)
    assert status(info) == 412
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="nothing", Body=b"4", IfMatch=new)
    assert code(info) == "NoSuchKey"
    assert s3.get_object(Bucket=bucket, Key="lock")["Body"].read() == b"3"


def test_response_overrides(s3, bucket):
    s3.put_object(Bucket=bucket, Key="o", Body=b"x", ContentType="text/plain")
    got = s3.get_object(Bucket=bucket, Key="o", ResponseContentType="application/json",
                        ResponseContentDisposition="inline", ResponseCacheControl="max-age=1")
    assert got["ContentType"] == "application/json"
    assert got["ContentDisposition"] == "inline"
    assert got["CacheControl"] == "max-age=1"


def test_copy_object(s3, bucket):
    other = unique()
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=bucket, Key="src", Body=b"copy me", ContentType="text/plain",
                  Metadata={"m": "1"})
    copied = s3.copy_object(Bucket=other, Key="dst", CopySource={"Bucket": bucket, "Key": "src"})
    assert copied["CopyObjectResult"]["ETag"] == f'"{hashlib.md5(b"copy me").hexdigest()}"'
    got = s3.get_object(Bucket=other, Key="dst")
    assert got["Body"].read() == b"copy me"
    assert got["Metadata"] == {"m": "1"} and got["ContentType"] == "text/plain"
    s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src", MetadataDirective="REPLACE",
                   Metadata={"m": "2"}, ContentType="application/x-new")
    got = s3.head_object(Bucket=bucket, Key="src")
    assert got["Metadata"] == {"m": "2"} and got["ContentType"] == "application/x-new"
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="src", CopySource=f"{bucket}/src")
    assert code(info) == "InvalidRequest"
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/missing")
    assert code(info) == "NoSuchKey"
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/src", CopySourceIfMatch='"nope"')
    assert status(info) == 412
    etag = got["ETag"]
    with pytest.raises(ClientError) as info:
        s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/src", CopySourceIfNoneMatch=etag)
    assert status(info) == 412
    s3.copy_object(Bucket=bucket, Key="x", CopySource=f"{bucket}/src", CopySourceIfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="x")["Body"].read() == b"copy me"


def test_delete_objects(s3, bucket):
    keys = [f"d/{i}" for i in range(20)]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    result = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[:10]]})
    assert sorted(d["Key"] for d in result["Deleted"]) == sorted(keys[:10])
    quiet = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys[10:]],
                                                    "Quiet": True})
    assert "Deleted" not in quiet
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket, Prefix="d/")
    with pytest.raises(ClientError) as info:
        s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"k{i}"} for i in range(1001)]})
    assert code(info) == "MalformedXML"


def test_anonymous_requests_to_private_bucket_are_denied(cloudlet, s3, bucket):
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret")
    response = requests.get(f"{cloudlet.endpoint}/{bucket}/private")
    assert response.status_code == 403
    assert "<Code>AccessDenied</Code>" in response.text
    response = requests.put(f"{cloudlet.endpoint}/{bucket}/anon", data=b"x")
    assert response.status_code == 403


def test_large_object_streams(s3, bucket):
    body = os.urandom(12 * 1024 * 1024 + 3)
    s3.put_object(Bucket=bucket, Key="large", Body=body)
    got = s3.get_object(Bucket=bucket, Key="large")
    assert hashlib.sha256(got["Body"].read()).digest() == hashlib.sha256(body).digest()
    part = s3.get_object(Bucket=bucket, Key="large", Range="bytes=5000000-5000099")["Body"].read()
    assert part == body[5000000:5000100]


def test_short_body_times_out_and_is_not_stored(cloudlet, s3, bucket):
    import socket

    url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "short"})
    path = url.replace(cloudlet.endpoint, "")
    with socket.create_connection(("127.0.0.1", cloudlet.port)) as sock:
        sock.sendall(f"PUT {path} HTTP/1.1\r\nHost: 127.0.0.1:{cloudlet.port}\r\n"
                     f"Content-Length: 2000000\r\n\r\n".encode() + b"x" * 1000)
        sock.settimeout(30)
        reply = b""
        while b"</Error>" not in reply:
            piece = sock.recv(65536)
            if not piece:
                break
            reply += piece
    assert b" 400 " in reply.split(b"\r\n")[0]
    assert b"RequestTimeout" in reply or b"IncompleteBody" in reply
    with pytest.raises(ClientError):
        s3.head_object(Bucket=bucket, Key="short")


def test_object_tagging(s3, bucket):
    s3.put_object(Bucket=bucket, Key="tagged", Body=b"x", Tagging="team=blue")
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == [
        {"Key": "team", "Value": "blue"}]
    s3.put_object_tagging(Bucket=bucket, Key="tagged", Tagging={"TagSet": [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]})
    assert len(s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]) == 2
    assert s3.head_object(Bucket=bucket, Key="tagged")["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-tagging-count"] == "2"
    s3.delete_object_tagging(Bucket=bucket, Key="tagged")
    assert s3.get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"] == []
    with pytest.raises(ClientError) as info:
        s3.get_object_tagging(Bucket=bucket, Key="no-such")
    assert code(info) == "NoSuchKey"


def test_object_acls_follow_object_ownership(s3, bucket):
    s3.put_object(Bucket=bucket, Key="acl", Body=b"x", ACL="bucket-owner-full-control")
    acl = s3.get_object_acl(Bucket=bucket, Key="acl")
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    assert acl["Owner"]["ID"] == acl["Grants"][0]["Grantee"]["ID"]
    # new buckets enforce bucket ownership: ACLs other than the owner's are refused
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=bucket, Key="acl2", Body=b"x", ACL="public-read")
    assert code(info) == "AccessControlListNotSupported"
    with pytest.raises(ClientError) as info:
        s3.put_object_acl(Bucket=bucket, Key="acl", ACL="authenticated-read")
    assert code(info) == "AccessControlListNotSupported"
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    # ACLs now apply, but Block Public Access (on by default) still refuses public ones
    with pytest.raises(ClientError) as info:
        s3.put_object_acl(Bucket=bucket, Key="acl", ACL="public-read")
    assert code(info) == "AccessDenied"
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True})
    s3.put_object_acl(Bucket=bucket, Key="acl", ACL="public-read")
    grants = s3.get_object_acl(Bucket=bucket, Key="acl")["Grants"]
    assert {g["Permission"] for g in grants} == {"FULL_CONTROL", "READ"}


def test_object_lock_retention_and_legal_hold(s3):
    import datetime as dt

    name = unique("lock")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    assert s3.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    assert s3.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]["Rule"][
        "DefaultRetention"]["Mode"] == "GOVERNANCE"
    governed = s3.put_object(Bucket=name, Key="g", Body=b"x")["VersionId"]
    assert s3.get_object_retention(Bucket=name, Key="g")["Retention"]["Mode"] == "GOVERNANCE"
    with pytest.raises(ClientError) as info:
        s3.delete_object(Bucket=name, Key="g", VersionId=governed)
    assert code(info) == "AccessDenied"
    s3.delete_object(Bucket=name, Key="g", VersionId=governed, BypassGovernanceRetention=True)
    until = dt.datetime.now(dt.UTC) + dt.timedelta(days=2)
    compliant = s3.put_object(Bucket=name, Key="c", Body=b"x", ObjectLockMode="COMPLIANCE",
                              ObjectLockRetainUntilDate=until)["VersionId"]
    head = s3.head_object(Bucket=name, Key="c")
    assert head["ObjectLockMode"] == "COMPLIANCE"
    with pytest.raises(ClientError) as info:
        s3.delete_object(Bucket=name, Key="c", VersionId=compliant, BypassGovernanceRetention=True)
    assert code(info) == "AccessDenied"
    with pytest.raises(ClientError) as info:
        s3.put_object_retention(Bucket=name, Key="c", Retention={
            "Mode": "GOVERNANCE", "RetainUntilDate": until}, BypassGovernanceRetention=True)
    assert code(info) == "AccessDenied"
    held = s3.put_object(Bucket=name, Key="h", Body=b"x")["VersionId"]
    s3.put_object_legal_hold(Bucket=name, Key="h", LegalHold={"Status": "ON"})
    assert s3.get_object_legal_hold(Bucket=name, Key="h")["LegalHold"]["Status"] == "ON"
    with pytest.raises(ClientError) as info:
        s3.delete_object(Bucket=name, Key="h", VersionId=held, BypassGovernanceRetention=True)
    assert code(info) == "AccessDenied"
    s3.put_object_legal_hold(Bucket=name, Key="h", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=name, Key="h", VersionId=held, BypassGovernanceRetention=True)
    # without a version id a delete only adds a marker, which a lock does not prevent
    assert s3.delete_object(Bucket=name, Key="c")["DeleteMarker"] is True
    plain = unique("nolock")
    s3.create_bucket(Bucket=plain)
    with pytest.raises(ClientError) as info:
        s3.put_object(Bucket=plain, Key="k", Body=b"x", ObjectLockMode="GOVERNANCE",
                      ObjectLockRetainUntilDate=until)
    assert code(info) == "InvalidRequest"
    with pytest.raises(ClientError) as info:
        s3.get_object_lock_configuration(Bucket=plain)
    assert code(info) == "ObjectLockConfigurationNotFoundError"
