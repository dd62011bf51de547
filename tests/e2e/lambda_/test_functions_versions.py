"""Versions, aliases with weighted routing, resource policies, function URLs' configuration,
event source mappings, async invoke configuration and layers, through boto3."""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path

import pytest
from harness import error_of, unique

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import TRUST, plain_zip  # noqa: E402

HANDLER = "def handler(event, context):\n    return 'ok'\n"


def make_zip(files: dict[str, str] | None = None) -> bytes:
    return plain_zip(files or {"app.py": HANDLER})


@pytest.fixture(scope="module")
def lam(cloudlet):
    return cloudlet.client("lambda")


@pytest.fixture(scope="module")
def role(cloudlet):
    iam = cloudlet.client("iam")
    return iam.create_role(RoleName=unique("ver-role"),
                           AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


@pytest.fixture
def function(lam, role):
    name = unique("fn")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": make_zip()})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    return name


def settle(lam, name):
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})


def test_publish_version_and_no_op(lam, function):
    first = lam.publish_version(FunctionName=function, Description="first")
    assert first["Version"] == "1" and first["FunctionArn"].endswith(f"{function}:1")
    again = lam.publish_version(FunctionName=function)
    assert again["Version"] == "1"  # nothing changed since version 1
    code, _, message = error_of(lam.publish_version, FunctionName=function, CodeSha256="abc")
    assert code == "InvalidParameterValueException" and "is different from current CodeSHA256" in message
    code, _, _ = error_of(lam.publish_version, FunctionName=function, RevisionId="stale")
    assert code == "PreconditionFailedException"
    lam.update_function_code(FunctionName=function, ZipFile=make_zip({"app.py": HANDLER + "#2"}))
    settle(lam, function)
    second = lam.publish_version(FunctionName=function)
    assert second["Version"] == "2" and second["CodeSha256"] != first["CodeSha256"]
    versions = [v["Version"] for v in lam.list_versions_by_function(FunctionName=function)["Versions"]]
    assert versions == ["$LATEST", "1", "2"]
    assert lam.get_function(FunctionName=function, Qualifier="1")["Configuration"]["CodeSha256"] == \
        first["CodeSha256"]
    lam.update_function_configuration(FunctionName=function, MemorySize=256)
    settle(lam, function)
    published = lam.update_function_code(FunctionName=function, Publish=True,
                                         ZipFile=make_zip({"app.py": HANDLER + "#3"}))
    assert published["Version"] == "3" and published["MemorySize"] == 256


def test_aliases_with_weighted_routing(lam, function):
    lam.publish_version(FunctionName=function)
    lam.update_function_code(FunctionName=function, ZipFile=make_zip({"app.py": HANDLER + "#b"}))
    settle(lam, function)
    lam.publish_version(FunctionName=function)
    alias = lam.create_alias(FunctionName=function, Name="live", FunctionVersion="1",
                             RoutingConfig={"AdditionalVersionWeights": {"2": 0.25}})
    assert alias["AliasArn"].endswith(f"{function}:live")
    assert alias["RoutingConfig"] == {"AdditionalVersionWeights": {"2": 0.25}}
    code, status, message = error_of(lam.create_alias, FunctionName=function, Name="live",
                                     FunctionVersion="1")
    assert (code, status) == ("ResourceConflictException", 409) and "Alias already exists" in message
    code, _, _ = error_of(lam.create_alias, FunctionName=function, Name="bad",
                          FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"9": 0.5}})
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(lam.create_alias, FunctionName=function, Name="bad",
                          FunctionVersion="1", RoutingConfig={"AdditionalVersionWeights": {"1": 0.5}})
    assert code == "InvalidParameterValueException"
    code, _, _ = error_of(lam.update_alias, FunctionName=function, Name="live",
                          RevisionId="stale", FunctionVersion="2")
    assert code == "PreconditionFailedException"
    updated = lam.update_alias(FunctionName=function, Name="live", FunctionVersion="2",
                               RoutingConfig={"AdditionalVersionWeights": {}})
    assert updated["FunctionVersion"] == "2" and "RoutingConfig" not in updated
    assert lam.get_alias(FunctionName=function, Name="live")["RevisionId"] == updated["RevisionId"]
    via_alias = lam.get_function_configuration(FunctionName=function, Qualifier="live")
    assert via_alias["Version"] == "2"
    lam.create_alias(FunctionName=function, Name="old", FunctionVersion="1")
    assert [a["Name"] for a in lam.list_aliases(FunctionName=function)["Aliases"]] == ["live", "old"]
    assert [a["Name"] for a in lam.list_aliases(FunctionName=function, FunctionVersion="1")["Aliases"]] == ["old"]
    code, _, message = error_of(lam.delete_function, FunctionName=function, Qualifier="1")
    assert code == "ResourceConflictException" and "[old]" in message
    lam.delete_alias(FunctionName=function, Name="old")
    lam.delete_function(FunctionName=function, Qualifier="1")
    code, _, message = error_of(lam.get_alias, FunctionName=function, Name="old")
    assert code == "ResourceNotFoundException" and message.startswith("Alias not found: arn:aws:lambda:")


