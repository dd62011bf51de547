"""Lambda's function API end to end: create (inline, S3, AWS CLI), read, update, delete,
list, state transitions through boto3's waiters, AWS's validation errors, the code URL,
concurrency, account settings, tags, and iam:PassRole."""

from __future__ import annotations

import io
import json
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest
import requests
from botocore.config import Config
from harness import error_of, unique

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import TRUST, plain_zip  # noqa: E402

HANDLER = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'Hello, world!'}\n"


def make_zip(files: dict[str, str | bytes] | None = None) -> bytes:
    return plain_zip(files or {"app.py": HANDLER})


@pytest.fixture(scope="module")
def lam(cloudlet):
    return cloudlet.client("lambda")


@pytest.fixture(scope="module")
def raw(cloudlet):
    """A client that leaves validation to the server."""
    return cloudlet.client("lambda", config=Config(retries={"max_attempts": 1},
                                                   parameter_validation=False))


@pytest.fixture(scope="module")
def role(cloudlet):
    iam = cloudlet.client("iam")
    name = unique("lambda-role")
    return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]


def create(lam, role, name=None, **kwargs):
    name = name or unique("fn")
    params = {"FunctionName": name, "Runtime": "python3.12", "Role": role,
              "Handler": "app.handler", "Code": {"ZipFile": make_zip()}, **kwargs}
    return lam.create_function(**params)


def test_create_inline_waits_active_and_reads_back(lam, role):
    created = create(lam, role, Description="hello", MemorySize=256, Timeout=10,
                     Environment={"Variables": {"GREETING": "hi"}},
                     EphemeralStorage={"Size": 1024}, Architectures=["arm64"],
                     TracingConfig={"Mode": "Active"},
                     DeadLetterConfig={"TargetArn": "arn:aws:sns:us-east-1:000000000000:dlq"})
    name = created["FunctionName"]
    assert created["State"] == "Pending" and created["StateReasonCode"] == "Creating"
    assert created["FunctionArn"] == f"arn:aws:lambda:us-east-1:000000000000:function:{name}"
    assert created["Version"] == "$LATEST" and created["PackageType"] == "Zip"
    lam.get_waiter("function_active_v2").wait(FunctionName=name,
                                              WaiterConfig={"Delay": 1, "MaxAttempts": 10})
    lam.get_waiter("function_exists").wait(FunctionName=name)
    got = lam.get_function(FunctionName=name)
    config = got["Configuration"]
    assert config["State"] == "Active" and config["LastUpdateStatus"] == "Successful"
    assert (config["MemorySize"], config["Timeout"], config["Description"]) == (256, 10, "hello")
    assert config["Environment"] == {"Variables": {"GREETING": "hi"}}
    assert config["EphemeralStorage"] == {"Size": 1024}
    assert config["Architectures"] == ["arm64"]
    assert config["TracingConfig"] == {"Mode": "Active"}
    assert config["DeadLetterConfig"]["TargetArn"].endswith(":dlq")
    assert config["CodeSha256"] == created["CodeSha256"] and config["CodeSize"] == created["CodeSize"]
    assert got["Code"]["RepositoryType"] == "S3"
    assert lam.get_function_configuration(FunctionName=name)["RevisionId"] == config["RevisionId"]
    qualified = lam.get_function_configuration(FunctionName=name, Qualifier="$LATEST")
    assert qualified["FunctionArn"].endswith(f"{name}:$LATEST")


