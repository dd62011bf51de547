"""Bucket configuration subresources, through boto3, against a real Cloudlet."""

from __future__ import annotations

import base64
import hashlib
import uuid

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def s3(cloudlet):
    return cloudlet.client("s3")


@pytest.fixture
def bucket(s3):
    name = f"cfg-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    return name


def code_of(call, *args, **kwargs) -> str:
    with pytest.raises(ClientError) as info:
        call(*args, **kwargs)
    return info.value.response["Error"]["Code"]


def test_a_new_bucket_has_aws_defaults(s3, bucket):
    assert s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True,
        "RestrictPublicBuckets": True}
    rules = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    sse = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]
    assert sse["Rules"][0]["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert "Status" not in s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "BucketOwner"
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)
    acl = s3.get_bucket_acl(Bucket=bucket)
    assert [g["Permission"] for g in acl["Grants"]] == ["FULL_CONTROL"]
    assert acl["Grants"][0]["Grantee"]["ID"] == acl["Owner"]["ID"]
    for call, code in [
        (s3.get_bucket_policy, "NoSuchBucketPolicy"),
        (s3.get_bucket_lifecycle_configuration, "NoSuchLifecycleConfiguration"),
        (s3.get_bucket_cors, "NoSuchCORSConfiguration"),
        (s3.get_bucket_tagging, "NoSuchTagSet"),
        (s3.get_bucket_website, "NoSuchWebsiteConfiguration"),
        (s3.get_bucket_replication, "ReplicationConfigurationNotFoundError"),
    ]:
        assert code_of(call, Bucket=bucket) == code, call


def test_configuration_of_a_missing_bucket(s3):
    assert code_of(s3.get_bucket_cors, Bucket=f"nope-{uuid.uuid4().hex}") == "NoSuchBucket"


def test_versioning_enabled_then_suspended(s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Suspended"})
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"


def test_tagging_round_trip_and_rules(s3, bucket):
    tags = [{"Key": "team", "Value": "storage"}, {"Key": "env", "Value": ""}]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert sorted(got, key=lambda t: t["Key"]) == sorted(tags, key=lambda t: t["Key"])
    dup = [{"Key": "a", "Value": "1"}, {"Key": "a", "Value": "2"}]
    assert code_of(s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": dup}) == "InvalidTag"
    system = [{"Key": "aws:x", "Value": "1"}]
    assert code_of(s3.put_bucket_tagging, Bucket=bucket,
                   Tagging={"TagSet": system}) == "InvalidTag"
    s3.delete_bucket_tagging(Bucket=bucket)
    assert code_of(s3.get_bucket_tagging, Bucket=bucket) == "NoSuchTagSet"


def test_public_access_block_put_get_delete(s3, bucket):
    s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": False, "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False})
    got = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert got == {"BlockPublicAcls": True, "IgnorePublicAcls": False,
                   "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    s3.delete_public_access_block(Bucket=bucket)
    assert code_of(s3.get_public_access_block, Bucket=bucket) == \
        "NoSuchPublicAccessBlockConfiguration"


def test_ownership_controls_and_acls(s3, bucket):
    # BucketOwnerEnforced (the default) refuses ACLs other than private.
    assert code_of(s3.put_bucket_acl, Bucket=bucket, ACL="public-read") == \
        "AccessControlListNotSupported"
    s3.put_bucket_acl(Bucket=bucket, ACL="private")
    s3.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    assert s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "BucketOwnerPreferred"}]
    # Block Public Access still refuses a public ACL...
    assert code_of(s3.put_bucket_acl, Bucket=bucket, ACL="public-read") == "AccessDenied"
    s3.delete_public_access_block(Bucket=bucket)
    # ...until it is off.
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    grants = s3.get_bucket_acl(Bucket=bucket)["Grants"]
    assert {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"} in [
        g["Grantee"] for g in grants]
    # Back to BucketOwnerEnforced is refused while the ACL grants others.
    assert code_of(s3.put_bucket_ownership_controls, Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}) == \
        "InvalidBucketAclWithObjectOwnership"
    s3.delete_bucket_ownership_controls(Bucket=bucket)
    assert code_of(s3.get_bucket_ownership_controls, Bucket=bucket) == \
        "OwnershipControlsNotFoundError"