def test_alias_routing_runs_both_versions(lam, role):
    name = unique("routed")
    answer = "def handler(event, context):\n    return {'v': %d}\n"
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Publish=True,
                        Handler="app.handler", Code={"ZipFile": make_zip({"app.py": answer % 1})})
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    lam.update_function_code(FunctionName=name, ZipFile=make_zip({"app.py": answer % 2}),
                             Publish=True)
    settle(lam, name)
    assert json.loads(lam.invoke(FunctionName=name)["Payload"].read()) == {"v": 2}
    lam.create_alias(FunctionName=name, Name="canary", FunctionVersion="1",
                     RoutingConfig={"AdditionalVersionWeights": {"2": 0.5}})
    executed = {}
    for _ in range(40):
        out = lam.invoke(FunctionName=name, Qualifier="canary")
        body = json.loads(out["Payload"].read())
        executed[out["ExecutedVersion"]] = body["v"]
    assert executed == {"1": 1, "2": 2}


def test_resource_policy(lam, function):
    code, _, _ = error_of(lam.get_policy, FunctionName=function)
    assert code == "ResourceNotFoundException"
    added = lam.add_permission(FunctionName=function, StatementId="s3", Action="lambda:InvokeFunction",
                               Principal="s3.amazonaws.com", SourceArn="arn:aws:s3:::my-bucket",
                               SourceAccount="000000000000")
    statement = json.loads(added["Statement"])
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{function}"
    assert statement == {"Sid": "s3", "Effect": "Allow",
                         "Principal": {"Service": "s3.amazonaws.com"},
                         "Action": "lambda:InvokeFunction", "Resource": arn,
                         "Condition": {"StringEquals": {"AWS:SourceAccount": "000000000000"},
                                       "ArnLike": {"AWS:SourceArn": "arn:aws:s3:::my-bucket"}}}
    lam.add_permission(FunctionName=function, StatementId="other-account",
                       Action="lambda:InvokeFunction", Principal="111122223333")
    lam.add_permission(FunctionName=function, StatementId="url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    org = json.loads(lam.add_permission(
        FunctionName=function, StatementId="org", Action="lambda:GetFunction", Principal="*",
        PrincipalOrgID="o-a1b2c3d4e5", EventSourceToken="token-1")["Statement"])
    assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5",
                                                 "lambda:EventSourceToken": "token-1"}}
    lam.remove_permission(FunctionName=function, StatementId="org")
    code, status, _ = error_of(lam.add_permission, FunctionName=function, StatementId="s3",
                               Action="lambda:InvokeFunction", Principal="sns.amazonaws.com")
    assert (code, status) == ("ResourceConflictException", 409)
    got = lam.get_policy(FunctionName=function)
    policy = json.loads(got["Policy"])
    assert policy["Version"] == "2012-10-17" and policy["Id"] == "default"
    assert [s["Sid"] for s in policy["Statement"]] == ["s3", "other-account", "url"]
    assert policy["Statement"][1]["Principal"] == {"AWS": "arn:aws:iam::111122223333:root"}
    assert policy["Statement"][2]["Principal"] == "*"
    assert policy["Statement"][2]["Condition"] == {
        "StringEquals": {"lambda:FunctionUrlAuthType": "NONE"}}
    code, _, _ = error_of(lam.remove_permission, FunctionName=function, StatementId="s3",
                          RevisionId="stale")
    assert code == "PreconditionFailedException"
    lam.remove_permission(FunctionName=function, StatementId="s3", RevisionId=got["RevisionId"])
    code, _, _ = error_of(lam.remove_permission, FunctionName=function, StatementId="s3")
    assert code == "ResourceNotFoundException"
    lam.publish_version(FunctionName=function)
    lam.add_permission(FunctionName=function, StatementId="v1", Action="lambda:InvokeFunction",
                       Principal="sns.amazonaws.com", Qualifier="1")
    versioned = json.loads(lam.get_policy(FunctionName=function, Qualifier="1")["Policy"])
    assert versioned["Statement"][0]["Resource"] == f"{arn}:1"
    assert len(json.loads(lam.get_policy(FunctionName=function)["Policy"])["Statement"]) == 2


