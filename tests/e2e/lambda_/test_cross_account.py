"""Another account's functions and layers, named by ARN: reached only as their
resource-based policy allows (AddPermission, AddLayerVersionPermission), else
AccessDeniedException, the same for a function that does not exist; another account's
execution role is never passed; an asynchronous destination in another account needs that
function's policy."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from botocore.config import Config
from harness import error_of, unique, unique_account

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import (  # noqa: E402
    eventually,
    log_messages,
    make_function,
    make_role,
    make_zip,
    plain_zip,
)

RECORDER = 'import json\ndef handler(event, context):\n    print("EVENT " + json.dumps(event))\n'


def clients(cloudlet, account: str):
    config = Config(retries={"total_max_attempts": 1}, read_timeout=60)
    return {name: cloudlet.client(name, aws_access_key_id=account, config=config)
            for name in ("lambda", "iam", "logs")}


@pytest.fixture(scope="module")
def a(cloudlet):
    found = clients(cloudlet, unique_account())
    found["role"] = make_role(found["iam"])
    found["function"] = make_function(found["lambda"], found["role"], RECORDER)
    found["arn"] = found["lambda"].get_function(
        FunctionName=found["function"])["Configuration"]["FunctionArn"]
    return found


@pytest.fixture(scope="module")
def b(cloudlet):
    found = clients(cloudlet, unique_account())
    found["role"] = make_role(found["iam"], [{"Effect": "Allow", "Action": "lambda:*",
                                              "Resource": "*"}])
    return found


def denied(call, action: str, resource: str, **kwargs):
    code, status, message = error_of(call, **kwargs)
    assert (code, status) == ("AccessDeniedException", 403), message
    assert message.endswith(f"is not authorized to perform: {action} on resource: {resource} "
                            f"because no resource-based policy allows the {action} action")


# (operation, its other parameters, the IAM action it is judged as)
OPERATIONS = [
    ("get_function", {}, "lambda:GetFunction"),
    ("get_function_configuration", {}, "lambda:GetFunctionConfiguration"),
    ("get_policy", {}, "lambda:GetPolicy"),
    ("list_versions_by_function", {}, "lambda:ListVersionsByFunction"),
    ("list_aliases", {}, "lambda:ListAliases"),
    ("get_function_concurrency", {}, "lambda:GetFunctionConcurrency"),
    ("put_function_concurrency", {"ReservedConcurrentExecutions": 1},
     "lambda:PutFunctionConcurrency"),
    ("publish_version", {}, "lambda:PublishVersion"),
    ("create_alias", {"Name": "stolen", "FunctionVersion": "$LATEST"}, "lambda:CreateAlias"),
    ("create_function_url_config", {"AuthType": "NONE"}, "lambda:CreateFunctionUrlConfig"),
    ("put_function_event_invoke_config", {"MaximumRetryAttempts": 0},
     "lambda:PutFunctionEventInvokeConfig"),
    ("update_function_code", {"ZipFile": plain_zip({"app.py": RECORDER})},
     "lambda:UpdateFunctionCode"),
    ("update_function_configuration", {"Timeout": 9}, "lambda:UpdateFunctionConfiguration"),
    ("add_permission", {"StatementId": "me", "Action": "lambda:*", "Principal": "*"},
     "lambda:AddPermission"),
    ("delete_function", {}, "lambda:DeleteFunction"),
    ("invoke", {}, "lambda:InvokeFunction"),
]


@pytest.mark.parametrize("operation,extra,action", OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_another_accounts_function_is_refused(a, b, operation, extra, action):
    call = getattr(b["lambda"], operation)
    denied(call, action, a["arn"], FunctionName=a["arn"], **extra)
    missing = a["arn"].rsplit(":", 1)[0] + ":" + unique("none")
    denied(call, action, missing, FunctionName=missing, **extra)  # existence does not leak
    configuration = a["lambda"].get_function(FunctionName=a["function"])["Configuration"]
    assert configuration["Timeout"] == 3  # nothing changed
    assert "stolen" not in [x["Name"] for x in a["lambda"].list_aliases(
        FunctionName=a["function"])["Aliases"]]


def test_tags_of_another_accounts_function_are_refused(a, b):
    denied(b["lambda"].list_tags, "lambda:ListTags", a["arn"], Resource=a["arn"])
    denied(b["lambda"].tag_resource, "lambda:TagResource", a["arn"], Resource=a["arn"],
           Tags={"owner": "b"})
    assert a["lambda"].list_tags(Resource=a["arn"])["Tags"] == {}


def test_the_function_policy_grants_another_account(a, b):
    owner, other = a["lambda"], b["lambda"]
    name = make_function(owner, a["role"], RECORDER)
    arn = owner.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    account_b = b["role"].split(":")[4]
    owner.add_permission(FunctionName=name, StatementId="read", Action="lambda:GetFunction",
                         Principal=account_b)
    got = other.get_function(FunctionName=arn)["Configuration"]
    assert got["FunctionArn"] == arn
    # one action granted: the others stay refused
    denied(other.list_aliases, "lambda:ListAliases", arn, FunctionName=arn)
    owner.add_permission(FunctionName=name, StatementId="all", Action="lambda:*",
                         Principal=account_b)
    other.publish_version(FunctionName=arn)
    assert [v["Version"] for v in owner.list_versions_by_function(
        FunctionName=name)["Versions"]] == ["$LATEST", "1"]
    assert other.invoke(FunctionName=arn)["StatusCode"] == 200
    # the policy itself stays with the owner, whatever it grants
    code, _, _ = error_of(other.add_permission, FunctionName=arn, StatementId="x",
                          Action="lambda:*", Principal="*")
    assert code == "AccessDeniedException"
    code, _, _ = error_of(other.update_function_configuration, FunctionName=arn, Timeout=9)
    assert code == "AccessDeniedException"


def test_another_accounts_role_is_never_passed(a, b):
    """Before the fix, account B's function ran with account A's role's credentials."""
    code, status, message = error_of(
        b["lambda"].create_function, FunctionName=unique("thief"), Runtime="python3.12",
        Role=a["role"], Handler="app.handler", Code={"ZipFile": plain_zip({"app.py": RECORDER})})
    assert (code, status, message) == ("AccessDeniedException", 403,
                                       "Cross-account pass role is not allowed.")
    name = make_function(b["lambda"], b["role"], RECORDER)
    code, _, message = error_of(b["lambda"].update_function_configuration, FunctionName=name,
                                Role=a["role"])
    assert (code, message) == ("AccessDeniedException", "Cross-account pass role is not allowed.")


