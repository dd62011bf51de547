"""The seed article's Lambda, end to end: the smallest handler through boto3 and the AWS
CLI; the thumbnail app (an upload under uploads/ triggers a Python function that uses its
role's credentials to read the object and write thumbnails with Pillow shipped in its zip);
AccessDenied in the logs of a function whose role lacks s3:PutObject; Node.js and a
provided.al2023 shell bootstrap; Logs Insights finding @duration."""

from __future__ import annotations

import io
import json
import os
import sys
import time
from pathlib import Path

import pytest
from harness import unique

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import (  # noqa: E402
    eventually,
    log_messages,
    make_function,
    make_role,
    make_zip,
)

SEED = '''def lambda_handler(event, context):
    name = event.get("name", "world")
    return {
        "statusCode": 200,
        "body": f"Hello, {name}!",
    }
'''
THUMBNAILS = '''import io
import urllib.parse

import boto3
from PIL import Image

s3 = boto3.client("s3")
SIZES = (32, 64)


def handler(event, context):
    written = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = urllib.parse.unquote_plus(record["s3"]["object"]["key"])
        original = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        for size in SIZES:
            image = Image.open(io.BytesIO(original))
            image.thumbnail((size, size))
            out = io.BytesIO()
            image.save(out, format="PNG")
            target = f"thumbnails/{size}/{key.split('/', 1)[1]}"
            s3.put_object(Bucket=bucket, Key=target, Body=out.getvalue(),
                          ContentType="image/png")
            written.append(target)
    print("wrote", written)
    return written
'''
NODE = '''exports.handler = async (event, context) => {
  console.log("node sees", event.name);
  return { statusCode: 200, body: `Hello from Node, ${event.name}!`,
           requestId: context.awsRequestId };
};
'''
BOOTSTRAP = '''#!/bin/sh
set -eu
API="http://${AWS_LAMBDA_RUNTIME_API}/2018-06-01/runtime"
while true; do
  HEADERS="$(mktemp)"
  EVENT="$(curl -sS -D "$HEADERS" "$API/invocation/next")"
  ID="$(grep -i '^Lambda-Runtime-Aws-Request-Id:' "$HEADERS" | tr -d '\\r' | cut -d' ' -f2)"
  echo "shell got $EVENT"
  curl -sS -X POST "$API/invocation/$ID/response" -d "{\\"echo\\": $EVENT, \\"shell\\": true}" >/dev/null
done
'''


@pytest.fixture(scope="module")
def iam(cloudlet):
    return cloudlet.client("iam")


def pillow_zip(handler: str) -> bytes:
    """The handler with Pillow from this venv (the host's Python runs the function)."""
    import PIL

    site = Path(PIL.__file__).parent.parent
    files: dict[str, bytes] = {"app.py": handler.encode()}
    modes: dict[str, int] = {}
    for top in ("PIL", "pillow.libs"):
        for path in (site / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                name = str(path.relative_to(site))
                files[name] = path.read_bytes()
                modes[name] = 0o755 if os.access(path, os.X_OK) else 0o644
    return make_zip(files, modes)


def png(width: int, height: int) -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 90)).save(out, format="PNG")
    return out.getvalue()


def test_seed_handler_boto3_and_cli(cloudlet, lam, iam, tmp_path):
    name = make_function(lam, make_role(iam), {"lambda_function.py": SEED},
                         handler="lambda_function.lambda_handler")
    out = lam.invoke(FunctionName=name)
    assert json.loads(out["Payload"].read()) == {"statusCode": 200, "body": "Hello, world!"}
    out = lam.invoke(FunctionName=name, Payload=json.dumps({"name": "Ada"}))
    assert json.loads(out["Payload"].read()) == {"statusCode": 200, "body": "Hello, Ada!"}
    target = tmp_path / "out.json"
    result = cloudlet.aws("lambda", "invoke", "--function-name", name,
                          "--payload", '{"name": "Ada"}', str(target))
    assert json.loads(result.stdout)["StatusCode"] == 200
    assert json.loads(target.read_text()) == {"statusCode": 200, "body": "Hello, Ada!"}
    result = cloudlet.aws("lambda", "invoke", "--function-name", name, str(target))
    assert json.loads(target.read_text())["body"] == "Hello, world!"


