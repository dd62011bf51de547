"""STS GetCallerIdentity through boto3 and the AWS CLI, and the authentication failures
each client meets."""

from __future__ import annotations

import datetime as dt
import json
import time

import pytest
from botocore.exceptions import ClientError
from harness import send_signed


def test_boto3_get_caller_identity_is_root_of_default_account(cloudlet):
    identity = cloudlet.client("sts").get_caller_identity()
    assert identity["Account"] == "000000000000"
    assert identity["Arn"] == "arn:aws:iam::000000000000:root"
    assert identity["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert identity["ResponseMetadata"]["RequestId"]


def test_aws_cli_get_caller_identity(cloudlet):
    out = json.loads(cloudlet.aws("sts", "get-caller-identity", "--output", "json").stdout)
    assert out["Account"] == "000000000000"


def test_twelve_digit_key_is_root_of_that_account(cloudlet):
    sts = cloudlet.client("sts", aws_access_key_id="123456789012")
    identity = sts.get_caller_identity()
    assert identity["Account"] == "123456789012"
    assert identity["Arn"] == "arn:aws:iam::123456789012:root"


def test_wrong_secret_is_signature_does_not_match(cloudlet):
    sts = cloudlet.client("sts", aws_secret_access_key="wrong")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_key_is_invalid_client_token_id(cloudlet):
    sts = cloudlet.client("sts", aws_access_key_id="AKIANOSUCHKEY0000000")
    with pytest.raises(ClientError) as e:
        sts.get_caller_identity()
    assert e.value.response["Error"]["Code"] == "InvalidClientTokenId"


def test_presigned_url_works_and_expires(cloudlet):
    import requests

    sts = cloudlet.client("sts")
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=60, HttpMethod="GET")
    ok = requests.get(url, timeout=10)
    assert ok.status_code == 200 and b"<Account>000000000000</Account>" in ok.content
    # A changed X-Amz-Expires breaks the signature; a really expired URL is refused as such.
    tampered = requests.get(url.replace("X-Amz-Expires=60", "X-Amz-Expires=0"), timeout=10)
    assert tampered.status_code == 403 and b"SignatureDoesNotMatch" in tampered.content
    short = sts.generate_presigned_url("get_caller_identity", ExpiresIn=1, HttpMethod="GET")
    time.sleep(2.1)
    denied = requests.get(short, timeout=10)
    assert denied.status_code == 403
    assert b"Signature expired" in denied.content


def test_clock_skew_is_signature_expired(cloudlet):
    # STS, like every query service, answers a skewed clock with SignatureDoesNotMatch
    # "Signature expired"; only S3 says RequestTimeTooSkewed.
    skewed = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    reply = send_signed(cloudlet.endpoint, "sts", "Action=GetCallerIdentity&Version=2011-06-15",
                        {"Content-Type": "application/x-www-form-urlencoded"}, when=skewed)
    assert reply.status_code == 403
    assert b"<Code>SignatureDoesNotMatch</Code>" in reply.content
    assert b"Signature expired" in reply.content


def test_unsigned_request_is_missing_authentication_token(cloudlet):
    import requests

    reply = requests.post(cloudlet.endpoint + "/", data="Action=GetCallerIdentity&Version=2011-06-15",
                          headers={"Content-Type": "application/x-www-form-urlencoded"}, timeout=10)
    assert reply.status_code == 403
    assert b"<Code>MissingAuthenticationToken</Code>" in reply.content
