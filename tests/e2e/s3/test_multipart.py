"""Multipart uploads: parts, limits, copy parts, checksums, listing, conditional complete."""

import base64
import hashlib
import os
import uuid

import pytest
from botocore.exceptions import ClientError

MIB = 1024 * 1024


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


@pytest.fixture
def bucket(s3):
    name = f"mp-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def code(info) -> str:
    return info.value.response["Error"]["Code"]


def upload_parts(s3, bucket, key, parts, **create):
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for number, body in enumerate(parts, 1):
        etag = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body)["ETag"]
        done.append({"PartNumber": number, "ETag": etag})
    return upload, done


def test_complete_and_read_back(s3, bucket):
    parts = [os.urandom(5 * MIB), os.urandom(5 * MIB), b"tail"]
    upload, done = upload_parts(s3, bucket, "big", parts, ContentType="application/x-big",
                                Metadata={"m": "v"})
    result = s3.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload,
                                          MultipartUpload={"Parts": done})
    md5s = b"".join(hashlib.md5(p).digest() for p in parts)
    assert result["ETag"] == f'"{hashlib.md5(md5s).hexdigest()}-3"'
    got = s3.get_object(Bucket=bucket, Key="big")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "application/x-big" and got["Metadata"] == {"m": "v"}
    second = s3.get_object(Bucket=bucket, Key="big", PartNumber=2)
    assert second["Body"].read() == parts[1]
    assert second["PartsCount"] == 3
    assert s3.head_object(Bucket=bucket, Key="big", PartNumber=3)["ContentLength"] == 4
    with pytest.raises(ClientError) as info:
        s3.head_object(Bucket=bucket, Key="big", PartNumber=4)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 416
    with pytest.raises(ClientError) as info:
        s3.list_parts(Bucket=bucket, Key="big", UploadId=upload)
    assert code(info) == "NoSuchUpload"


def test_limits_and_errors(s3, bucket):
    upload, done = upload_parts(s3, bucket, "small", [b"a" * 100, b"b" * 100])
    with pytest.raises(ClientError) as info:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload,
                                     MultipartUpload={"Parts": done})
    assert code(info) == "EntityTooSmall"
    with pytest.raises(ClientError) as info:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload,
                                     MultipartUpload={"Parts": list(reversed(done))})
    assert code(info) == "InvalidPartOrder"
    with pytest.raises(ClientError) as info:
        s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload,
                                     MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"beef"'}]})
    assert code(info) == "InvalidPart"
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="small", UploadId=upload, PartNumber=10001, Body=b"x")
    assert code(info) == "InvalidArgument"
    with pytest.raises(ClientError) as info:
        s3.upload_part(Bucket=bucket, Key="small", UploadId="nope", PartNumber=1, Body=b"x")
    assert code(info) == "NoSuchUpload"
    # a single small part is a valid upload (the last part may be any size)
    one = s3.complete_multipart_upload(Bucket=bucket, Key="small", UploadId=upload,
                                       MultipartUpload={"Parts": done[:1]})
    assert one["ETag"].endswith('-1"')
    assert s3.get_object(Bucket=bucket, Key="small")["Body"].read() == b"a" * 100


def test_abort_list_uploads_and_parts(s3, bucket):
    first = s3.create_multipart_upload(Bucket=bucket, Key="x/one")["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="x/two")["UploadId"]
    s3.create_multipart_upload(Bucket=bucket, Key="y/three")
    for n in (1, 2, 3):
        s3.upload_part(Bucket=bucket, Key="x/one", UploadId=first, PartNumber=n, Body=b"p" * n)
    parts = s3.list_parts(Bucket=bucket, Key="x/one", UploadId=first, MaxParts=2)
    assert [p["PartNumber"] for p in parts["Parts"]] == [1, 2] and parts["IsTruncated"]
    rest = s3.list_parts(Bucket=bucket, Key="x/one", UploadId=first,
                         PartNumberMarker=parts["NextPartNumberMarker"])
    assert [(p["PartNumber"], p["Size"]) for p in rest["Parts"]] == [(3, 3)]
    uploads = s3.list_multipart_uploads(Bucket=bucket)
    assert [u["Key"] for u in uploads["Uploads"]] == ["x/one", "x/two", "y/three"]
    grouped = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in grouped["CommonPrefixes"]] == ["x/", "y/"]
    prefixed = s3.list_multipart_uploads(Bucket=bucket, Prefix="x/", MaxUploads=1)
    assert [u["UploadId"] for u in prefixed["Uploads"]] == [first] and prefixed["IsTruncated"]
    s3.abort_multipart_upload(Bucket=bucket, Key="x/two", UploadId=second)
    with pytest.raises(ClientError) as info:
        s3.abort_multipart_upload(Bucket=bucket, Key="x/two", UploadId=second)
    assert code(info) == "NoSuchUpload"
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket=bucket)
    assert code(info) == "BucketNotEmpty"


