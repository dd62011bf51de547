"""Bucket policies: validation, Block Public Access, and the policy judging anonymous and
cross-account requests."""

from __future__ import annotations

import json
import uuid

import pytest
import requests
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


@pytest.fixture
def bucket(s3):
    name = f"pol-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="public/hello.txt", Body=b"hello, world")
    s3.put_object(Bucket=name, Key="secret/key.txt", Body=b"shh")
    return name


def policy(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def public_read(bucket: str, prefix: str = "") -> dict:
    return {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/{prefix}*"}


def error_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]


def test_put_get_delete_and_status(s3, bucket):
    text = policy({"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                   "Action": ["s3:GetObject"], "Resource": f"arn:aws:s3:::{bucket}/*"})
    s3.put_bucket_policy(Bucket=bucket, Policy=text)
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(text)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    s3.delete_bucket_policy(Bucket=bucket)
    assert error_of(s3.get_bucket_policy, Bucket=bucket)["Code"] == "NoSuchBucketPolicy"


@pytest.mark.parametrize("statement, why", [
    ({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::{b}/*"},
     "Missing required field Principal"),
    ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
      "Resource": "arn:aws:s3:::some-other-bucket/*"}, "Policy has invalid resource"),
    ({"Effect": "Allow", "Principal": "*", "Action": "ec2:RunInstances",
      "Resource": "arn:aws:s3:::{b}/*"}, "Policy has invalid action"),
])
def test_malformed_policies(s3, bucket, statement, why):
    text = policy(statement).replace("{b}", bucket)
    error = error_of(s3.put_bucket_policy, Bucket=bucket, Policy=text)
    assert error["Code"] == "MalformedPolicy"
    assert error["Message"] == why


def test_policy_that_is_not_json(s3, bucket):
    error = error_of(s3.put_bucket_policy, Bucket=bucket, Policy="not json")
    assert error["Code"] == "MalformedPolicy"


def test_block_public_access_refuses_a_public_policy(s3, bucket):
    error = error_of(s3.put_bucket_policy, Bucket=bucket, Policy=policy(public_read(bucket)))
    assert error["Code"] == "AccessDenied"
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(public_read(bucket)))
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True


def test_a_source_ip_condition_is_not_public(s3, bucket):
    statement = {**public_read(bucket),
                 "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.1/32"}}}
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(statement))  # BPA is on: not public
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False


def test_anonymous_get_needs_a_public_policy(cloudlet, s3, bucket):
    url = f"{cloudlet.endpoint}/{bucket}/public/hello.txt"
    denied = requests.get(url, timeout=10)
    assert denied.status_code == 403
    assert b"<Code>AccessDenied</Code>" in denied.content

    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(public_read(bucket, "public/")))
    allowed = requests.get(url, timeout=10)
    assert allowed.status_code == 200
    assert allowed.content == b"hello, world"
    # Outside the granted prefix, and for writes, anonymous callers stay out.
    assert requests.get(f"{cloudlet.endpoint}/{bucket}/secret/key.txt",
                        timeout=10).status_code == 403
    assert requests.put(f"{cloudlet.endpoint}/{bucket}/public/new.txt", data=b"x",
                        timeout=10).status_code == 403

    # RestrictPublicBuckets shuts the public policy off again.
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "RestrictPublicBuckets": True})
    assert requests.get(url, timeout=10).status_code == 403


def test_explicit_deny_wins(cloudlet, s3, bucket):
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        public_read(bucket),
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/public/hello.txt"}))
    assert requests.get(f"{cloudlet.endpoint}/{bucket}/secret/key.txt",
                        timeout=10).status_code == 200
    assert requests.get(f"{cloudlet.endpoint}/{bucket}/public/hello.txt",
                        timeout=10).status_code == 403


def test_another_account_needs_the_policy(cloudlet, s3, bucket):
    other = cloudlet.client("s3", aws_access_key_id="111111111111")
    error = error_of(other.get_object, Bucket=bucket, Key="secret/key.txt")
    assert error["Code"] == "AccessDenied"
    s3.put_bucket_policy(Bucket=bucket, Policy=policy(
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
         "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/secret/*"}))
    assert other.get_object(Bucket=bucket, Key="secret/key.txt")["Body"].read() == b"shh"
    # The policy grants reads only; the owner's configuration stays the owner's.
    assert error_of(other.get_bucket_policy, Bucket=bucket)["Code"] == "AccessDenied"


def test_a_public_read_acl_lets_anyone_list_unless_ignored(cloudlet, s3):
    name = f"acl-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    s3.put_object(Bucket=name, Key="listed.txt", Body=b"x")
    url = f"{cloudlet.endpoint}/{name}?list-type=2"
    assert requests.get(url, timeout=10).status_code == 403
    s3.delete_public_access_block(Bucket=name)
    s3.put_bucket_acl(Bucket=name, ACL="public-read")
    listed = requests.get(url, timeout=10)
    assert listed.status_code == 200
    assert b"<Key>listed.txt</Key>" in listed.content
    # The ACL's READ is listing, not reading objects, and never writing.
    assert requests.get(f"{cloudlet.endpoint}/{name}/listed.txt", timeout=10).status_code == 403
    assert requests.put(f"{cloudlet.endpoint}/{name}/new.txt", data=b"x",
                        timeout=10).status_code == 403
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration={
        "IgnorePublicAcls": True})
    assert requests.get(url, timeout=10).status_code == 403


def test_create_bucket_with_a_public_acl_is_refused_while_blocked(s3):
    name = f"acl-{uuid.uuid4().hex[:16]}"
    error = error_of(s3.create_bucket, Bucket=name, ACL="public-read",
                     ObjectOwnership="ObjectWriter")
    assert error["Code"] == "InvalidBucketAclWithBlockPublicAccessError"
    assert error_of(s3.head_bucket, Bucket=name)["Code"] == "404"
