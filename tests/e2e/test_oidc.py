"""AssumeRoleWithWebIdentity with IAM OIDC providers and Cloudlet's local issuer: the
token comes from `cloudlet oidc token`, the keys from /_cloudlet/oidc/jwks, and the trust
policy is conditioned on the issuer's `:sub` and `:aud` keys, as for GitHub Actions."""

from __future__ import annotations

import base64
import json
import random
import subprocess
import sys
import uuid

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

SUB = "repo:org/app:ref:refs/heads/main"


def b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def mint(cloudlet, sub: str = SUB, *extra: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "cloudlet", "oidc", "token", "--sub", sub,
         "--host", "127.0.0.1", "--port", str(cloudlet.port), *extra],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def claims_of(token: str) -> dict:
    return json.loads(b64decode(token.split(".")[1]))


@pytest.fixture
def setup(cloudlet):
    """A fresh account with the local issuer registered and a role trusting it for SUB."""
    account = f"{random.randrange(10**11, 10**12):012d}"
    issuer = f"{cloudlet.endpoint}/_cloudlet/oidc"
    host = issuer.split("://", 1)[1]
    iam = cloudlet.client("iam", aws_access_key_id=account)
    provider = iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    document = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Federated": provider},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "sts.amazonaws.com"},
                      "StringLike": {f"{host}:sub": "repo:org/app:*"}}}]}
    role = iam.create_role(RoleName=f"ci-{uuid.uuid4().hex[:8]}",
                           AssumeRolePolicyDocument=json.dumps(document))["Role"]
    return {"account": account, "issuer": issuer, "host": host, "provider": provider,
            "role": role, "iam": iam}


def web_identity(cloudlet, role_arn: str, token: str, **extra) -> dict:
    # No credentials: AssumeRoleWithWebIdentity is an unsigned call.
    sts = boto3.client("sts", endpoint_url=cloudlet.endpoint, region_name="us-east-1",
                       aws_access_key_id="unused", aws_secret_access_key="unused",
                       config=Config(retries={"max_attempts": 1}))
    return sts.assume_role_with_web_identity(RoleArn=role_arn, RoleSessionName="ci-run",
                                             WebIdentityToken=token, **extra)


def denied(cloudlet, role_arn: str, token: str) -> dict:
    with pytest.raises(ClientError) as e:
        web_identity(cloudlet, role_arn, token)
    return e.value.response


def test_provider_crud(cloudlet, setup):
    iam = setup["iam"]
    assert setup["provider"] == (
        f"arn:aws:iam::{setup['account']}:oidc-provider/{setup['host']}")
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=setup["provider"])
    assert got["Url"] == setup["host"] and got["ClientIDList"] == ["sts.amazonaws.com"]
    iam.add_client_id_to_open_id_connect_provider(
        OpenIDConnectProviderArn=setup["provider"], ClientID="my-app")
    thumbprint = "a" * 40
    iam.update_open_id_connect_provider_thumbprint(
        OpenIDConnectProviderArn=setup["provider"], ThumbprintList=[thumbprint])
    got = iam.get_open_id_connect_provider(OpenIDConnectProviderArn=setup["provider"])
    assert got["ClientIDList"] == ["sts.amazonaws.com", "my-app"]
    assert got["ThumbprintList"] == [thumbprint]
    listed = iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
    assert {"Arn": setup["provider"]} in listed
    with pytest.raises(ClientError) as e:
        iam.create_open_id_connect_provider(Url=setup["issuer"], ClientIDList=["x"])
    assert e.value.response["Error"]["Code"] == "EntityAlreadyExists"
    iam.delete_open_id_connect_provider(OpenIDConnectProviderArn=setup["provider"])
    with pytest.raises(ClientError) as e:
        iam.get_open_id_connect_provider(OpenIDConnectProviderArn=setup["provider"])
    assert e.value.response["Error"]["Code"] == "NoSuchEntity"


