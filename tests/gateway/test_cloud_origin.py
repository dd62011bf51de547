"""Requests from inside the cloud (a connection whose ASGI scope carries
`"cloudlet.origin": "cloud"`, as the listeners in functions' and instances' namespaces mark
theirs): Cloudlet's control endpoints do not exist for them, and the default root keys
(`test`, a 12-digit key id) are unknown keys there. Driven as ASGI on the assembled app."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import urlencode, urlsplit

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from cloudlet.config import Settings
from cloudlet.server import build_app

HOST = "127.0.0.1:4566"
FORM = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    gateway = build_app(Settings(), tmp_path_factory.mktemp("data"))
    yield gateway
    gateway.on_stop()


def call(app, method: str, url: str, body: bytes = b"", headers: dict | None = None,
         origin: str | None = None) -> tuple[int, dict, bytes]:
    split = urlsplit(url)
    headers = {"Host": HOST, **(headers or {})}
    if body:
        headers["Content-Length"] = str(len(body))
    scope = {"type": "http", "method": method, "path": split.path,
             "raw_path": split.path.encode(), "query_string": split.query.encode(),
             "scheme": "http", "client": ("10.0.0.5", 40000),
             "headers": [(k.lower().encode(), str(v).encode()) for k, v in headers.items()]}
    if origin is not None:
        scope["cloudlet.origin"] = origin
    inbox = [{"type": "http.request", "body": body, "more_body": False}]
    sent = []

    async def receive():
        return inbox.pop(0) if inbox else {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return (sent[0]["status"], {k.decode(): v.decode() for k, v in sent[0]["headers"]},
            b"".join(m.get("body", b"") for m in sent[1:]))


def signed(app, method: str, path: str, service: str, body: bytes | str = b"",
           headers: dict | None = None, key: str = "test", secret: str = "test",
           token: str | None = None, origin: str | None = None):
    aws = AWSRequest(method=method, url=f"http://{HOST}{path}", data=body,
                     headers=dict(headers or {}))
    SigV4Auth(Credentials(key, secret, token), service, "us-east-1").add_auth(aws)
    data = body.encode() if isinstance(body, str) else body
    return call(app, method, aws.url, data, dict(aws.headers.items()), origin)


def query(app, service: str, action: str, version: str, origin=None, **credentials):
    body = f"Action={action}&Version={version}"
    return signed(app, "POST", "/", service, body, FORM, origin=origin, **credentials)


def code_of(body: bytes) -> str:
    text = body.decode()
    if text.startswith("{"):
        document = json.loads(text)
        return document.get("__type") or document.get("code")
    return text.split("<Code>")[1].split("</Code>")[0]


def test_default_root_keys_are_unknown_keys_from_inside_the_cloud(app):
    status, _, body = query(app, "sts", "GetCallerIdentity", "2011-06-15")
    assert status == 200 and b"arn:aws:iam::000000000000:root" in body
    for key in ("test", "123456789012"):
        status, _, body = query(app, "sts", "GetCallerIdentity", "2011-06-15", "cloud", key=key)
        assert (status, code_of(body)) == (403, "InvalidClientTokenId")
        assert b"The security token included in the request is invalid." in body
        status, _, body = signed(app, "GET", "/", "s3", key=key, origin="cloud")
        assert (status, code_of(body)) == (403, "InvalidAccessKeyId")
        status, _, body = signed(app, "POST", "/", "logs", "{}", {
            "X-Amz-Target": "Logs_20140328.DescribeLogGroups",
            "Content-Type": "application/x-amz-json-1.1"}, key=key, origin="cloud")
        assert (status, code_of(body)) == (403, "UnrecognizedClientException")


def fields(body: bytes, *names: str) -> list[str]:
    return [body.split(f"<{n}>".encode())[1].split(f"</{n}>".encode())[0].decode() for n in names]


def iam(app, action: str, **params) -> bytes:
    body = f"Action={action}&Version=2010-05-08&" + urlencode(params)
    status, _, answer = signed(app, "POST", "/", "iam", body, FORM)
    assert status == 200, answer
    return answer


def test_users_keys_and_role_sessions_work_from_inside_the_cloud(app):
    iam(app, "CreateUser", UserName="inside")
    key, secret = fields(iam(app, "CreateAccessKey", UserName="inside"),
                         "AccessKeyId", "SecretAccessKey")
    status, _, body = query(app, "sts", "GetCallerIdentity", "2011-06-15", "cloud",
                            key=key, secret=secret)
    assert status == 200 and b":user/inside" in body

    user = "arn:aws:iam::000000000000:user/inside"
    iam(app, "CreateRole", RoleName="inside-role", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": user}, "Action": "sts:AssumeRole"}]}))
    iam(app, "PutUserPolicy", UserName="inside", PolicyName="assume", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    status, _, body = signed(app, "POST", "/", "sts", "Action=AssumeRole&RoleSessionName=inside"
                             "&RoleArn=arn:aws:iam::000000000000:role/inside-role"
                             "&Version=2011-06-15", FORM, key=key, secret=secret, origin="cloud")
    assert status == 200, body
    session_key, session_secret, token = fields(body, "AccessKeyId", "SecretAccessKey",
                                                "SessionToken")
    status, _, body = query(app, "sts", "GetCallerIdentity", "2011-06-15", "cloud",
                            key=session_key, secret=session_secret, token=token)
    assert status == 200 and b":assumed-role/inside-role/inside" in body


CONTROL = [("GET", "/_cloudlet/clock", b""), ("POST", "/_cloudlet/clock", b'{"advance": 1}'),
           ("POST", "/_cloudlet/shutdown", b""), ("GET", "/_cloudlet/sns/mail", b""),
           ("GET", "/_cloudlet/sns/deliveries", b""),
           ("POST", "/_cloudlet/oidc/token", b'{"sub": "x"}'), ("GET", "/_cloudlet/nothing", b"")]


@pytest.mark.parametrize("method,path,body", CONTROL)
def test_control_endpoints_do_not_exist_from_inside_the_cloud(app, method, path, body):
    status, _, answer = signed(app, method, path, "cloudlet", body, origin="cloud")
    assert (status, json.loads(answer)["code"]) == (404, "NotFound")
    status, _, answer = call(app, method, path, body, origin="cloud")
    assert status == 404


def test_control_endpoints_answer_the_hosts_root(app):
    status, _, answer = signed(app, "GET", "/_cloudlet/clock", "cloudlet")
    assert status == 200 and "offset_seconds" in json.loads(answer)
    status, _, answer = signed(app, "GET", "/_cloudlet/sns/mail", "cloudlet")
    assert (status, json.loads(answer)) == (200, {"messages": []})


def test_public_endpoints_answer_inside_the_cloud(app):
    assert call(app, "GET", "/_cloudlet/health", origin="cloud")[0] == 200
    status, _, pem = call(app, "GET", "/_cloudlet/sns/SimpleNotificationService.pem",
                          origin="cloud")
    assert status == 200 and pem.startswith(b"-----BEGIN CERTIFICATE-----")
    status, _, jwks = call(app, "GET", "/_cloudlet/oidc/jwks", origin="cloud")
    assert status == 200 and json.loads(jwks)["keys"]
