"""The AWS CLI's high-level commands: aws s3 cp / sync / ls / rm, multipart at 100 MiB."""

import hashlib
import os
import time
import uuid


def test_cp_ls_rm_and_large_multipart(cloudlet, tmp_path):
    bucket = f"cli-{uuid.uuid4().hex[:16]}"
    cloudlet.aws("s3", "mb", f"s3://{bucket}")
    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(100):
            f.write(os.urandom(1024 * 1024))
    cloudlet.aws("s3", "cp", str(big), f"s3://{bucket}/data/big.bin")
    head = cloudlet.client("s3").head_object(Bucket=bucket, Key="data/big.bin")
    assert head["ContentLength"] == 100 * 1024 * 1024
    assert head["ETag"].rstrip('"').split("-")[-1].isdigit()  # a multipart ETag
    listing = cloudlet.aws("s3", "ls", f"s3://{bucket}/data/").stdout
    assert "big.bin" in listing and str(100 * 1024 * 1024) in listing
    back = tmp_path / "back.bin"
    cloudlet.aws("s3", "cp", f"s3://{bucket}/data/big.bin", str(back))
    assert hashlib.sha256(back.read_bytes()).digest() == hashlib.sha256(big.read_bytes()).digest()
    cloudlet.aws("s3", "rm", f"s3://{bucket}/data/big.bin")
    assert "big.bin" not in cloudlet.aws("s3", "ls", f"s3://{bucket}", "--recursive").stdout


def test_sync_both_ways(cloudlet, tmp_path):
    bucket = f"sync-{uuid.uuid4().hex[:16]}"
    cloudlet.aws("s3", "mb", f"s3://{bucket}")
    source = tmp_path / "src"
    (source / "nested" / "deeper").mkdir(parents=True)
    files = {"a.txt": b"alpha", "nested/b.txt": b"beta", "nested/deeper/c d.txt": b"gamma"}
    an_hour_ago = time.time() - 3600  # S3's LastModified has whole seconds, as on AWS
    for name, body in files.items():
        (source / name).write_bytes(body)
        os.utime(source / name, (an_hour_ago, an_hour_ago))
    cloudlet.aws("s3", "sync", str(source), f"s3://{bucket}/site")
    listed = cloudlet.aws("s3", "ls", f"s3://{bucket}/site/", "--recursive").stdout
    for name in files:
        assert f"site/{name}" in listed
    # a second sync uploads nothing
    again = cloudlet.aws("s3", "sync", str(source), f"s3://{bucket}/site").stdout
    assert "upload:" not in again
    target = tmp_path / "dst"
    cloudlet.aws("s3", "sync", f"s3://{bucket}/site", str(target))
    for name, body in files.items():
        assert (target / name).read_bytes() == body
    cloudlet.aws("s3", "rm", f"s3://{bucket}/site", "--recursive")
    assert cloudlet.aws("s3", "ls", f"s3://{bucket}", "--recursive").stdout.strip() == ""
    cloudlet.aws("s3", "rb", f"s3://{bucket}")
    assert bucket not in cloudlet.aws("s3", "ls").stdout
