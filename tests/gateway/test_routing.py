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