def test_function_url_config(lam, function):
    created = lam.create_function_url_config(FunctionName=function, AuthType="NONE",
                                             Cors={"AllowOrigins": ["*"]})
    url = created["FunctionUrl"]
    assert url.startswith("http://") and ".lambda-url.us-east-1.localhost:" in url
    assert created["AuthType"] == "NONE" and created["Cors"] == {"AllowOrigins": ["*"]}
    code, status, _ = error_of(lam.create_function_url_config, FunctionName=function,
                               AuthType="NONE")
    assert (code, status) == ("ResourceConflictException", 409)
    updated = lam.update_function_url_config(FunctionName=function, AuthType="AWS_IAM")
    assert updated["AuthType"] == "AWS_IAM" and updated["FunctionUrl"] == url
    assert lam.get_function_url_config(FunctionName=function)["AuthType"] == "AWS_IAM"
    listed = lam.list_function_url_configs(FunctionName=function)["FunctionUrlConfigs"]
    assert [c["FunctionUrl"] for c in listed] == [url]
    lam.delete_function_url_config(FunctionName=function)
    code, _, _ = error_of(lam.get_function_url_config, FunctionName=function)
    assert code == "ResourceNotFoundException"


def test_event_source_mappings_are_stored(lam, function):
    queue = "arn:aws:sqs:us-east-1:000000000000:jobs"
    created = lam.create_event_source_mapping(FunctionName=function, EventSourceArn=queue,
                                              Enabled=False)
    mapping = created["UUID"]
    assert created["BatchSize"] == 10 and created["State"] == "Disabled"
    assert "never" in created["StateTransitionReason"]
    assert lam.get_event_source_mapping(UUID=mapping)["EventSourceArn"] == queue
    updated = lam.update_event_source_mapping(UUID=mapping, BatchSize=5, Enabled=True)
    assert (updated["BatchSize"], updated["State"]) == (5, "Enabled")
    listed = lam.list_event_source_mappings(FunctionName=function)["EventSourceMappings"]
    assert [m["UUID"] for m in listed] == [mapping]
    lam.delete_event_source_mapping(UUID=mapping)
    code, _, _ = error_of(lam.get_event_source_mapping, UUID=mapping)
    assert code == "ResourceNotFoundException"


