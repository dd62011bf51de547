"""Another account's bucket: bucket names are global, so S3 has no ARN to get wrong, but
every way in (the API, a copy's source, a function's package) is refused unless the
bucket policy grants the caller, as on AWS. (Cloudlet has no access points: botocore sends
an access point ARN's requests to `<name>-<account>.<endpoint host>`, which is not
Cloudlet's.)"""

from __future__ import annotations

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError
from harness import error_of, unique, unique_account


@pytest.fixture(scope="module")
def accounts(cloudlet):
    a, b = unique_account(), unique_account()
    owner = cloudlet.client("s3", aws_access_key_id=a)
    other = cloudlet.client("s3", aws_access_key_id=b)
    bucket, mine = unique("xacct-a"), unique("xacct-b")
    owner.create_bucket(Bucket=bucket)
    other.create_bucket(Bucket=mine)
    package = io.BytesIO()
    with zipfile.ZipFile(package, "w") as archive:
        archive.writestr("app.py", "def handler(e, c):\n    return 'from A'\n")
    owner.put_object(Bucket=bucket, Key="secret.txt", Body=b"A's secret")
    owner.put_object(Bucket=bucket, Key="code.zip", Body=package.getvalue())
    return owner, other, a, b, bucket, mine


def denied(call, **kwargs):
    code, status, _ = error_of(call, **kwargs)
    assert (code, status) == ("AccessDenied", 403)


def test_another_accounts_bucket_is_refused(accounts):
    owner, other, _, _, bucket, mine = accounts
    denied(other.get_object, Bucket=bucket, Key="secret.txt")
    denied(other.list_objects_v2, Bucket=bucket)
    denied(other.put_object, Bucket=bucket, Key="planted", Body=b"x")
    denied(other.get_bucket_policy, Bucket=bucket)
    denied(other.put_bucket_policy, Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*",
                                                "Action": "s3:*", "Resource": "*"}]}))
    denied(other.delete_bucket, Bucket=bucket)
    denied(other.copy_object, Bucket=mine, Key="stolen",
           CopySource={"Bucket": bucket, "Key": "secret.txt"})
    assert [o["Key"] for o in owner.list_objects_v2(Bucket=bucket)["Contents"]] == [
        "code.zip", "secret.txt"]


def test_a_functions_package_in_another_accounts_bucket(cloudlet, accounts):
    owner, _, a, b, bucket, _ = accounts
    lam = cloudlet.client("lambda", aws_access_key_id=b)
    iam = cloudlet.client("iam", aws_access_key_id=b)
    role = iam.create_role(RoleName=unique("r"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                "Principal": {"Service": "lambda.amazonaws.com"}}]
    }))["Role"]["Arn"]

    def create():
        return lam.create_function(FunctionName=unique("fn"), Runtime="python3.12", Role=role,
                                   Handler="app.handler",
                                   Code={"S3Bucket": bucket, "S3Key": "code.zip"})

    with pytest.raises(ClientError) as refused:
        create()
    assert "S3 Error Code: AccessDenied" in refused.value.response["Error"]["Message"]
    owner.put_bucket_policy(Bucket=bucket, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{b}:root"},
            "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/code.zip"}]}))
    assert create()["CodeSize"] > 0
    # the grant is that object's, for reading: nothing else
    other = cloudlet.client("s3", aws_access_key_id=b)
    assert other.get_object(Bucket=bucket, Key="code.zip")["ContentLength"] > 0
    denied(other.get_object, Bucket=bucket, Key="secret.txt")
    denied(other.put_object, Bucket=bucket, Key="code.zip", Body=b"replaced")
    owner.delete_bucket_policy(Bucket=bucket)