def test_thumbnails_from_uploads(cloudlet, lam, iam):
    s3 = cloudlet.client("s3")
    bucket = unique("avatars")
    s3.create_bucket(Bucket=bucket)
    role = make_role(iam, [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{bucket}/uploads/*"},
        {"Effect": "Allow", "Action": "s3:PutObject",
         "Resource": f"arn:aws:s3:::{bucket}/thumbnails/*"}])
    name = make_function(lam, role, pillow_zip(THUMBNAILS), Timeout=30, MemorySize=512)
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    lam.add_permission(FunctionName=name, StatementId="s3-invoke",
                       Action="lambda:InvokeFunction", Principal="s3.amazonaws.com",
                       SourceArn=f"arn:aws:s3:::{bucket}", SourceAccount="000000000000")
    s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
        "LambdaFunctionConfigurations": [{
            "LambdaFunctionArn": arn, "Events": ["s3:ObjectCreated:*"],
            "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": "uploads/"}]}}}]})
    s3.put_object(Bucket=bucket, Key="uploads/ada.png", Body=png(400, 200))
    s3.put_object(Bucket=bucket, Key="other/ignored.png", Body=png(10, 10))

    def thumbnails():
        found = s3.list_objects_v2(Bucket=bucket, Prefix="thumbnails/").get("Contents", [])
        return sorted(o["Key"] for o in found) if len(found) == 2 else None

    assert eventually(thumbnails, timeout=40) == ["thumbnails/32/ada.png",
                                                  "thumbnails/64/ada.png"]
    from PIL import Image

    small = s3.get_object(Bucket=bucket, Key="thumbnails/64/ada.png")["Body"].read()
    assert Image.open(io.BytesIO(small)).size == (64, 32)
    logs = cloudlet.client("logs")
    assert eventually(lambda: any("wrote" in m for m in
                                  log_messages(logs, f"/aws/lambda/{name}")))
    assert not any(k.startswith("thumbnails/") for k in
                   [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="other/")
                    .get("Contents", [])])


def test_notification_needs_a_function_that_exists(cloudlet):
    s3 = cloudlet.client("s3")
    bucket = unique("nofn")
    s3.create_bucket(Bucket=bucket)
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as caught:
        s3.put_bucket_notification_configuration(Bucket=bucket, NotificationConfiguration={
            "LambdaFunctionConfigurations": [{
                "LambdaFunctionArn": "arn:aws:lambda:us-east-1:000000000000:function:nope-x",
                "Events": ["s3:ObjectCreated:*"]}]})
    assert caught.value.response["Error"]["Code"] == "InvalidArgument"


def test_access_denied_without_put_object(cloudlet, lam, iam):
    s3 = cloudlet.client("s3")
    bucket = unique("readonly")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="uploads/x.png", Body=png(20, 20))
    role = make_role(iam, [{"Effect": "Allow", "Action": "s3:GetObject",
                            "Resource": f"arn:aws:s3:::{bucket}/*"}])
    name = make_function(lam, role, pillow_zip(THUMBNAILS), Timeout=30, MemorySize=512)
    event = {"Records": [{"s3": {"bucket": {"name": bucket},
                                 "object": {"key": "uploads/x.png"}}}]}
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event))
    assert out["FunctionError"] == "Unhandled"
    body = json.loads(out["Payload"].read())
    assert "AccessDenied" in body["errorMessage"] and "s3:PutObject" in body["errorMessage"]
    logs = cloudlet.client("logs")
    found = eventually(lambda: log_messages(logs, f"/aws/lambda/{name}", '"AccessDenied"'))
    assert found and any("PutObject" in m for m in found)


def test_nodejs_handler(lam, iam):
    name = make_function(lam, make_role(iam), {"index.js": NODE}, runtime="nodejs20.x",
                         handler="index.handler")
    out = lam.invoke(FunctionName=name, Payload=b'{"name": "Ada"}')
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out
    assert body["body"] == "Hello from Node, Ada!"
    assert body["requestId"] == out["ResponseMetadata"]["RequestId"]


def test_provided_al2023_shell_bootstrap(lam, iam):
    name = make_function(lam, make_role(iam), make_zip({"bootstrap": BOOTSTRAP},
                                                       {"bootstrap": 0o755}),
                         runtime="provided.al2023", handler="unused")
    out = lam.invoke(FunctionName=name, Payload=b'{"n": 42}', LogType="Tail")
    assert "FunctionError" not in out, out["Payload"].read()
    assert json.loads(out["Payload"].read()) == {"echo": {"n": 42}, "shell": True}


def test_logs_insights_finds_duration(cloudlet, lam, iam):
    name = make_function(lam, make_role(iam), {"lambda_function.py": SEED},
                         handler="lambda_function.lambda_handler")
    for _ in range(3):
        lam.invoke(FunctionName=name)
    logs = cloudlet.client("logs")
    group = f"/aws/lambda/{name}"
    assert eventually(lambda: len(log_messages(logs, group, "REPORT")) >= 3)

    def query():
        now = int(time.time())
        qid = logs.start_query(logGroupName=group, startTime=now - 600, endTime=now + 60,
                               queryString="filter @type = \"REPORT\" | "
                                           "stats count(*) as n, avg(@duration) as d")["queryId"]
        while True:
            result = logs.get_query_results(queryId=qid)
            if result["status"] not in ("Scheduled", "Running"):
                return result
            time.sleep(0.1)

    result = query()
    assert result["status"] == "Complete"
    row = {f["field"]: f["value"] for f in result["results"][0]}
    assert row["n"] == "3" and float(row["d"]) > 0