def test_discovery_and_jwks_verify_the_cli_token(cloudlet):
    token = mint(cloudlet, SUB, "--aud", "sts.amazonaws.com", "--ttl", "600")
    issuer = f"{cloudlet.endpoint}/_cloudlet/oidc"
    config = requests.get(f"{issuer}/.well-known/openid-configuration", timeout=10).json()
    assert config["issuer"] == issuer
    keys = requests.get(config["jwks_uri"], timeout=10).json()["keys"]
    header_b64, payload_b64, signature_b64 = token.split(".")
    header = json.loads(b64decode(header_b64))
    key = next(k for k in keys if k["kid"] == header["kid"])
    public = rsa.RSAPublicNumbers(int.from_bytes(b64decode(key["e"]), "big"),
                                  int.from_bytes(b64decode(key["n"]), "big")).public_key()
    public.verify(b64decode(signature_b64), f"{header_b64}.{payload_b64}".encode(),
                  padding.PKCS1v15(), hashes.SHA256())  # raises if the signature is wrong
    claims = claims_of(token)
    assert (claims["iss"], claims["sub"], claims["aud"]) == (issuer, SUB, "sts.amazonaws.com")
    assert claims["exp"] - claims["iat"] == 600


def test_assume_role_with_web_identity(cloudlet, setup):
    token = mint(cloudlet)
    result = web_identity(cloudlet, setup["role"]["Arn"], token, DurationSeconds=900)
    assert result["SubjectFromWebIdentityToken"] == SUB
    assert result["Audience"] == "sts.amazonaws.com"
    assert result["Provider"] == setup["issuer"]
    arn = f"arn:aws:sts::{setup['account']}:assumed-role/{setup['role']['RoleName']}/ci-run"
    assert result["AssumedRoleUser"]["Arn"] == arn
    creds = result["Credentials"]
    sts = boto3.client("sts", endpoint_url=cloudlet.endpoint, region_name="us-east-1",
                       aws_access_key_id=creds["AccessKeyId"],
                       aws_secret_access_key=creds["SecretAccessKey"],
                       aws_session_token=creds["SessionToken"])
    identity = sts.get_caller_identity()
    assert (identity["Arn"], identity["Account"]) == (arn, setup["account"])


def test_aws_cli_assume_role_with_web_identity(cloudlet, setup):
    out = cloudlet.aws("sts", "assume-role-with-web-identity", "--role-arn",
                       setup["role"]["Arn"], "--role-session-name", "cli-run",
                       "--web-identity-token", mint(cloudlet), "--output", "json")
    assert json.loads(out.stdout)["AssumedRoleUser"]["Arn"].endswith("/cli-run")


def test_wrong_subject_is_access_denied(cloudlet, setup):
    response = denied(cloudlet, setup["role"]["Arn"], mint(cloudlet, "repo:evil/app:ref:main"))
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["Error"]["Message"] == (
        "Not authorized to perform sts:AssumeRoleWithWebIdentity")


def test_wrong_audience_is_invalid_identity_token(cloudlet, setup):
    response = denied(cloudlet, setup["role"]["Arn"],
                      mint(cloudlet, SUB, "--aud", "someone-else"))
    assert response["Error"]["Code"] == "InvalidIdentityToken"
    assert response["Error"]["Message"] == "Incorrect token audience"