def test_create_bucket_with_object_ownership_and_acl(s3):
    name = f"cfg-{uuid.uuid4().hex[:16]}"
    assert code_of(s3.create_bucket, Bucket=name, ACL="public-read") == \
        "InvalidBucketAclWithObjectOwnership"
    assert code_of(s3.head_bucket, Bucket=name) == "404"
    s3.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    assert s3.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"] == [
        {"ObjectOwnership": "ObjectWriter"}]


def test_encryption_put_and_delete_reverts_to_sse_s3(s3, bucket):
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                                                "KMSMasterKeyID": "alias/mine"},
         "BucketKeyEnabled": True}]})
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    s3.delete_bucket_encryption(Bucket=bucket)
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"][
        "Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}


def test_cors_configuration(s3, bucket):
    rules = [{"AllowedMethods": ["GET", "PUT"], "AllowedOrigins": ["https://*.example.com"],
              "AllowedHeaders": ["*"], "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 300}]
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": rules})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == rules
    bad = [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]
    assert code_of(s3.put_bucket_cors, Bucket=bucket,
                   CORSConfiguration={"CORSRules": bad}) == "InvalidRequest"
    s3.delete_bucket_cors(Bucket=bucket)
    assert code_of(s3.get_bucket_cors, Bucket=bucket) == "NoSuchCORSConfiguration"


def test_website_configuration(s3, bucket):
    config = {"IndexDocument": {"Suffix": "index.html"}, "ErrorDocument": {"Key": "err.html"}}
    s3.put_bucket_website(Bucket=bucket, WebsiteConfiguration=config)
    got = s3.get_bucket_website(Bucket=bucket)
    assert got["IndexDocument"] == {"Suffix": "index.html"}
    assert got["ErrorDocument"] == {"Key": "err.html"}
    assert code_of(s3.put_bucket_website, Bucket=bucket,
                   WebsiteConfiguration={"ErrorDocument": {"Key": "e"}}) == "InvalidArgument"
    s3.delete_bucket_website(Bucket=bucket)
    assert code_of(s3.get_bucket_website, Bucket=bucket) == "NoSuchWebsiteConfiguration"


def test_logging_configuration(s3, bucket):
    target = f"logs-{uuid.uuid4().hex[:16]}"
    assert code_of(s3.put_bucket_logging, Bucket=bucket, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "l/"}}) == \
        "InvalidTargetBucketForLogging"
    s3.create_bucket(Bucket=target)
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={
        "LoggingEnabled": {"TargetBucket": target, "TargetPrefix": "l/"}})
    assert s3.get_bucket_logging(Bucket=bucket)["LoggingEnabled"] == {
        "TargetBucket": target, "TargetPrefix": "l/"}
    s3.put_bucket_logging(Bucket=bucket, BucketLoggingStatus={})
    assert "LoggingEnabled" not in s3.get_bucket_logging(Bucket=bucket)


def test_accelerate_and_request_payment(s3, bucket):
    s3.put_bucket_accelerate_configuration(Bucket=bucket,
                                           AccelerateConfiguration={"Status": "Enabled"})
    assert s3.get_bucket_accelerate_configuration(Bucket=bucket)["Status"] == "Enabled"
    s3.put_bucket_request_payment(Bucket=bucket,
                                  RequestPaymentConfiguration={"Payer": "Requester"})
    assert s3.get_bucket_request_payment(Bucket=bucket)["Payer"] == "Requester"


def _notification_error(s3, bucket, config) -> dict:
    with pytest.raises(ClientError) as info:
        s3.put_bucket_notification_configuration(Bucket=bucket,
                                                 NotificationConfiguration=config)
    return info.value.response["Error"]


