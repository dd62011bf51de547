"""Function URLs served on Cloudlet's port: API Gateway's payload format 2.0 in, the
function's answer out; AuthType NONE needs the resource policy's permission, AWS_IAM a
SigV4 signature; Host-based dispatch (<url-id>.lambda-url.<region>.localhost) and the path
form under /_cloudlet/lambda/url/."""

from __future__ import annotations

import http.client
import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import unique

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import make_function, make_role  # noqa: E402

ECHO = '''import json
def handler(event, context):
    if event["rawPath"] == "/plain":
        return {"just": "a dict"}
    return {"statusCode": 201, "headers": {"X-Echo": "yes", "Content-Type": "application/json"},
            "cookies": ["flavour=oat"],
            "body": json.dumps({"method": event["requestContext"]["http"]["method"],
                                "path": event["rawPath"], "version": event["version"],
                                "query": event.get("queryStringParameters"),
                                "body": event.get("body"),
                                "iam": event["requestContext"].get("authorizer"),
                                "header": event["headers"].get("x-custom")})}
'''


@pytest.fixture(scope="module")
def lam(cloudlet):
    return cloudlet.client("lambda")


@pytest.fixture(scope="module")
def echo(lam, cloudlet):
    return make_function(lam, make_role(cloudlet.client("iam")), ECHO)


def call(cloudlet, url_id: str, path: str, method="GET", body: bytes | None = None,
         headers: dict | None = None, via_host: bool = False):
    parts = urlsplit(cloudlet.endpoint)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = dict(headers or {})
    if via_host:
        headers["Host"] = f"{url_id}.lambda-url.us-east-1.localhost:{parts.port}"
        target = path
    else:
        target = f"/_cloudlet/lambda/url/{url_id}{path}"
    conn.request(method, target, body=body, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, data


def url_id_of(config: dict) -> str:
    return urlsplit(config["FunctionUrl"]).hostname.split(".")[0]


def test_auth_none_needs_permission(cloudlet, lam, echo):
    config = lam.create_function_url_config(FunctionName=echo, AuthType="NONE")
    url_id = url_id_of(config)
    status, _, body = call(cloudlet, url_id, "/hi")
    assert status == 403 and json.loads(body) == {"Message": "Forbidden"}
    lam.add_permission(FunctionName=echo, StatementId="url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    status, headers, body = call(cloudlet, url_id, "/hi/there?a=1&a=2&b=x", method="POST",
                                 body=b'{"n": 1}', headers={"X-Custom": "c",
                                                            "Content-Type": "application/json"})
    assert status == 201 and headers["x-echo"] == "yes"
    assert headers["set-cookie"] == "flavour=oat"
    seen = json.loads(body)
    assert seen == {"method": "POST", "path": "/hi/there", "version": "2.0",
                    "query": {"a": "1,2", "b": "x"}, "body": '{"n": 1}', "iam": None,
                    "header": "c"}
    status, _, body = call(cloudlet, url_id, "/plain", via_host=True)
    assert status == 200 and json.loads(body) == {"just": "a dict"}
    status, _, _ = call(cloudlet, "0" * 32, "/plain")
    assert status == 403


def test_auth_iam_needs_signature(cloudlet, lam):
    name = make_function(lam, make_role(cloudlet.client("iam")), ECHO)
    url_id = url_id_of(lam.create_function_url_config(FunctionName=name, AuthType="AWS_IAM"))
    status, _, _ = call(cloudlet, url_id, "/x")
    assert status == 403
    status, body = signed_get(cloudlet, url_id, Credentials("test", "test"))
    assert status == 201, body
    seen = json.loads(body)
    assert seen["path"] == "/signed"
    assert seen["iam"]["iam"]["accountId"] == "000000000000"

    iam = cloudlet.client("iam")
    arn = lam.get_function(FunctionName=name)["Configuration"]["FunctionArn"]
    allowed, denied = unique("url-user"), unique("url-user")
    for user in (allowed, denied):
        iam.create_user(UserName=user)
    iam.put_user_policy(UserName=allowed, PolicyName="url", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "lambda:InvokeFunctionUrl", "Resource": arn}]}))
    keys = {u: iam.create_access_key(UserName=u)["AccessKey"] for u in (allowed, denied)}
    status, body = signed_get(cloudlet, url_id, Credentials(
        keys[allowed]["AccessKeyId"], keys[allowed]["SecretAccessKey"]))
    assert status == 201, body
    assert json.loads(body)["iam"]["iam"]["userArn"].endswith(f":user/{allowed}")
    status, _ = signed_get(cloudlet, url_id, Credentials(
        keys[denied]["AccessKeyId"], keys[denied]["SecretAccessKey"]))
    assert status == 403


def signed_get(cloudlet, url_id: str, credentials: Credentials) -> tuple[int, bytes]:
    url = f"{cloudlet.endpoint}/_cloudlet/lambda/url/{url_id}/signed?q=1"
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(credentials, "lambda", "us-east-1").add_auth(request)
    prepared = request.prepare()
    try:
        with urllib.request.urlopen(urllib.request.Request(
                url, headers=dict(prepared.headers)), timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_cors(cloudlet, lam):
    name = make_function(lam, make_role(cloudlet.client("iam")), ECHO)
    url_id = url_id_of(lam.create_function_url_config(
        FunctionName=name, AuthType="NONE",
        Cors={"AllowOrigins": ["https://app.example.com"], "AllowMethods": ["GET", "POST"],
              "AllowHeaders": ["x-custom"], "MaxAge": 300}))
    lam.add_permission(FunctionName=name, StatementId="url", Action="lambda:InvokeFunctionUrl",
                       Principal="*", FunctionUrlAuthType="NONE")
    status, headers, _ = call(cloudlet, url_id, "/x", method="OPTIONS", headers={
        "Origin": "https://app.example.com", "Access-Control-Request-Method": "POST"})
    assert status == 200
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-allow-methods"] == "GET,POST"
    assert headers["access-control-max-age"] == "300"
    status, headers, _ = call(cloudlet, url_id, "/x", headers={"Origin": "https://app.example.com"})
    assert status == 201 and headers["access-control-allow-origin"] == "https://app.example.com"
    status, headers, _ = call(cloudlet, url_id, "/x", headers={"Origin": "https://evil.example"})
    assert status == 201 and "access-control-allow-origin" not in headers