def test_expired_token(cloudlet, setup):
    token = mint(cloudlet, SUB, "--ttl", "-30")
    response = denied(cloudlet, setup["role"]["Arn"], token)
    assert response["Error"]["Code"] == "ExpiredTokenException"
    assert response["Error"]["Message"].startswith("Token expired: current date/time ")
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_token_expires_on_the_service_clock(fresh_cloudlet):
    server = fresh_cloudlet()
    iam = server.client("iam")
    issuer = f"{server.endpoint}/_cloudlet/oidc"
    provider = iam.create_open_id_connect_provider(
        Url=issuer, ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    role = iam.create_role(RoleName="ci", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity"}]}))["Role"]
    token = mint(server, SUB, "--ttl", "300")
    assert web_identity(server, role["Arn"], token)["Credentials"]
    server.advance_clock(301)
    assert denied(server, role["Arn"], token)["Error"]["Code"] == "ExpiredTokenException"


def test_tampered_token_is_invalid(cloudlet, setup):
    header, payload, signature = mint(cloudlet, "repo:evil/app:ref:main").split(".")
    claims = json.loads(b64decode(payload))
    claims["sub"] = SUB  # pretend to be the trusted repository
    forged = f"{header}.{b64encode(json.dumps(claims).encode())}.{signature}"
    response = denied(cloudlet, setup["role"]["Arn"], forged)
    assert response["Error"]["Code"] == "InvalidIdentityToken"
    assert denied(cloudlet, setup["role"]["Arn"], "not.a.jwt")["Error"]["Code"] == (
        "InvalidIdentityToken")


def test_unregistered_and_unreachable_issuers(cloudlet, setup):
    def unsigned(iss: str) -> str:
        head = b64encode(json.dumps({"alg": "RS256", "kid": "k"}).encode())
        body = b64encode(json.dumps({"iss": iss, "sub": SUB, "aud": "sts.amazonaws.com",
                                     "exp": 4102444800}).encode())
        return f"{head}.{body}.{b64encode(b'sig')}"

    github = "https://token.actions.githubusercontent.com"
    response = denied(cloudlet, setup["role"]["Arn"], unsigned(github))
    assert response["Error"]["Code"] == "InvalidIdentityToken"
    assert response["Error"]["Message"] == f"No OpenIDConnect provider found in your account for {github}"
    setup["iam"].create_open_id_connect_provider(Url=github, ClientIDList=["sts.amazonaws.com"])
    response = denied(cloudlet, setup["role"]["Arn"], unsigned(github))
    assert response["Error"]["Code"] == "InvalidIdentityToken"
    assert response["Error"]["Message"].startswith(
        "Couldn't retrieve verification key from your identity provider")


def test_provider_registered_with_https_matches_by_host_and_path(cloudlet):
    # Terraform's aws_iam_openid_connect_provider accepts only https URLs; IAM names a
    # provider by host and path, so the local issuer's tokens still find it.
    account = f"{random.randrange(10**11, 10**12):012d}"
    host = f"{cloudlet.endpoint}/_cloudlet/oidc".split("://", 1)[1]
    iam = cloudlet.client("iam", aws_access_key_id=account)
    provider = iam.create_open_id_connect_provider(
        Url=f"https://{host}", ClientIDList=["sts.amazonaws.com"])["OpenIDConnectProviderArn"]
    role = iam.create_role(RoleName=f"ci-{uuid.uuid4().hex[:8]}", AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Federated": provider},
            "Action": "sts:AssumeRoleWithWebIdentity"}]}))["Role"]
    result = web_identity(cloudlet, role["Arn"], mint(cloudlet))
    assert result["AssumedRoleUser"]["Arn"].startswith(f"arn:aws:sts::{account}:assumed-role/")


@pytest.mark.parametrize("claims", [
    {"aud": 5}, {"aud": [["sts.amazonaws.com"]]}, {"sub": ""}, {"sub": {"x": 1}},
    {"exp": "tomorrow"}, {"exp": None}, {"exp": float("-inf")}, {"nbf": 4102444800},
    {"nbf": float("nan")},
])
def test_signed_tokens_with_odd_claims_are_invalid(cloudlet, setup, claims):
    body = json.dumps({"sub": SUB, "claims": claims})  # allows NaN and -Infinity
    reply = cloudlet.control("POST", "/_cloudlet/oidc/token", body)
    response = denied(cloudlet, setup["role"]["Arn"], reply.json()["token"])
    assert response["Error"]["Code"] == "InvalidIdentityToken"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 400
