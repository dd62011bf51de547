"""Lifecycle rules that really run: a private Cloudlet whose service clock the tests move
forward (POST /_cloudlet/clock), so "30 days later" takes a second."""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest
from botocore.exceptions import ClientError
from harness import CloudletProcess

DAY = 86400
BIG = b"x" * (130 * 1024)  # transitions skip objects under 128 KiB by default, as on AWS


@pytest.fixture(scope="module")
def server():
    # The clock moves by months here: a private server keeps that from other tests.
    process = CloudletProcess(env={"CLOUDLET_BODY_TIMEOUT": "3",
                                   "CLOUDLET_S3_LIFECYCLE_INTERVAL": "0.2"}).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def s3(server):
    return server.client("s3")


def advance(server, seconds: float) -> dt.datetime:
    return dt.datetime.fromisoformat(server.advance_clock(seconds)["now"])


def now(server) -> dt.datetime:
    return dt.datetime.fromisoformat(server.control("GET", "/_cloudlet/clock").json()["now"])


def eventually(check, timeout: float = 20.0):
    """Poll until `check()` returns a truthy value (the sweeper runs in the background)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except ClientError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"never became true: {check}")
        time.sleep(0.1)


def settles(get, expected, timeout: float = 20.0):
    """Poll `get()` until it returns `expected`; fail showing the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if value == expected:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"{value!r} never became {expected!r}")
        time.sleep(0.1)


def new_bucket(s3, versioned: bool = False) -> str:
    name = f"lc-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def storage_class(s3, bucket: str, key: str) -> str:
    return s3.head_object(Bucket=bucket, Key=key).get("StorageClass", "STANDARD")


def error_of(call, **kwargs) -> dict:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    return info.value.response["Error"]


def keys(s3, bucket: str) -> list[str]:
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]


def test_configuration_round_trip_and_validation(s3):
    bucket = new_bucket(s3)
    rule = {"ID": "archive", "Status": "Enabled", "Filter": {"Prefix": "logs/"},
            "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}],
            "Expiration": {"Days": 365}}
    s3.put_bucket_lifecycle_configuration(Bucket=bucket,
                                          LifecycleConfiguration={"Rules": [rule]})
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)
    assert got["Rules"] == [rule]
    assert got["TransitionDefaultMinimumObjectSize"] == "all_storage_classes_128K"

    def put(*rules):
        return error_of(s3.put_bucket_lifecycle_configuration, Bucket=bucket,
                        LifecycleConfiguration={"Rules": list(rules)})

    base = {"Status": "Enabled", "Filter": {"Prefix": ""}}
    assert put({**base, "Expiration": {"Days": 0}})["Code"] == "InvalidArgument"
    assert put(base)["Code"] == "InvalidRequest"
    short = put({**base, "Transitions": [{"Days": 10, "StorageClass": "STANDARD_IA"}]})
    assert short["Code"] == "InvalidArgument"
    assert "greater than or equal to 30" in short["Message"]
    twice = put({**base, "ID": "a", "Expiration": {"Days": 1}},
                {**base, "ID": "a", "Expiration": {"Days": 2}})
    assert twice["Code"] == "InvalidArgument"
    at_noon = put({**base, "Expiration": {"Date": dt.datetime(2030, 1, 1, 12, tzinfo=dt.UTC)}})
    assert at_noon["Message"] == "'Date' must be at midnight GMT"
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert error_of(s3.get_bucket_lifecycle_configuration, Bucket=bucket)["Code"] == \
        "NoSuchLifecycleConfiguration"