def test_event_invoke_config(lam, function):
    code, _, _ = error_of(lam.get_function_event_invoke_config, FunctionName=function)
    assert code == "ResourceNotFoundException"
    target = "arn:aws:sns:us-east-1:000000000000:failures"
    put = lam.put_function_event_invoke_config(
        FunctionName=function, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": target}})
    assert put["MaximumRetryAttempts"] == 1 and put["FunctionArn"].endswith(f"{function}:$LATEST")
    updated = lam.update_function_event_invoke_config(FunctionName=function,
                                                      MaximumEventAgeInSeconds=120)
    assert updated["MaximumRetryAttempts"] == 1 and updated["MaximumEventAgeInSeconds"] == 120
    assert updated["DestinationConfig"]["OnFailure"]["Destination"] == target
    replaced = lam.put_function_event_invoke_config(FunctionName=function, MaximumRetryAttempts=0)
    assert "MaximumEventAgeInSeconds" not in replaced
    assert len(lam.list_function_event_invoke_configs(FunctionName=function)[
        "FunctionEventInvokeConfigs"]) == 1
    lam.delete_function_event_invoke_config(FunctionName=function)
    code, _, _ = error_of(lam.get_function_event_invoke_config, FunctionName=function)
    assert code == "ResourceNotFoundException"


def test_layers(cloudlet, lam, role):
    name = unique("layer")
    data = make_zip({"python/shared.py": "VALUE = 42\n"})
    first = lam.publish_layer_version(LayerName=name, Content={"ZipFile": data},
                                      CompatibleRuntimes=["python3.12"], Description="v1")
    assert first["Version"] == 1
    assert first["LayerVersionArn"] == f"arn:aws:lambda:us-east-1:000000000000:layer:{name}:1"
    with urllib.request.urlopen(first["Content"]["Location"]) as response:
        assert response.read() == data
    s3 = cloudlet.client("s3")
    bucket = unique("layers")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="layer.zip", Body=data)
    second = lam.publish_layer_version(LayerName=name, Content={"S3Bucket": bucket,
                                                               "S3Key": "layer.zip"})
    assert second["Version"] == 2
    got = lam.get_layer_version_by_arn(Arn=first["LayerVersionArn"])
    assert got["Description"] == "v1" and got["Content"]["CodeSha256"] == first["Content"]["CodeSha256"]
    assert lam.get_layer_version(LayerName=name, VersionNumber=2)["Version"] == 2
    versions = lam.list_layer_versions(LayerName=name)["LayerVersions"]
    assert [v["Version"] for v in versions] == [2, 1]
    layers = {layer["LayerName"]: layer for layer in lam.list_layers()["Layers"]}
    assert layers[name]["LatestMatchingVersion"]["Version"] == 2
    matching = {layer["LayerName"]: layer for layer in lam.list_layers(
        CompatibleRuntime="python3.12")["Layers"]}
    assert matching[name]["LatestMatchingVersion"]["Version"] == 1

    function = unique("with-layer")
    created = lam.create_function(FunctionName=function, Runtime="python3.12", Role=role,
                                  Handler="app.handler", Code={"ZipFile": make_zip()},
                                  Layers=[first["LayerVersionArn"]])
    assert created["Layers"] == [{"Arn": first["LayerVersionArn"],
                                  "CodeSize": first["Content"]["CodeSize"]}]

    added = lam.add_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="all",
                                             Action="lambda:GetLayerVersion", Principal="*")
    assert json.loads(added["Statement"])["Principal"] == "*"
    policy = json.loads(lam.get_layer_version_policy(LayerName=name, VersionNumber=1)["Policy"])
    assert [s["Sid"] for s in policy["Statement"]] == ["all"]
    lam.remove_layer_version_permission(LayerName=name, VersionNumber=1, StatementId="all")
    code, _, _ = error_of(lam.get_layer_version_policy, LayerName=name, VersionNumber=1)
    assert code == "ResourceNotFoundException"

    lam.delete_layer_version(LayerName=name, VersionNumber=2)
    code, _, _ = error_of(lam.get_layer_version, LayerName=name, VersionNumber=2)
    assert code == "ResourceNotFoundException"
    third = lam.publish_layer_version(LayerName=name, Content={"ZipFile": data})
    assert third["Version"] == 3  # numbers are never reused


def test_settings_tools_read(lam, function):
    assert lam.get_function_code_signing_config(FunctionName=function)[
        "CodeSigningConfigArn"] == ""
    assert lam.get_runtime_management_config(FunctionName=function)["UpdateRuntimeOn"] == "Auto"
    lam.put_runtime_management_config(FunctionName=function, UpdateRuntimeOn="FunctionUpdate")
    assert lam.get_runtime_management_config(FunctionName=function)["UpdateRuntimeOn"] == \
        "FunctionUpdate"
    assert lam.get_function_recursion_config(FunctionName=function)["RecursiveLoop"] == "Terminate"
    lam.put_function_recursion_config(FunctionName=function, RecursiveLoop="Allow")
    assert lam.get_function_recursion_config(FunctionName=function)["RecursiveLoop"] == "Allow"
    assert lam.list_provisioned_concurrency_configs(FunctionName=function)[
        "ProvisionedConcurrencyConfigs"] == []
    code, status, _ = error_of(lam.get_provisioned_concurrency_config, FunctionName=function,
                               Qualifier="1")
    assert (code, status) == ("ProvisionedConcurrencyConfigNotFoundException", 404)
    code, status, _ = error_of(lam.put_provisioned_concurrency_config, FunctionName=function,
                               Qualifier="1", ProvisionedConcurrentExecutions=1)
    assert (code, status) == ("NotImplemented", 501)
