"""Cloudlet's control endpoints (/_cloudlet/clock, shutdown, the mailbox, OIDC tokens):
SigV4 calls for the signing name `cloudlet`, by the root of an account, never from a
browser; health, SNS's certificate and the OIDC issuer's documents stay public. The clock
takes only a finite, non-negative number of seconds, at most 10 years."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import requests
from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from harness import REPO, unique

CONTROL_CALLS = [("GET", "/_cloudlet/clock", None), ("POST", "/_cloudlet/clock", {"advance": 1}),
                 ("POST", "/_cloudlet/shutdown", None), ("GET", "/_cloudlet/sns/mail", None),
                 ("GET", "/_cloudlet/sns/deliveries", None),
                 ("POST", "/_cloudlet/oidc/token", {"sub": "repo:evil/app"})]


def offset(server) -> float:
    return server.control("GET", "/_cloudlet/clock").json()["offset_seconds"]


@pytest.mark.parametrize("method,path,body", CONTROL_CALLS)
def test_a_control_call_without_a_signature_is_refused(cloudlet, method, path, body):
    before = offset(cloudlet)
    reply = requests.request(method, cloudlet.endpoint + path, json=body, timeout=10)
    assert (reply.status_code, reply.json()["code"]) == (403, "MissingAuthenticationToken")
    assert "access-control-allow-origin" not in reply.headers
    assert cloudlet.healthy() and offset(cloudlet) == before


def test_public_endpoints_need_no_signature(cloudlet):
    assert requests.get(cloudlet.endpoint + "/_cloudlet/health", timeout=10).status_code == 200
    pem = requests.get(cloudlet.endpoint + "/_cloudlet/sns/SimpleNotificationService.pem",
                       timeout=10)
    assert pem.status_code == 200 and pem.text.startswith("-----BEGIN CERTIFICATE-----")
    issuer = cloudlet.endpoint + "/_cloudlet/oidc"
    discovery = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    assert discovery["issuer"] == issuer
    assert requests.get(discovery["jwks_uri"], timeout=10).json()["keys"]


def test_a_web_page_cannot_act_through_the_control_endpoints(cloudlet):
    """A form POST a page submits cross-site (a simple request: no preflight) fails; so
    does one a page signed itself (everyone knows test/test) and a presigned link; no
    control endpoint answers a CORS preflight."""
    before = offset(cloudlet)
    page = {"Origin": "http://evil.example", "Content-Type": "text/plain"}
    for path in ("/_cloudlet/shutdown", "/_cloudlet/clock"):
        simple = requests.post(cloudlet.endpoint + path, data='{"advance": 1}', headers=page,
                               timeout=10)
        assert simple.status_code == 403
        assert "access-control-allow-origin" not in simple.headers
        signed = cloudlet.control("POST", path, '{"advance": 1}', headers={
            "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"})
        assert (signed.status_code, signed.json()["code"]) == (403, "AccessDenied")
        preflight = requests.options(cloudlet.endpoint + path, headers={
            "Origin": "http://evil.example", "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,x-amz-date"}, timeout=10)
        assert preflight.status_code >= 400
        assert not [h for h in preflight.headers if h.lower().startswith("access-control-")]
    link = AWSRequest(method="POST", url=cloudlet.endpoint + "/_cloudlet/shutdown")
    SigV4QueryAuth(Credentials("test", "test"), "cloudlet", "us-east-1", 300).add_auth(link)
    presigned = requests.post(link.url, timeout=10)
    assert (presigned.status_code, presigned.json()["code"]) == (403, "AccessDenied")
    assert cloudlet.healthy() and offset(cloudlet) == before


def test_only_the_root_of_an_account_makes_control_calls(cloudlet):
    iam = cloudlet.client("iam")
    name = unique("admin")
    iam.create_user(UserName=name)
    iam.attach_user_policy(UserName=name, PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    key = iam.create_access_key(UserName=name)["AccessKey"]
    user = cloudlet.control("GET", "/_cloudlet/clock", key=key["AccessKeyId"],
                            secret=key["SecretAccessKey"])
    assert (user.status_code, user.json()["code"]) == (403, "AccessDenied")
    assert f":user/{name} is not authorized" in user.json()["message"]
    forged = cloudlet.control("GET", "/_cloudlet/clock", secret="not-test")
    assert (forged.status_code, forged.json()["code"]) == (403, "SignatureDoesNotMatch")
    scoped = cloudlet.control("GET", "/_cloudlet/clock", signing_name="sts")
    assert (scoped.status_code, scoped.json()["code"]) == (403, "SignatureDoesNotMatch")
    assert "scoped to correct service: 'cloudlet'" in scoped.json()["message"]
    assert cloudlet.control("GET", "/_cloudlet/clock", key="123456789012").status_code == 200


BAD_ADVANCES = ['{"advance": NaN}', '{"advance": Infinity}', '{"advance": -Infinity}',
                '{"advance": -1}', '{"advance": "60"}', '{"advance": true}', '{"advance": null}',
                '{"advance": 1e400}', '{"advance": 100000000000000000000}',
                '{"advance": 347155200}', '{"advance": [60]}', '{}', '[60]', 'sixty',
                '{"advance": 60, "also": 1}']


def test_bad_clock_values_get_a_400_and_change_nothing(fresh_cloudlet):
    server = fresh_cloudlet()
    iam = server.client("iam")
    for body in BAD_ADVANCES:
        reply = server.control("POST", "/_cloudlet/clock", body,
                               headers={"Content-Type": "application/json"})
        assert (reply.status_code, reply.json()["code"]) == (400, "ValidationError"), body
        assert offset(server) == 0
    # writes go on, and answer what they did
    user = iam.create_user(UserName="after-bad-clock")["User"]
    assert iam.get_user(UserName="after-bad-clock")["User"]["CreateDate"] == user["CreateDate"]
    server.client("s3").create_bucket(Bucket="after-bad-clock")
    # ten years at once is the most; the clock never runs more than 100 years ahead
    assert server.advance_clock(10 * 365 * 86400)["offset_seconds"] == 10 * 365 * 86400
    assert iam.get_user(UserName="after-bad-clock")["User"]["UserName"] == "after-bad-clock"
    for _ in range(9):
        server.advance_clock(10 * 365 * 86400)
    assert server.control("POST", "/_cloudlet/clock", {"advance": 1}).status_code == 400
    iam.create_user(UserName="a-century-later")
    assert iam.get_user(UserName="a-century-later")["User"]["CreateDate"].year >= 2100


def cli(server, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cloudlet", *args, "--port", str(server.port)],
                          capture_output=True, text=True, cwd=REPO, timeout=60,
                          env={**os.environ, **(env or {})})


def test_the_cli_signs_its_control_calls(fresh_cloudlet):
    server = fresh_cloudlet()
    root = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}
    shown = cli(server, "clock", env=root)
    assert shown.returncode == 0 and "(offset 0 s)" in shown.stdout
    moved = cli(server, "clock", "--advance", "3600", env=root)
    assert moved.returncode == 0 and "(offset 3600 s)" in moved.stdout
    assert offset(server) == 3600
    refused = cli(server, "clock", "--advance", "nan", env=root)
    assert refused.returncode == 1 and "ValidationError" in refused.stderr
    assert offset(server) == 3600

    iam = server.client("iam")
    iam.create_user(UserName="not-root")
    key = iam.create_access_key(UserName="not-root")["AccessKey"]
    as_user = {"AWS_ACCESS_KEY_ID": key["AccessKeyId"],
               "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}
    for args in (("clock", "--advance", "60"), ("mail",), ("oidc", "token", "--sub", "x"),
                 ("down",)):
        denied = cli(server, *args, env=as_user)
        assert denied.returncode == 1 and "AccessDenied" in denied.stderr, args
    assert server.healthy() and offset(server) == 3600
    token = cli(server, "oidc", "token", "--sub", "repo:org/app",
                env={"AWS_ACCESS_KEY_ID": "123456789012", "AWS_SECRET_ACCESS_KEY": "test"})
    assert token.returncode == 0 and token.stdout.count(".") == 2
    assert cli(server, "mail", env=root).stdout.strip() == "No mail."
    assert cli(server, "down", env=root).returncode == 0
    assert server.proc.wait(30) == 0


def test_a_token_is_minted_only_for_a_control_call(cloudlet):
    unsigned = requests.post(cloudlet.endpoint + "/_cloudlet/oidc/token",
                             data=json.dumps({"sub": "repo:evil/app"}), timeout=10)
    assert unsigned.status_code == 403 and "token" not in unsigned.json()
    for ttl in ("1e400", "NaN", '"60"', "true", "1000000000000", "1.5"):
        bad = cloudlet.control("POST", "/_cloudlet/oidc/token", f'{{"sub": "x", "ttl": {ttl}}}',
                               headers={"Content-Type": "application/json"})
        assert (bad.status_code, bad.json()["code"]) == (400, "ValidationError"), ttl
    minted = cloudlet.control("POST", "/_cloudlet/oidc/token", {"sub": "repo:org/app"})
    assert minted.status_code == 200 and minted.json()["issuer"].endswith("/_cloudlet/oidc")
