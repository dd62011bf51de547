"""Which service a request is for (gateway/routing.py): served ones first, then every other
botocore model, read lazily, then S3."""

from __future__ import annotations

from cloudlet.gateway import routing
from cloudlet.protocols.base import Headers, HttpRequest

FORM = ("Content-Type", "application/x-www-form-urlencoded")


def request(method="POST", path="/", body=b"", headers=()) -> HttpRequest:
    return HttpRequest(method=method, path=path, body=body,
                       headers=Headers([("Host", "127.0.0.1:4566"), *headers]))


def test_a_request_no_key_claims_is_s3_and_reads_no_other_model():
    routing.unserved.cache_clear()
    assert routing.find_service(request("GET", "/bucket/key"), None) == "s3"
    assert routing.find_service(request("PUT", "/bucket"), "s3") == "s3"
    assert routing.find_service(request(headers=[("Host", "b.s3.localhost")]), None) == "s3"
    assert routing.unserved.cache_info().currsize == 0


def test_served_services_win_a_shared_signing_name():
    assert routing.find_service(request(), "rds") == "rds"  # neptune and docdb sign as rds
    assert routing.find_service(request(), "monitoring") == "cloudwatch"


def test_unserved_services_by_target_signing_name_and_action():
    sqs = request(headers=[("X-Amz-Target", "AmazonSQS.ListQueues")])
    assert routing.find_service(sqs, None) == "sqs"
    assert routing.find_service(request(), "dynamodb") == "dynamodb"
    unsigned = request(body=b"Action=DescribeStacks&Version=2010-05-15", headers=[FORM])
    assert routing.find_service(unsigned, None) == "cloudformation"


def test_a_shared_signing_name_is_told_apart_by_version_then_by_who_speaks_it():
    for version, service in (("2015-12-01", "elbv2"), ("2012-06-01", "elb")):
        body = f"Action=DescribeLoadBalancers&Version={version}".encode()
        assert routing.find_service(request(body=body, headers=[FORM]),
                                    "elasticloadbalancing") == service
    runtime = request("GET", "/async-invoke")
    speaks = {"bedrock-runtime"}.__contains__
    assert routing.find_service(runtime, "bedrock", lambda name, _: speaks(name)) == (
        "bedrock-runtime")
    assert routing.find_service(runtime, "bedrock") == "bedrock"  # no codec asked: the key's


def test_aws_default_host_names_as_code_in_a_vpc_sends_them():
    """Inside a VPC the SDKs call AWS's own names (the VPC's resolver leads them to
    Cloudlet): the signature's scope names the service, the Host the bucket."""
    from cloudlet.protocols.hosts import bucket_from_host

    def at(host, signing_name, method="GET", path="/", body=b"", headers=()):
        return routing.find_service(HttpRequest(method=method, path=path, body=body,
                                                headers=Headers([("Host", host), *headers])),
                                    signing_name)

    caller = b"Action=GetCallerIdentity&Version=2011-06-15"
    for host in ("sts.amazonaws.com", "sts.us-east-1.amazonaws.com",
                 "sts.eu-west-1.amazonaws.com:443"):
        assert at(host, "sts", "POST", body=caller, headers=[FORM]) == "sts"
    assert at("iam.amazonaws.com", "iam", "POST", body=b"Action=ListUsers&Version=2010-05-08",
              headers=[FORM]) == "iam"
    assert at("ec2.us-east-1.amazonaws.com", "ec2", "POST",
              body=b"Action=DescribeVpcs&Version=2016-11-15", headers=[FORM]) == "ec2"
    assert at("logs.us-east-1.amazonaws.com", "logs", "POST",
              headers=[("X-Amz-Target", "Logs_20140328.DescribeLogGroups")]) == "logs"
    assert at("dynamodb.us-east-1.amazonaws.com", "dynamodb", "POST",
              headers=[("X-Amz-Target", "DynamoDB_20120810.ListTables")]) == "dynamodb"
    for host, bucket in (("s3.amazonaws.com", None), ("s3.us-west-2.amazonaws.com", None),
                         ("s3-us-west-2.amazonaws.com", None),
                         ("s3.dualstack.us-east-1.amazonaws.com", None),
                         ("my-bucket.s3.amazonaws.com", "my-bucket"),
                         ("my.dotted.bucket.s3.amazonaws.com", "my.dotted.bucket"),
                         ("b.s3.us-west-2.amazonaws.com", "b"),
                         ("b.s3-us-west-2.amazonaws.com", "b"),
                         ("b.s3.dualstack.eu-west-1.amazonaws.com", "b"),
                         ("b.s3.amazonaws.com:443", "b")):
        assert bucket_from_host(host) == bucket, host
        assert at(host, "s3", path="/k") == "s3"
        assert at(host, None, path="/k") == "s3"  # anonymous, or presigned with SigV2
