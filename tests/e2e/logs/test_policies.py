"""Resource policies: put, describe, delete, the account limit."""

import json

from harness import error_of, unique

DOCUMENT = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "route53.amazonaws.com"},
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": "*"}]})


def test_account_and_resource_policies(logs):
    name = unique("route53")
    put = logs.put_resource_policy(policyName=name, policyDocument=DOCUMENT)
    assert put["resourcePolicy"]["policyName"] == name
    assert put["resourcePolicy"]["policyScope"] == "ACCOUNT"
    described = logs.describe_resource_policies()["resourcePolicies"]
    assert DOCUMENT in [p["policyDocument"] for p in described if p.get("policyName") == name]
    group = unique("/policy")
    logs.create_log_group(logGroupName=group)
    arn = f"arn:aws:logs:us-east-1:000000000000:log-group:{group}"
    scoped = logs.put_resource_policy(resourceArn=arn, policyDocument=DOCUMENT)
    assert scoped["resourcePolicy"]["policyScope"] == "RESOURCE"
    assert [p["resourceArn"] for p in logs.describe_resource_policies(
        resourceArn=arn)["resourcePolicies"]] == [arn]
    logs.delete_resource_policy(resourceArn=arn)
    logs.delete_resource_policy(policyName=name)
    code, _, _ = error_of(logs.delete_resource_policy, policyName=name)
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(logs.put_resource_policy, policyName=name, policyDocument="{nope")
    assert code == "InvalidParameterException"
