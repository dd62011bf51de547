"""Buckets: names, regions, ownership across accounts, listing, head, delete."""

import uuid

import pytest
from botocore.exceptions import ClientError


def unique(prefix: str = "b") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:20]}"


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


def code(info) -> str:
    return info.value.response["Error"]["Code"]


def test_create_list_head_delete(cloudlet, s3):
    name = unique()
    assert s3.create_bucket(Bucket=name)["Location"] == f"/{name}"
    listed = s3.list_buckets()
    assert name in [b["Name"] for b in listed["Buckets"]]
    assert listed["Owner"]["ID"]
    head = s3.head_bucket(Bucket=name)
    assert head["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"] == "us-east-1"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] is None
    s3.delete_bucket(Bucket=name)
    with pytest.raises(ClientError) as info:
        s3.head_bucket(Bucket=name)
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket=name)
    assert code(info) == "NoSuchBucket"


@pytest.mark.parametrize("name", ["ab", "UPPER-case", "has_underscore", "a..b", "192.168.1.1",
                                  "-starts-dash", "ends-dash-", "xn--punycode", "x" * 64,
                                  "name-s3alias"])
def test_invalid_names(s3, name):
    with pytest.raises(ClientError) as info:
        s3.create_bucket(Bucket=name)
    assert code(info) == "InvalidBucketName"


def test_names_are_global_across_accounts(cloudlet, s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    other = cloudlet.client("s3", aws_access_key_id="111122223333")
    with pytest.raises(ClientError) as info:
        other.create_bucket(Bucket=name)
    assert code(info) == "BucketAlreadyExists"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    with pytest.raises(ClientError) as info:
        other.put_object(Bucket=name, Key="k", Body=b"x")
    assert code(info) == "AccessDenied"
    assert name not in [b["Name"] for b in other.list_buckets()["Buckets"]]


def test_already_owned_outside_us_east_1(cloudlet):
    s3 = cloudlet.client("s3", region="eu-west-1")
    name = unique()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    with pytest.raises(ClientError) as info:
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert code(info) == "BucketAlreadyOwnedByYou"
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "eu-west-1"
    assert s3.head_bucket(Bucket=name)["BucketRegion"] == "eu-west-1"


def test_us_east_1_recreate_is_ok(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)  # legacy behaviour of North Virginia: 200 OK


def test_location_constraints(cloudlet, s3):
    eu = cloudlet.client("s3", region="eu-central-1")
    with pytest.raises(ClientError) as info:
        eu.create_bucket(Bucket=unique())
    assert code(info) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as info:
        eu.create_bucket(Bucket=unique(), CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert code(info) == "IllegalLocationConstraintException"
    with pytest.raises(ClientError) as info:
        s3.create_bucket(Bucket=unique(), CreateBucketConfiguration={"LocationConstraint": "us-east-1"})
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    name = unique()
    s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": "ap-south-1"})
    assert s3.get_bucket_location(Bucket=name)["LocationConstraint"] == "ap-south-1"


def test_list_buckets_pagination_prefix_region(cloudlet):
    account = "4" + uuid.uuid4().int.__str__()[:11]
    s3 = cloudlet.client("s3", aws_access_key_id=account)
    names = sorted(f"pg-{i}-{uuid.uuid4().hex[:8]}" for i in range(5))
    for name in names:
        s3.create_bucket(Bucket=name)
    s3.create_bucket(Bucket=unique("other"), CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    first = s3.list_buckets(MaxBuckets=2, Prefix="pg-")
    assert [b["Name"] for b in first["Buckets"]] == names[:2]
    second = s3.list_buckets(MaxBuckets=10, Prefix="pg-", ContinuationToken=first["ContinuationToken"])
    assert [b["Name"] for b in second["Buckets"]] == names[2:]
    assert "ContinuationToken" not in second
    regional = s3.list_buckets(BucketRegion="eu-west-1")["Buckets"]
    assert [b["BucketRegion"] for b in regional] == ["eu-west-1"]
    paginated = [b["Name"] for page in s3.get_paginator("list_buckets").paginate(
        PaginationConfig={"PageSize": 2}) for b in page["Buckets"]]
    assert len(paginated) == 6


def test_delete_bucket_not_empty_counts_versions_and_markers(s3):
    name = unique()
    s3.create_bucket(Bucket=name)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="k", Body=b"1")
    s3.delete_object(Bucket=name, Key="k")  # a delete marker; the version remains
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket=name)
    assert code(info) == "BucketNotEmpty"
    versions = s3.list_object_versions(Bucket=name)
    for v in versions.get("Versions", []):
        s3.delete_object(Bucket=name, Key=v["Key"], VersionId=v["VersionId"])
    with pytest.raises(ClientError) as info:
        s3.delete_bucket(Bucket=name)
    assert code(info) == "BucketNotEmpty"  # the delete marker is still there
    for m in versions.get("DeleteMarkers", []):
        s3.delete_object(Bucket=name, Key=m["Key"], VersionId=m["VersionId"])
    s3.delete_bucket(Bucket=name)


def test_virtual_hosted_addressing(cloudlet, s3):
    import requests

    name = unique()
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="vh.txt", Body=b"virtual")
    path, headers = boto_signed_virtual(cloudlet, name, "vh.txt")
    host = f"{name}.s3.localhost:{cloudlet.port}"
    response = requests.get(f"http://127.0.0.1:{cloudlet.port}{path}", headers={**headers, "Host": host})
    assert response.status_code == 200, response.text
    assert response.content == b"virtual"


def boto_signed_virtual(cloudlet, bucket, key):
    """Sign a GET for http://<bucket>.s3.localhost:<port>/<key> with botocore's signer."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    url = f"http://{bucket}.s3.localhost:{cloudlet.port}/{key}"
    request = AWSRequest(method="GET", url=url, headers={"x-amz-content-sha256": "UNSIGNED-PAYLOAD"})
    S3SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
    return f"/{key}", dict(request.headers.items())