def test_notification_destinations_are_validated(cloudlet, s3, bucket):
    sns = cloudlet.client("sns")
    missing = "arn:aws:sns:us-east-1:000000000000:" + uuid.uuid4().hex
    config = {"TopicConfigurations": [{
        "TopicArn": missing, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "in/"}]}}}]}
    error = _notification_error(s3, bucket, config)
    assert error["Code"] == "InvalidArgument"
    assert error["Message"] == "Unable to validate the following destination configurations"
    assert error["ArgumentName1"] == missing
    assert error["ArgumentValue1"] == "The destination does not exist"
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)
    # Skipping validation stores the configuration with its filters.
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config,
                                             SkipDestinationValidation=True)
    [stored] = s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
    assert stored["TopicArn"] == missing and stored["Id"]
    assert stored["Filter"]["Key"]["FilterRules"][0]["Value"] == "in/"
    # A topic that exists is accepted.
    topic = sns.create_topic(Name=f"s3-events-{uuid.uuid4().hex[:8]}")["TopicArn"]
    config["TopicConfigurations"][0]["TopicArn"] = topic
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration=config)
    [stored] = s3.get_bucket_notification_configuration(Bucket=bucket)["TopicConfigurations"]
    assert stored["TopicArn"] == topic
    # SQS is no Cloudlet service: no queue exists.
    queue = {"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                                      "Events": ["s3:ObjectCreated:*"]}]}
    assert _notification_error(s3, bucket, queue)["Code"] == "InvalidArgument"
    bad = {"QueueConfigurations": [{"QueueArn": "arn:aws:sqs:us-east-1:000000000000:q",
                                    "Events": ["s3:NoSuchEvent"]}]}
    assert code_of(s3.put_bucket_notification_configuration, Bucket=bucket,
                   NotificationConfiguration=bad) == "InvalidArgument"
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={})
    assert "TopicConfigurations" not in s3.get_bucket_notification_configuration(Bucket=bucket)


def test_a_lambda_destination_that_does_not_exist_is_refused(s3, bucket):
    """S3 asks Lambda whether the function exists (one that does is accepted in
    tests/e2e/lambda_/test_seed.py, where it is also invoked)."""
    arn = "arn:aws:lambda:us-east-1:000000000000:function:nowhere"
    config = {"LambdaFunctionConfigurations": [{"LambdaFunctionArn": arn,
                                                "Events": ["s3:ObjectCreated:*"]}]}
    error = _notification_error(s3, bucket, config)
    assert error["Code"] == "InvalidArgument"
    assert "Unable to validate the following destination configurations" in error["Message"]
    assert "LambdaFunctionConfigurations" not in s3.get_bucket_notification_configuration(
        Bucket=bucket)


def test_malformed_configuration_bodies(cloudlet, s3, bucket):
    import requests
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    md5 = base64.b64encode(hashlib.md5(b"<oops").digest()).decode()
    for sub in ("cors", "lifecycle", "tagging", "website", "policy", "publicAccessBlock"):
        request = AWSRequest(method="PUT", url=f"{cloudlet.endpoint}/{bucket}?{sub}",
                             data=b"<oops", headers={"Content-MD5": md5})
        SigV4Auth(Credentials("test", "test"), "s3", "us-east-1").add_auth(request)
        response = requests.put(request.url, data=b"<oops", headers=dict(request.headers),
                                timeout=10)
        assert response.status_code == 400, (sub, response.text)
        assert b"<Code>Malformed" in response.content, (sub, response.text)


def test_a_deleted_bucket_forgets_its_configuration(s3):
    name = f"cfg-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": [{"Key": "k", "Value": "v"}]})
    s3.delete_public_access_block(Bucket=name)
    s3.delete_bucket(Bucket=name)
    s3.create_bucket(Bucket=name)
    assert code_of(s3.get_bucket_tagging, Bucket=name) == "NoSuchTagSet"
    assert s3.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"][
        "BlockPublicPolicy"] is True