def test_event_source_mappings_name_only_the_callers_functions(a, b):
    code, _, _ = error_of(b["lambda"].create_event_source_mapping, FunctionName=a["arn"],
                          EventSourceArn="arn:aws:sqs:us-east-1:000000000000:q")
    assert code == "ResourceNotFoundException"


def test_an_async_destination_in_another_account_needs_its_policy(a, b):
    """Before the fix, account B's function fed its results into account A's function."""
    target = make_function(a["lambda"], a["role"], RECORDER)
    target_arn = a["lambda"].get_function(FunctionName=target)["Configuration"]["FunctionArn"]
    source = make_function(b["lambda"], b["role"], "def handler(e, c):\n    return 'out'\n")
    b["lambda"].put_function_event_invoke_config(
        FunctionName=source, DestinationConfig={"OnSuccess": {"Destination": target_arn}})

    def delivered():
        return [m for m in log_messages(a["logs"], f"/aws/lambda/{target}") if "EVENT " in m]

    b["lambda"].invoke(FunctionName=source, InvocationType="Event", Payload=b'{"n": 1}')
    # the source ran (its own log group), yet nothing reached A's function
    assert eventually(lambda: log_messages(b["logs"], f"/aws/lambda/{source}"), 30)
    assert not eventually(delivered, 5)
    a["lambda"].add_permission(FunctionName=target, StatementId="b-results",
                               Action="lambda:InvokeFunction",
                               Principal=b["role"].split(":")[4])
    b["lambda"].invoke(FunctionName=source, InvocationType="Event", Payload=b'{"n": 2}')
    found = eventually(delivered, 30)
    assert len(found) == 1 and json.loads(found[0].split("EVENT ", 1)[1])[
        "requestPayload"] == {"n": 2}


def test_another_accounts_layer_needs_its_permission(a, b):
    owner, other = a["lambda"], b["lambda"]
    name = unique("layer")
    layer = owner.publish_layer_version(LayerName=name, Content={"ZipFile": make_zip(
        {"python/shared.py": "X = 1\n"})})
    arn = layer["LayerVersionArn"]
    denied(other.get_layer_version_by_arn, "lambda:GetLayerVersion", arn, Arn=arn)
    denied(other.get_layer_version, "lambda:GetLayerVersion", arn, LayerName=layer["LayerArn"],
           VersionNumber=layer["Version"])
    denied(other.list_layer_versions, "lambda:ListLayerVersions", layer["LayerArn"],
           LayerName=layer["LayerArn"])
    code, _, _ = error_of(other.create_function, FunctionName=unique("fn"),
                          Runtime="python3.12", Role=b["role"], Handler="app.handler",
                          Code={"ZipFile": plain_zip({"app.py": RECORDER})}, Layers=[arn])
    assert code == "AccessDeniedException"
    owner.add_layer_version_permission(LayerName=name, VersionNumber=layer["Version"],
                                       StatementId="b", Action="lambda:GetLayerVersion",
                                       Principal=b["role"].split(":")[4])
    assert other.get_layer_version_by_arn(Arn=arn)["LayerVersionArn"] == arn
    make_function(other, b["role"], RECORDER, Layers=[arn])
    # the grant is the version's: the list of versions stays the owner's
    denied(other.list_layer_versions, "lambda:ListLayerVersions", layer["LayerArn"],
           LayerName=layer["LayerArn"])


def test_an_iam_user_needs_both_its_own_policy_and_the_functions(cloudlet, a, b):
    """Across accounts both sides must allow: the user's identity-based policy (judged on
    the other account's ARN) and the function's resource-based policy."""
    owner = a["lambda"]
    granted, other = (make_function(owner, a["role"], RECORDER) for _ in range(2))
    arns = [owner.get_function(FunctionName=n)["Configuration"]["FunctionArn"]
            for n in (granted, other)]
    account_b = b["role"].split(":")[4]
    for name in (granted, other):
        owner.add_permission(FunctionName=name, StatementId="b", Action="lambda:GetFunction",
                             Principal=account_b)
    user = unique("reader")
    b["iam"].create_user(UserName=user)
    b["iam"].put_user_policy(UserName=user, PolicyName="one", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "lambda:GetFunction",
                                                "Resource": arns[0]}]}))
    key = b["iam"].create_access_key(UserName=user)["AccessKey"]
    as_user = cloudlet.client("lambda", aws_access_key_id=key["AccessKeyId"],
                              aws_secret_access_key=key["SecretAccessKey"])
    assert as_user.get_function(FunctionName=arns[0])["Configuration"]["FunctionArn"] == arns[0]
    code, status, message = error_of(as_user.get_function, FunctionName=arns[1])
    assert (code, status) == ("AccessDeniedException", 403)
    assert "because no identity-based policy allows" in message