def test_transitions_then_restore_from_glacier(server, s3):
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="data/big.bin", Body=BIG)
    s3.put_object(Bucket=bucket, Key="data/small.txt", Body=b"tiny")
    s3.put_object(Bucket=bucket, Key="other/big.bin", Body=BIG)
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "tiers", "Status": "Enabled", "Filter": {"Prefix": "data/"},
        "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"},
                        {"Days": 60, "StorageClass": "GLACIER_IR"},
                        {"Days": 90, "StorageClass": "GLACIER"}]}]})

    advance(server, 31 * DAY)
    eventually(lambda: storage_class(s3, bucket, "data/big.bin") == "STANDARD_IA")
    listed = {o["Key"]: o["StorageClass"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert listed == {"data/big.bin": "STANDARD_IA", "data/small.txt": "STANDARD",
                      "other/big.bin": "STANDARD"}
    assert s3.get_object(Bucket=bucket, Key="data/big.bin")["Body"].read() == BIG

    advance(server, 30 * DAY)
    eventually(lambda: storage_class(s3, bucket, "data/big.bin") == "GLACIER_IR")
    assert s3.get_object(Bucket=bucket, Key="data/big.bin")["Body"].read() == BIG

    advance(server, 30 * DAY)
    eventually(lambda: storage_class(s3, bucket, "data/big.bin") == "GLACIER")
    refused = error_of(s3.get_object, Bucket=bucket, Key="data/big.bin")
    assert refused["Code"] == "InvalidObjectState"
    assert storage_class(s3, bucket, "data/small.txt") == "STANDARD"

    s3.restore_object(Bucket=bucket, Key="data/big.bin", RestoreRequest={
        "Days": 2, "GlacierJobParameters": {"Tier": "Expedited"}})
    assert s3.head_object(Bucket=bucket, Key="data/big.bin")["Restore"] == \
        'ongoing-request="true"'
    assert error_of(s3.restore_object, Bucket=bucket, Key="data/big.bin",
                    RestoreRequest={"Days": 2})["Code"] == "RestoreAlreadyInProgress"
    assert error_of(s3.get_object, Bucket=bucket, Key="data/big.bin")["Code"] == \
        "InvalidObjectState"

    advance(server, 10 * 60)  # expedited retrievals take minutes
    assert s3.get_object(Bucket=bucket, Key="data/big.bin")["Body"].read() == BIG
    head = eventually(lambda: s3.head_object(Bucket=bucket, Key="data/big.bin")
                      if 'ongoing-request="false"' in s3.head_object(
                          Bucket=bucket, Key="data/big.bin").get("Restore", "") else None)
    assert "expiry-date=" in head["Restore"]
    assert head["StorageClass"] == "GLACIER"

    advance(server, 4 * DAY)  # the restored copy expires; the object is archived again
    assert error_of(s3.get_object, Bucket=bucket, Key="data/big.bin")["Code"] == \
        "InvalidObjectState"
    assert error_of(s3.restore_object, Bucket=bucket, Key="other/big.bin",
                    RestoreRequest={"Days": 1})["Code"] == "InvalidObjectState"


def test_deep_archive_restore_takes_hours(server, s3):
    bucket = new_bucket(s3)
    s3.put_object(Bucket=bucket, Key="cold.bin", Body=b"cold", StorageClass="DEEP_ARCHIVE")
    assert error_of(s3.get_object, Bucket=bucket, Key="cold.bin")["Code"] == \
        "InvalidObjectState"
    assert error_of(s3.restore_object, Bucket=bucket, Key="cold.bin", RestoreRequest={
        "Days": 1, "GlacierJobParameters": {"Tier": "Expedited"}})["Code"] == "InvalidArgument"
    s3.restore_object(Bucket=bucket, Key="cold.bin", RestoreRequest={"Days": 1})
    advance(server, 6 * 3600)
    assert error_of(s3.get_object, Bucket=bucket, Key="cold.bin")["Code"] == \
        "InvalidObjectState"
    advance(server, 7 * 3600)
    assert s3.get_object(Bucket=bucket, Key="cold.bin")["Body"].read() == b"cold"


def test_expiration_by_days_and_by_date(server, s3):
    by_days, by_date = new_bucket(s3), new_bucket(s3)
    for bucket in (by_days, by_date):
        s3.put_object(Bucket=bucket, Key="tmp/a", Body=b"a")
        s3.put_object(Bucket=bucket, Key="keep/b", Body=b"b")
    s3.put_bucket_lifecycle_configuration(Bucket=by_days, LifecycleConfiguration={"Rules": [{
        "Status": "Enabled", "Filter": {"Prefix": "tmp/"}, "Expiration": {"Days": 1}}]})
    today = now(server)
    midnight = dt.datetime(today.year, today.month, today.day, tzinfo=dt.UTC)
    s3.put_bucket_lifecycle_configuration(Bucket=by_date, LifecycleConfiguration={"Rules": [{
        "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
        "Expiration": {"Date": midnight + dt.timedelta(days=3)}}]})

    advance(server, 2 * DAY + 60)
    eventually(lambda: keys(s3, by_days) == ["keep/b"])
    assert sorted(keys(s3, by_date)) == ["keep/b", "tmp/a"]
    advance(server, 2 * DAY)
    eventually(lambda: keys(s3, by_date) == ["keep/b"])


def test_versions_expire_to_delete_markers_then_vanish(server, s3):
    bucket = new_bucket(s3, versioned=True)
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v1")
    s3.put_object(Bucket=bucket, Key="doc", Body=b"v2")
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "ID": "expire", "Status": "Enabled", "Filter": {},
        "Expiration": {"Days": 5},
        "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}]})

    def versions():
        listed = s3.list_object_versions(Bucket=bucket)
        return (sorted(v["IsLatest"] for v in listed.get("Versions", [])),
                [m["IsLatest"] for m in listed.get("DeleteMarkers", [])])

    advance(server, 2 * DAY + 60)  # v1 has been noncurrent for more than a day
    settles(versions, ([True], []))
    advance(server, 5 * DAY)  # v2 expires: a delete marker hides it
    settles(versions, ([False], [True]))
    assert keys(s3, bucket) == []
    advance(server, 2 * DAY)  # v2, noncurrent, goes; then the lone delete marker
    settles(versions, ([], []))


def test_expired_object_delete_markers_are_removed(server, s3):
    bucket = new_bucket(s3, versioned=True)
    s3.put_object(Bucket=bucket, Key="gone", Body=b"x")
    version = s3.list_object_versions(Bucket=bucket)["Versions"][0]["VersionId"]
    s3.delete_object(Bucket=bucket, Key="gone")
    s3.delete_object(Bucket=bucket, Key="gone", VersionId=version)
    assert len(s3.list_object_versions(Bucket=bucket)["DeleteMarkers"]) == 1
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "Status": "Enabled", "Filter": {"Prefix": ""},
        "Expiration": {"ExpiredObjectDeleteMarker": True}}]})
    advance(server, 60)
    eventually(lambda: "DeleteMarkers" not in s3.list_object_versions(Bucket=bucket))


def test_incomplete_multipart_uploads_are_aborted(server, s3):
    bucket = new_bucket(s3)
    stale = s3.create_multipart_upload(Bucket=bucket, Key="uploads/big")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="uploads/big", UploadId=stale, PartNumber=1, Body=b"p")
    other = s3.create_multipart_upload(Bucket=bucket, Key="elsewhere/big")["UploadId"]
    s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [{
        "Status": "Enabled", "Filter": {"Prefix": "uploads/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}}]})

    def upload_ids():
        return {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket).get(
            "Uploads", [])}

    advance(server, DAY)
    time.sleep(0.5)
    assert upload_ids() == {stale, other}
    advance(server, 2 * DAY)
    eventually(lambda: upload_ids() == {other})
    assert error_of(s3.upload_part, Bucket=bucket, Key="uploads/big", UploadId=stale,
                    PartNumber=2, Body=b"q")["Code"] == "NoSuchUpload"