def test_code_location_downloads_the_zip_and_expires(fresh_cloudlet):
    # Its own server: moving the clock of the shared one would age every other test's
    # sessions and signed policies.
    cloudlet = fresh_cloudlet()
    lam = cloudlet.client("lambda")
    role = cloudlet.client("iam").create_role(
        RoleName=unique("lambda-role"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]["Arn"]
    data = make_zip({"app.py": HANDLER, "data.txt": "x" * 1000})
    name = create(lam, role, Code={"ZipFile": data})["FunctionName"]
    location = lam.get_function(FunctionName=name)["Code"]["Location"]
    with urllib.request.urlopen(location) as response:
        assert response.read() == data
    tampered = location.replace("Signature=", "Signature=0")
    with pytest.raises(urllib.error.HTTPError) as denied:
        urllib.request.urlopen(tampered)
    assert denied.value.code == 403
    # without its signature, with a later expiry, or a signature that is not hex: refused
    bare = location.split("?")[0]
    later = location.replace("Expires=", "Expires=9")
    odd = location.split("&Signature=")[0] + "&Signature=%C3%A9t%C3%A9"
    for url in (bare, later, odd):
        reply = requests.get(url, timeout=10)
        assert (reply.status_code, b"<Code>AccessDenied</Code>" in reply.content) == (403, True)
    cloudlet.advance_clock(601)
    with pytest.raises(urllib.error.HTTPError) as expired:
        urllib.request.urlopen(location)
    assert expired.value.code == 403 and b"expired" in expired.value.read()


def test_replaced_code_is_no_longer_served(lam, role):
    name = unique("replaced")
    create(lam, role, name=name, Code={"ZipFile": make_zip({"app.py": HANDLER + f"# {name}"})})
    old = lam.get_function(FunctionName=name)["Code"]["Location"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    new_zip = make_zip({"app.py": HANDLER + f"# {name} v2\n"})
    lam.update_function_code(FunctionName=name, ZipFile=new_zip)
    with pytest.raises(urllib.error.HTTPError) as gone:
        urllib.request.urlopen(old)
    assert gone.value.code == 404
    with urllib.request.urlopen(lam.get_function(FunctionName=name)["Code"]["Location"]) as got:
        assert got.read() == new_zip


def test_host_interpreter_version_is_reported(lam, role):
    wanted = "python3.10" if sys.version_info[:2] != (3, 10) else "python3.12"
    config = create(lam, role, Runtime=wanted)
    error = config["RuntimeVersionConfig"].get("Error")
    assert error is not None and error["ErrorCode"] == "RuntimeVersionMismatch"
    assert error["Message"].startswith(f"Cloudlet runs {wanted} on the host's Python 3.")
    assert config["RuntimeVersionConfig"]["RuntimeVersionArn"].startswith(
        "arn:aws:lambda:us-east-1::runtime:")
    java = create(lam, role, Runtime="java21", Handler="example.Handler::handleRequest")
    assert java["RuntimeVersionConfig"]["Error"]["Message"].startswith("Cloudlet cannot run java21")
    bootstrap = create(lam, role, Runtime="provided.al2023", Handler="unused")
    assert "Error" not in bootstrap["RuntimeVersionConfig"]


def test_create_with_the_aws_cli(cloudlet, role, tmp_path):
    path = tmp_path / "function.zip"
    path.write_bytes(make_zip())
    name = unique("cli-fn")
    out = cloudlet.aws("lambda", "create-function", "--function-name", name, "--runtime",
                       "python3.12", "--role", role, "--handler", "app.handler", "--zip-file",
                       f"fileb://{path}", "--output", "json")
    assert json.loads(out.stdout)["FunctionName"] == name
    cloudlet.aws("lambda", "wait", "function-active-v2", "--function-name", name)
    out = cloudlet.aws("lambda", "get-function-configuration", "--function-name", name,
                       "--output", "json")
    assert json.loads(out.stdout)["State"] == "Active"
    missing = cloudlet.aws("lambda", "get-function", "--function-name", unique("nope"),
                           check=False)
    assert missing.returncode != 0 and "ResourceNotFoundException" in missing.stderr


@pytest.mark.parametrize(("overrides", "code", "text"), [
    ({"MemorySize": 10241}, "ValidationException",
     "Value '10241' at 'memorySize' failed to satisfy constraint: Member must have value less "
     "than or equal to 10240"),
    ({"Timeout": 901}, "ValidationException",
     "Value '901' at 'timeout' failed to satisfy constraint: Member must have value less than "
     "or equal to 900"),
    ({"EphemeralStorage": {"Size": 10241}}, "ValidationException", "'ephemeralStorage.size'"),
    ({"MemorySize": 127}, "ValidationException", "greater than or equal to 128"),
    ({"Environment": {"Variables": {"BIG": "x" * 4100}}}, "InvalidParameterValueException",
     "Lambda was unable to configure your environment variables because the environment "
     "variables you have provided exceeded the 4KB limit. String measured: {\"BIG\":"),
    ({"Environment": {"Variables": {"AWS_REGION": "x"}}}, "InvalidParameterValueException",
     "Reserved keys used in this request: AWS_REGION"),
    ({"Runtime": "python3.7"}, "InvalidParameterValueException",
     "The runtime parameter of python3.7 is no longer supported for creating or updating AWS "
     "Lambda functions."),
    ({"Handler": None}, "InvalidParameterValueException",
     "Runtime and Handler are mandatory parameters"),
    ({"Role": "arn:aws:iam::000000000000:role/does-not-exist"},
     "InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda."),
    ({"Role": "not-an-arn"}, "ValidationException", "at 'role' failed to satisfy constraint"),
    ({"Layers": ["arn:aws:lambda:us-east-1:000000000000:layer:missing:1"]},
     "InvalidParameterValueException", "Layer version arn:aws:lambda:us-east-1:000000000000:"
     "layer:missing:1 does not exist."),
    ({"Code": {"ImageUri": "000000000000.dkr.ecr.us-east-1.amazonaws.com/x:latest"},
      "PackageType": "Image"}, "InvalidParameterValueException", "container image"),
    ({"Code": {"ZipFile": make_zip(), "S3Bucket": "bucket", "S3Key": "k"}},
     "InvalidParameterValueException", "Please do not provide other FunctionCode properties"),
    ({"FunctionName": "x" * 65}, "ValidationException",
     "Member must have length less than or equal to 64"),
])
def test_create_refuses_bad_input(raw, role, overrides, code, text):
    params = {"FunctionName": unique("bad"), "Runtime": "python3.12", "Role": role,
              "Handler": "app.handler", "Code": {"ZipFile": make_zip()}, **overrides}
    params = {k: v for k, v in params.items() if v is not None}
    got_code, status, message = error_of(raw.create_function, **params)
    assert got_code == code and text in message
    assert status in (400, 413)


def test_role_whose_trust_policy_refuses_lambda(cloudlet, lam):
    iam = cloudlet.client("iam")
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
        "Action": "sts:AssumeRole"}]}
    arn = iam.create_role(RoleName=unique("ec2-role"),
                          AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    code, _, message = error_of(create, lam=lam, role=arn)
    assert code == "InvalidParameterValueException"
    assert message == "The role defined for the function cannot be assumed by Lambda."


def test_duplicate_and_missing_functions(lam, role):
    name = create(lam, role)["FunctionName"]
    code, status, message = error_of(create, lam=lam, role=role, name=name)
    assert (code, status, message) == ("ResourceConflictException", 409,
                                       f"Function already exist: {name}")
    missing = unique("missing")
    code, status, message = error_of(lam.get_function, FunctionName=missing)
    assert (code, status) == ("ResourceNotFoundException", 404)
    assert message == f"Function not found: arn:aws:lambda:us-east-1:000000000000:function:{missing}"
    code, _, _ = error_of(lam.get_function, FunctionName=name, Qualifier="7")
    assert code == "ResourceNotFoundException"


def test_create_from_s3(cloudlet, lam, role):
    s3 = cloudlet.client("s3")
    bucket = unique("code-bucket")
    s3.create_bucket(Bucket=bucket)
    data = make_zip()
    s3.put_object(Bucket=bucket, Key="fn.zip", Body=data)
    created = create(lam, role, Code={"S3Bucket": bucket, "S3Key": "fn.zip"})
    assert created["CodeSize"] == len(data)
    code, _, message = error_of(create, lam=lam, role=role,
                                Code={"S3Bucket": bucket, "S3Key": "absent.zip"})
    assert code == "InvalidParameterValueException"
    assert message == ("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error "
                       "Message: The specified key does not exist.")
    code, _, message = error_of(create, lam=lam, role=role,
                                Code={"S3Bucket": unique("no-bucket"), "S3Key": "fn.zip"})
    assert "NoSuchBucket" in message


def test_update_code_and_configuration(lam, role):
    created = create(lam, role)
    name = created["FunctionName"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    code, status, _ = error_of(lam.update_function_code, FunctionName=name,
                               ZipFile=make_zip(), RevisionId="stale")
    assert (code, status) == ("PreconditionFailedException", 412)
    new_zip = make_zip({"app.py": HANDLER + "# v2\n"})
    updated = lam.update_function_code(FunctionName=name, ZipFile=new_zip,
                                       RevisionId=created["RevisionId"])
    assert updated["LastUpdateStatus"] == "InProgress"
    assert updated["CodeSha256"] != created["CodeSha256"]
    assert updated["RevisionId"] != created["RevisionId"]
    code, status, message = error_of(lam.update_function_configuration, FunctionName=name,
                                     MemorySize=512)
    assert (code, status) == ("ResourceConflictException", 409)
    assert "An update is in progress for resource" in message
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    config = lam.update_function_configuration(FunctionName=name, MemorySize=512,
                                               Environment={"Variables": {"AB": "1"}})
    assert config["MemorySize"] == 512 and config["Environment"]["Variables"] == {"AB": "1"}
    lam.get_waiter("function_updated_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    code, _, _ = error_of(lam.update_function_configuration, FunctionName=name, Timeout=1000)
    assert code == "ValidationException"
    code, _, message = error_of(lam.update_function_configuration, FunctionName=name,
                                Runtime="nodejs16.x")
    assert code == "InvalidParameterValueException" and "nodejs16.x" in message
    got = lam.get_function_configuration(FunctionName=name)
    assert got["MemorySize"] == 512 and got["Timeout"] == 3 and got["LastUpdateStatus"] == "Successful"


def test_delete_function_and_versions(lam, role):
    name = create(lam, role, Publish=True)["FunctionName"]
    lam.get_waiter("function_active_v2").wait(FunctionName=name, WaiterConfig={"Delay": 1})
    code, _, message = error_of(lam.delete_function, FunctionName=name, Qualifier="$LATEST")
    assert code == "InvalidParameterValueException" and "$LATEST" in message
    lam.delete_function(FunctionName=name, Qualifier="1")
    code, _, _ = error_of(lam.get_function, FunctionName=name, Qualifier="1")
    assert code == "ResourceNotFoundException"
    lam.delete_function(FunctionName=name)
    code, _, _ = error_of(lam.get_function, FunctionName=name)
    assert code == "ResourceNotFoundException"
    code, _, _ = error_of(lam.delete_function, FunctionName=name)
    assert code == "ResourceNotFoundException"


def test_list_functions_pages(cloudlet, role):
    lam = cloudlet.client("lambda", region="eu-west-1")
    names = sorted(create(lam, role, name=f"page-{i}-{unique('f')}")["FunctionName"]
                   for i in range(5))
    seen, marker = [], None
    while True:
        kwargs = {"MaxItems": 2, **({"Marker": marker} if marker else {})}
        page = lam.list_functions(**kwargs)
        assert len(page["Functions"]) <= 2
        seen += [f["FunctionName"] for f in page["Functions"]]
        marker = page.get("NextMarker")
        if not marker:
            break
    assert [n for n in seen if n in names] == names
    paginated = [f["FunctionName"] for p in lam.get_paginator("list_functions").paginate(
        PaginationConfig={"PageSize": 3}) for f in p["Functions"]]
    assert [n for n in paginated if n in names] == names


def test_list_functions_all_versions(lam, role):
    name = create(lam, role, Publish=True)["FunctionName"]
    every = [(f["FunctionName"], f["Version"]) for p in lam.get_paginator("list_functions")
             .paginate(FunctionVersion="ALL") for f in p["Functions"]]
    assert (name, "$LATEST") in every and (name, "1") in every
    latest = [(f["FunctionName"], f["Version"]) for p in lam.get_paginator("list_functions")
              .paginate() for f in p["Functions"]]
    assert (name, "$LATEST") in latest and (name, "1") not in latest


def test_reserved_concurrency_keeps_100_unreserved(cloudlet, role):
    lam = cloudlet.client("lambda", region="ap-south-1")
    first = create(lam, role)["FunctionName"]
    second = create(lam, role)["FunctionName"]
    before = lam.get_account_settings()["AccountLimit"]
    assert before["ConcurrentExecutions"] == 1000
    assert before["UnreservedConcurrentExecutions"] == 1000
    put = lam.put_function_concurrency(FunctionName=first, ReservedConcurrentExecutions=900)
    assert put["ReservedConcurrentExecutions"] == 900
    assert lam.get_function_concurrency(FunctionName=first)["ReservedConcurrentExecutions"] == 900
    code, _, message = error_of(lam.put_function_concurrency, FunctionName=second,
                                ReservedConcurrentExecutions=1)
    assert code == "InvalidParameterValueException"
    assert message == ("Specified ReservedConcurrentExecutions for function decreases account's "
                       "UnreservedConcurrentExecution below its minimum value of [100].")
    settings = lam.get_account_settings()
    assert settings["AccountLimit"]["UnreservedConcurrentExecutions"] == 100
    assert settings["AccountUsage"]["FunctionCount"] == 2
    assert lam.get_function(FunctionName=first)["Concurrency"] == {"ReservedConcurrentExecutions": 900}
    lam.delete_function_concurrency(FunctionName=first)
    assert "ReservedConcurrentExecutions" not in lam.get_function_concurrency(FunctionName=first)
    lam.put_function_concurrency(FunctionName=second, ReservedConcurrentExecutions=0)
    assert lam.get_account_settings()["AccountLimit"]["UnreservedConcurrentExecutions"] == 1000


def test_tags(lam, role):
    created = create(lam, role, Tags={"team": "a"})
    arn = created["FunctionArn"]
    lam.tag_resource(Resource=arn, Tags={"env": "dev"})
    assert lam.list_tags(Resource=arn)["Tags"] == {"team": "a", "env": "dev"}
    lam.untag_resource(Resource=arn, TagKeys=["team"])
    assert lam.list_tags(Resource=arn)["Tags"] == {"env": "dev"}
    assert lam.get_function(FunctionName=arn)["Tags"] == {"env": "dev"}
    code, _, _ = error_of(lam.list_tags, Resource=arn.replace(created["FunctionName"], unique("x")))
    assert code == "ResourceNotFoundException"


def test_pass_role_is_required(cloudlet, role):
    iam = cloudlet.client("iam")
    user = unique("dev")
    iam.create_user(UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="lambda", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "lambda:*", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=user)["AccessKey"]
    lam = cloudlet.client("lambda", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
    code, status, message = error_of(create, lam=lam, role=role)
    assert status == 403 and "AccessDenied" in code
    assert "iam:PassRole" in message and role in message
    iam.put_user_policy(UserName=user, PolicyName="pass", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "iam:PassRole", "Resource": role,
            "Condition": {"StringEquals": {"iam:PassedToService": "lambda.amazonaws.com"}}}]}))
    assert create(lam, role)["Role"] == role


