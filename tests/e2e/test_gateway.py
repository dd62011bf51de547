"""The gateway: routing to every service, response metadata, modeled errors."""

from __future__ import annotations

import pytest
import requests
from botocore.exceptions import ClientError
from harness import send_signed

# One cheap read-only call per service; each must reach its service's codec and come back
# as a modeled answer (a result, or a modeled NotImplemented error naming the operation).
CALLS = [
    ("ec2", "describe_vpcs", {}),
    ("s3", "list_buckets", {}),
    ("rds", "describe_db_instances", {}),
    ("lambda", "list_functions", {}),
    ("iam", "list_users", {}),
    ("cloudwatch", "list_metrics", {}),
    ("logs", "describe_log_groups", {}),
    ("sns", "list_topics", {}),
]


def test_health_lists_status_and_services(cloudlet):
    health = cloudlet.health()
    assert health["status"] == "running"
    assert set(health["services"]) == {"ec2", "s3", "rds", "lambda", "iam", "sts",
                                       "cloudwatch", "logs", "sns", "scheduler"}
    assert health["services"]["sts"] == "available"


@pytest.mark.parametrize("service,method,params", CALLS, ids=[c[0] for c in CALLS])
def test_every_service_routes_and_answers_modeled(cloudlet, service, method, params):
    client = cloudlet.client(service)
    try:
        reply = getattr(client, method)(**params)
    except ClientError as e:
        error = e.response["Error"]
        if error["Code"] != "NotImplemented":
            raise
        operation = client.meta.method_to_api_mapping[method]
        assert operation in error["Message"]
        assert service in error["Message"]
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        return
    assert reply["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_response_has_request_id_and_date(cloudlet):
    reply = cloudlet.client("sts").get_caller_identity()
    headers = reply["ResponseMetadata"]["HTTPHeaders"]
    assert headers["x-amzn-requestid"] == reply["ResponseMetadata"]["RequestId"]
    assert "date" in headers


def test_unknown_action_is_modeled_error(cloudlet):
    reply = send_signed(cloudlet.endpoint, "sts", "Action=NoSuchThing&Version=2011-06-15",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert reply.status_code == 400
    assert b"<Code>InvalidAction</Code>" in reply.content
    assert b"<RequestId>" in reply.content


def test_unknown_cloudlet_path_is_404_json(cloudlet):
    reply = requests.get(cloudlet.endpoint + "/_cloudlet/nothing", timeout=10)
    assert reply.status_code == 404
    assert reply.json()["message"]


# Services botocore models and Cloudlet does not serve, one per protocol (query, json with
# and without awsQueryCompatible, rest-json, rest-xml, smithy-rpc-v2-cbor), and the two that
# share the signing name elasticloadbalancing, told apart by the request's Version.
NOT_SERVED = [
    ("sqs", "SQS", "list_queues"),
    ("dynamodb", "DynamoDB", "list_tables"),
    ("elbv2", "Elastic Load Balancing v2", "describe_load_balancers"),
    ("elb", "Elastic Load Balancing", "describe_load_balancers"),
    ("eks", "EKS", "list_clusters"),
    ("route53", "Route 53", "list_hosted_zones"),
    ("arc-region-switch", "ARC Region switch", "list_plans"),
]


@pytest.mark.parametrize("service,service_id,method", NOT_SERVED, ids=[c[0] for c in NOT_SERVED])
def test_a_service_cloudlet_does_not_serve_gets_a_modeled_error_naming_it(
        cloudlet, service, service_id, method):
    with pytest.raises(ClientError) as e:
        getattr(cloudlet.client(service), method)()
    error = e.value.response["Error"]
    assert error["Message"] == f"Cloudlet does not serve {service_id} ({service}) yet."
    assert error["Code"] == "UnsupportedOperation"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_s3_still_owns_unsigned_and_unmatched_paths(cloudlet):
    reply = requests.get(cloudlet.endpoint + "/no-such-bucket-gw/key", timeout=10)
    assert reply.status_code == 404 and b"<Code>NoSuchBucket</Code>" in reply.content
    for reply in (requests.post(cloudlet.endpoint + "/", timeout=10),
                  send_signed(cloudlet.endpoint, "no-such-signing-name", b"", {})):
        assert reply.status_code == 404, reply.content
        assert b"No s3 operation matches POST /" in reply.content


def _signed_raw(cloudlet, path: str, body: bytes, headers: dict) -> requests.Response:
    return send_signed(cloudlet.endpoint, "monitoring", body, headers, path=path)


def test_cloudwatch_answers_in_each_of_its_three_protocols(cloudlet):
    """CloudWatch's model lists smithy-rpc-v2-cbor, json and query: each request is answered
    in the protocol it spoke, with the awsQueryCompatible error header."""
    import cbor2

    # smithy-rpc-v2-cbor: boto3's default for CloudWatch
    with pytest.raises(ClientError) as e:
        cloudlet.client("cloudwatch").list_dashboards()
    assert e.value.response["Error"]["Code"] == "NotImplemented"
    assert "ListDashboards" in e.value.response["Error"]["Message"]

    cbor = _signed_raw(cloudlet, "/service/GraniteServiceVersion20100801/operation/ListDashboards",
                       cbor2.dumps({}), {"Content-Type": "application/cbor",
                                         "smithy-protocol": "rpc-v2-cbor"})
    assert cbor.headers["smithy-protocol"] == "rpc-v2-cbor"
    assert "NotImplemented" in str(cbor2.loads(cbor.content))
    assert cbor.headers["x-amzn-query-error"].startswith("NotImplemented;")

    json_reply = _signed_raw(cloudlet, "/", b"{}", {
        "Content-Type": "application/x-amz-json-1.0",
        "X-Amz-Target": "GraniteServiceVersion20100801.ListDashboards"})
    assert "NotImplemented" in json_reply.json()["__type"]
    assert json_reply.headers["x-amzn-query-error"].startswith("NotImplemented;")

    query = _signed_raw(cloudlet, "/", b"Action=ListDashboards&Version=2010-08-01",
                        {"Content-Type": "application/x-www-form-urlencoded"})
    assert b"<Code>NotImplemented</Code>" in query.content
    assert b"<ErrorResponse" in query.content


def test_clock_moves_forward_only(fresh_cloudlet):
    server = fresh_cloudlet()
    before = server.control("GET", "/_cloudlet/clock").json()
    moved = server.control("POST", "/_cloudlet/clock", {"advance": 86400}).json()
    assert moved["offset_seconds"] == before["offset_seconds"] + 86400
    assert moved["now"][:10] > before["now"][:10]
    refused = server.control("POST", "/_cloudlet/clock", {"advance": -5})
    assert refused.status_code == 400
