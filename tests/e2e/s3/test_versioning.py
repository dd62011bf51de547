"""Versioning: Enabled and Suspended, null versions, delete markers, ListObjectVersions."""

import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


@pytest.fixture
def versioned(s3):
    name = f"ver-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


def test_versions_and_delete_markers(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="k", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=versioned, Key="k", Body=b"two")["VersionId"]
    assert v1 != v2 and v1 != "null"
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"two"
    assert s3.get_object(Bucket=versioned, Key="k", VersionId=v1)["Body"].read() == b"one"
    deleted = s3.delete_object(Bucket=versioned, Key="k")
    assert deleted["DeleteMarker"] is True
    marker = deleted["VersionId"]
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=versioned, Key="k")
    assert info.value.response["Error"]["Code"] == "NoSuchKey"
    assert info.value.response["ResponseMetadata"]["HTTPHeaders"]["x-amz-delete-marker"] == "true"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=versioned, Key="k", VersionId=marker)
    assert info.value.response["Error"]["Code"] == "MethodNotAllowed"
    assert s3.get_object(Bucket=versioned, Key="k", VersionId=v2)["Body"].read() == b"two"
    assert "Contents" not in s3.list_objects_v2(Bucket=versioned)
    listed = s3.list_object_versions(Bucket=versioned)
    assert [v["VersionId"] for v in listed["Versions"]] == [v2, v1]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == [marker]
    assert listed["DeleteMarkers"][0]["IsLatest"] is True
    # removing the delete marker brings the object back
    s3.delete_object(Bucket=versioned, Key="k", VersionId=marker)
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"two"
    s3.delete_object(Bucket=versioned, Key="k", VersionId=v2)
    assert s3.get_object(Bucket=versioned, Key="k")["Body"].read() == b"one"
    with pytest.raises(ClientError) as info:
        s3.get_object(Bucket=versioned, Key="k", VersionId=v2)
    assert info.value.response["Error"]["Code"] == "NoSuchVersion"


def test_unversioned_objects_have_null_version(s3):
    name = f"nul-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="k", Body=b"before")
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="k", Body=b"after")
    versions = s3.list_object_versions(Bucket=name)["Versions"]
    assert [v["VersionId"] for v in versions][1] == "null"
    assert s3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"before"


def test_suspended_overwrites_null_version(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="s", Body=b"kept")["VersionId"]
    s3.put_bucket_versioning(Bucket=versioned, VersioningConfiguration={"Status": "Suspended"})
    s3.put_object(Bucket=versioned, Key="s", Body=b"null-1")
    s3.put_object(Bucket=versioned, Key="s", Body=b"null-2")
    versions = s3.list_object_versions(Bucket=versioned, Prefix="s")["Versions"]
    assert [v["VersionId"] for v in versions] == ["null", v1]
    assert s3.get_object(Bucket=versioned, Key="s")["Body"].read() == b"null-2"
    deleted = s3.delete_object(Bucket=versioned, Key="s")
    assert deleted["VersionId"] == "null" and deleted["DeleteMarker"]
    listed = s3.list_object_versions(Bucket=versioned, Prefix="s")
    assert [v["VersionId"] for v in listed["Versions"]] == [v1]
    assert [m["VersionId"] for m in listed["DeleteMarkers"]] == ["null"]


def test_list_object_versions_markers(s3, versioned):
    ids = {}
    for key in ("a", "b", "c"):
        ids[key] = [s3.put_object(Bucket=versioned, Key=key, Body=b"x")["VersionId"] for _ in range(3)]
    seen = []
    pages = s3.get_paginator("list_object_versions").paginate(
        Bucket=versioned, PaginationConfig={"PageSize": 2})
    for page in pages:
        seen += [(v["Key"], v["VersionId"]) for v in page.get("Versions", [])]
    expected = [(k, v) for k in ("a", "b", "c") for v in reversed(ids[k])]
    assert seen == expected
    page = s3.list_object_versions(Bucket=versioned, MaxKeys=4)
    assert page["IsTruncated"]
    assert (page["NextKeyMarker"], page["NextVersionIdMarker"]) == ("b", ids["b"][2])
    rest = s3.list_object_versions(Bucket=versioned, KeyMarker="b", VersionIdMarker=ids["b"][2])
    assert [v["VersionId"] for v in rest["Versions"]] == [ids["b"][1], ids["b"][0], *reversed(ids["c"])]
    after_key = s3.list_object_versions(Bucket=versioned, KeyMarker="b")
    assert {v["Key"] for v in after_key["Versions"]} == {"c"}


def test_delete_objects_with_versions(s3, versioned):
    v1 = s3.put_object(Bucket=versioned, Key="dv", Body=b"1")["VersionId"]
    result = s3.delete_objects(Bucket=versioned, Delete={"Objects": [{"Key": "dv"}]})
    assert result["Deleted"][0]["DeleteMarker"] is True
    marker = result["Deleted"][0]["DeleteMarkerVersionId"]
    result = s3.delete_objects(Bucket=versioned, Delete={"Objects": [
        {"Key": "dv", "VersionId": v1}, {"Key": "dv", "VersionId": marker}]})
    assert len(result["Deleted"]) == 2
    assert "Versions" not in s3.list_object_versions(Bucket=versioned, Prefix="dv")