def test_cli_reports_bad_zip(cloudlet, role, tmp_path):
    path = tmp_path / "broken.zip"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("app.py", HANDLER)
    data = buffer.getvalue()
    at = data.index(b"def handler")
    path.write_bytes(data[:at] + b"DEF" + data[at + 3:])  # the CRC no longer matches
    result = cloudlet.aws("lambda", "create-function", "--function-name", unique("cli-bad"),
                          "--runtime", "python3.12", "--role", role, "--handler", "app.handler",
                          "--zip-file", f"fileb://{path}", check=False)
    assert result.returncode != 0
    assert "InvalidParameterValueException" in result.stderr
    assert "Could not unzip uploaded file" in result.stderr


def test_functions_survive_a_restart(fresh_cloudlet):
    server = fresh_cloudlet()
    iam, lam = server.client("iam"), server.client("lambda")
    role = iam.create_role(RoleName="durable", AssumeRolePolicyDocument=json.dumps(TRUST))
    data = make_zip({"app.py": HANDLER + "# durable\n"})
    lam.create_function(FunctionName="durable", Runtime="python3.12",
                        Role=role["Role"]["Arn"], Handler="app.handler",
                        Code={"ZipFile": data}, Publish=True)
    lam.create_alias(FunctionName="durable", Name="live", FunctionVersion="1")
    server.stop()
    server.start()
    lam = server.client("lambda")
    config = lam.get_function_configuration(FunctionName="durable", Qualifier="live")
    assert config["Version"] == "1" and config["State"] == "Active"
    with urllib.request.urlopen(lam.get_function(FunctionName="durable")["Code"]["Location"]) as got:
        assert got.read() == data