def test_upload_part_copy_with_ranges(s3, bucket):
    source = os.urandom(6 * MIB)
    s3.put_object(Bucket=bucket, Key="src", Body=source)
    upload = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    first = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "src"},
                                CopySourceRange=f"bytes=0-{5 * MIB - 1}")
    second = s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload, PartNumber=2,
                                 CopySource={"Bucket": bucket, "Key": "src"},
                                 CopySourceRange=f"bytes={5 * MIB}-{6 * MIB - 1}")
    s3.complete_multipart_upload(Bucket=bucket, Key="copied", UploadId=upload, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": first["CopyPartResult"]["ETag"]},
                  {"PartNumber": 2, "ETag": second["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == source
    with pytest.raises(ClientError) as info:
        s3.upload_part_copy(Bucket=bucket, Key="copied", UploadId=upload, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "src"},
                            CopySourceRange="bytes=0-99999999")
    assert code(info) in ("InvalidArgument", "NoSuchUpload")


@pytest.mark.parametrize("algorithm", ["CRC32", "SHA256"])
def test_per_part_checksums(s3, bucket, algorithm):
    key = f"ck-{algorithm}"
    upload = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=algorithm)["UploadId"]
    bodies = [os.urandom(5 * MIB), b"end"]
    done = []
    for n, body in enumerate(bodies, 1):
        part = s3.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=body,
                              ChecksumAlgorithm=algorithm)
        assert part[f"Checksum{algorithm}"]
        done.append({"PartNumber": n, "ETag": part["ETag"], f"Checksum{algorithm}": part[f"Checksum{algorithm}"]})
    listed = s3.list_parts(Bucket=bucket, Key=key, UploadId=upload)
    assert all(p[f"Checksum{algorithm}"] for p in listed["Parts"])
    result = s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload,
                                          MultipartUpload={"Parts": done})
    value = result[f"Checksum{algorithm}"]
    assert value.endswith("-2")
    expected = hashlib.sha256 if algorithm == "SHA256" else None
    if expected:
        joined = b"".join(base64.b64decode(p[f"Checksum{algorithm}"]) for p in done)
        assert value == base64.b64encode(expected(joined).digest()).decode() + "-2"
    head = s3.head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    assert head[f"Checksum{algorithm}"] == value


def test_conditional_complete(s3, bucket):
    s3.put_object(Bucket=bucket, Key="exists", Body=b"x")
    upload, done = upload_parts(s3, bucket, "exists", [b"new"])
    with pytest.raises(ClientError) as info:
        s3.complete_multipart_upload(Bucket=bucket, Key="exists", UploadId=upload,
                                     MultipartUpload={"Parts": done}, IfNoneMatch="*")
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 412
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"x"
    etag = s3.head_object(Bucket=bucket, Key="exists")["ETag"]
    s3.complete_multipart_upload(Bucket=bucket, Key="exists", UploadId=upload,
                                 MultipartUpload={"Parts": done}, IfMatch=etag)
    assert s3.get_object(Bucket=bucket, Key="exists")["Body"].read() == b"new"


def test_upload_file_multipart_transfer(s3, bucket, tmp_path):
    from boto3.s3.transfer import TransferConfig

    data = os.urandom(17 * MIB)
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    config = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB)
    s3.upload_file(str(path), bucket, "transfer.bin", Config=config)
    head = s3.head_object(Bucket=bucket, Key="transfer.bin")
    assert head["ContentLength"] == len(data) and head["ETag"].endswith('-4"')
    out = tmp_path / "out.bin"
    s3.download_file(bucket, "transfer.bin", str(out), Config=config)
    assert out.read_bytes() == data
