"""Listing: v1 and v2, prefixes and delimiters, pagination, UTF-8 byte order, url encoding."""

import uuid
from urllib.parse import unquote_plus

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


@pytest.fixture(scope="module")
def tree(s3):
    """A bucket holding a small directory tree."""
    name = f"list-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    keys = ["a.txt", "b/1", "b/2", "b/c/3", "c/1", "d", "e/x/y", "z"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=key.encode())
    return name, keys


def all_pages(s3, method, **kwargs):
    return list(s3.get_paginator(method).paginate(**kwargs))


def test_v2_flat_and_paginated(s3, tree):
    name, keys = tree
    listed = s3.list_objects_v2(Bucket=name)
    assert [o["Key"] for o in listed["Contents"]] == sorted(keys)
    assert listed["KeyCount"] == len(keys) and not listed["IsTruncated"]
    pages = all_pages(s3, "list_objects_v2", Bucket=name, PaginationConfig={"PageSize": 3})
    assert [o["Key"] for p in pages for o in p.get("Contents", [])] == sorted(keys)
    assert len(pages) == 3
    assert pages[0]["IsTruncated"] and "NextContinuationToken" in pages[0]


def test_v2_delimiter_and_prefix(s3, tree):
    name, _ = tree
    listed = s3.list_objects_v2(Bucket=name, Delimiter="/")
    assert [o["Key"] for o in listed["Contents"]] == ["a.txt", "d", "z"]
    assert [p["Prefix"] for p in listed["CommonPrefixes"]] == ["b/", "c/", "e/"]
    assert listed["KeyCount"] == 6
    sub = s3.list_objects_v2(Bucket=name, Prefix="b/", Delimiter="/")
    assert [o["Key"] for o in sub["Contents"]] == ["b/1", "b/2"]
    assert [p["Prefix"] for p in sub["CommonPrefixes"]] == ["b/c/"]
    # pages of one entry each: common prefixes count as entries and are not repeated
    pages = all_pages(s3, "list_objects_v2", Bucket=name, Delimiter="/",
                      PaginationConfig={"PageSize": 1})
    entries = [o["Key"] for p in pages for o in p.get("Contents", [])] + \
        [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert sorted(entries) == ["a.txt", "b/", "c/", "d", "e/", "z"]
    assert len(pages) == 6


def test_v2_start_after_fetch_owner_max_keys(s3, tree):
    name, keys = tree
    listed = s3.list_objects_v2(Bucket=name, StartAfter="b/2", FetchOwner=True, MaxKeys=2)
    assert [o["Key"] for o in listed["Contents"]] == ["b/c/3", "c/1"]
    assert listed["Contents"][0]["Owner"]["ID"]
    assert listed["IsTruncated"]
    assert "Owner" not in s3.list_objects_v2(Bucket=name)["Contents"][0]
    zero = s3.list_objects_v2(Bucket=name, MaxKeys=0)
    assert zero["KeyCount"] == 0 and "Contents" not in zero


def test_v1_markers(s3, tree):
    name, keys = tree
    page = s3.list_objects(Bucket=name, MaxKeys=3)
    assert [o["Key"] for o in page["Contents"]] == sorted(keys)[:3]
    assert page["IsTruncated"]
    rest = s3.list_objects(Bucket=name, Marker=page["Contents"][-1]["Key"])
    assert [o["Key"] for o in rest["Contents"]] == sorted(keys)[3:]
    pages = all_pages(s3, "list_objects", Bucket=name, Delimiter="/", PaginationConfig={"PageSize": 2})
    assert [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])] == ["b/", "c/", "e/"]
    assert pages[0]["NextMarker"]


def test_utf8_byte_order_and_url_encoding(s3):
    name = f"utf-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    keys = ["\ufb01", "z", "\u00e9", "\U0001f600", "a b+c", "A", "~"]
    for key in keys:
        s3.put_object(Bucket=name, Key=key, Body=b"x")
    listed = s3.list_objects_v2(Bucket=name)
    expected = sorted(keys, key=lambda k: k.encode("utf-8"))
    assert [o["Key"] for o in listed["Contents"]] == expected
    # asked for explicitly, EncodingType=url comes back encoded (boto3 decodes only its own)
    raw = s3.list_objects_v2(Bucket=name, EncodingType="url")
    assert [unquote_plus(o["Key"]) for o in raw["Contents"]] == expected
    assert "a%20b%2Bc" in [o["Key"] for o in raw["Contents"]]
    with pytest.raises(ClientError):
        s3.list_objects_v2(Bucket=name, EncodingType="base64")


def test_raw_url_encoding(cloudlet, s3):
    import requests

    name = f"enc-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="a b/c&d", Body=b"x")
    url = s3.generate_presigned_url("list_objects_v2", Params={"Bucket": name, "EncodingType": "url"})
    text = requests.get(url).text
    assert "<Key>a%20b/c%26d</Key>" in text
    assert unquote_plus("a%20b/c%26d") == "a b/c&d"


def test_listing_no_such_bucket(s3):
    with pytest.raises(ClientError) as info:
        s3.list_objects_v2(Bucket=f"nope-{uuid.uuid4().hex[:12]}")
    assert info.value.response["Error"]["Code"] == "NoSuchBucket"


def test_many_common_prefixes_and_keys(s3):
    name = f"many-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    for d in range(12):
        for f in range(3):
            s3.put_object(Bucket=name, Key=f"dir{d:02}/file{f}", Body=b"")
    pages = all_pages(s3, "list_objects_v2", Bucket=name, Delimiter="/",
                      PaginationConfig={"PageSize": 5})
    prefixes = [c["Prefix"] for p in pages for c in p.get("CommonPrefixes", [])]
    assert prefixes == [f"dir{d:02}/" for d in range(12)]
    keys = [o["Key"] for p in all_pages(s3, "list_objects_v2", Bucket=name, Prefix="dir05/")
            for o in p["Contents"]]
    assert keys == [f"dir05/file{f}" for f in range(3)]
