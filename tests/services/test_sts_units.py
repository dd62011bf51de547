"""STS's pure pieces: trust-policy decisions, key ids that carry their account, the local
OIDC issuer's tokens, and service-assumed role sessions against a real store."""

from __future__ import annotations

import json

import pytest

from cloudlet import clock, key_ids, oidc_urls
from cloudlet.policy.trust import federated, principal_of, service, trust_allows
from cloudlet.principals import Credential
from cloudlet.services.sts import oidc

ROLE = "arn:aws:iam::111111111111:role/app"


def doc(*statements) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def allow(principal, action="sts:AssumeRole", **extra) -> dict:
    return {"Effect": "Allow", "Principal": principal, "Action": action, **extra}


def user(name="alice", account="111111111111") -> Credential:
    return Credential("AKIAEXAMPLE", "s", account, f"arn:aws:iam::{account}:user/{name}",
                      kind="user", user_id="AIDAEXAMPLE", name=name)


def session(role="app", account="111111111111") -> Credential:
    return Credential("ASIAEXAMPLE", "s", account,
                      f"arn:aws:sts::{account}:assumed-role/{role}/s1", session_token="t",
                      kind="assumed-role", user_id="AROAEXAMPLE:s1", name=role,
                      session={"role_arn": f"arn:aws:iam::{account}:role/{role}"})


@pytest.mark.parametrize("principal,caller,expected", [
    ({"AWS": "111111111111"}, user(), True),
    ({"AWS": "arn:aws:iam::111111111111:root"}, user(), True),
    ({"AWS": "arn:aws:iam::111111111111:user/alice"}, user(), True),
    ({"AWS": "arn:aws:iam::111111111111:user/bob"}, user(), False),
    ({"AWS": "222222222222"}, user(), False),
    ({"AWS": "*"}, user(account="999999999999"), True),
    ({"AWS": "arn:aws:iam::111111111111:role/app"}, session(), True),
    ({"AWS": "arn:aws:iam::111111111111:role/other"}, session(), False),
    ({"Service": "lambda.amazonaws.com"}, user(), False),
])
def test_principals(principal, caller, expected):
    assert trust_allows(doc(allow(principal)), "sts:AssumeRole", ROLE,
                        principal_of(caller, {}), {}) is expected


def test_action_must_match():
    policy = doc(allow({"AWS": "111111111111"}))
    p = principal_of(user(), {})
    assert not trust_allows(policy, "sts:TagSession", ROLE, p, {})
    assert trust_allows(doc(allow({"AWS": "111111111111"}, "sts:*")), "sts:TagSession",
                        ROLE, p, {})
    assert not trust_allows(doc({"Effect": "Allow", "Principal": {"AWS": "111111111111"},
                                 "NotAction": "sts:TagSession"}),
                            "sts:TagSession", ROLE, p, {})


def test_conditions_and_explicit_deny():
    policy = doc(allow({"AWS": "111111111111"},
                       Condition={"StringEquals": {"sts:ExternalId": "xyz"}}),
                 {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
                  "Condition": {"StringEquals": {"aws:PrincipalTag/team": "red"}}})
    p = principal_of(user(), {"team": "blue"})
    assert trust_allows(policy, "sts:AssumeRole", ROLE, p, {"sts:ExternalId": "xyz"})
    assert not trust_allows(policy, "sts:AssumeRole", ROLE, p, {"sts:ExternalId": "abc"})
    assert not trust_allows(policy, "sts:AssumeRole", ROLE, p, {})
    red = principal_of(user(), {"team": "red"})
    assert not trust_allows(policy, "sts:AssumeRole", ROLE, red, {"sts:ExternalId": "xyz"})


def test_not_principal_naming_a_role_keeps_its_sessions():
    policy = doc({"Effect": "Allow", "NotPrincipal": {"AWS": "arn:aws:iam::111111111111:role/app"},
                  "Action": "sts:AssumeRole"})
    assert trust_allows(policy, "sts:AssumeRole", ROLE, principal_of(session(), {}), {})
    own = doc({"Effect": "Allow",
               "NotPrincipal": {"AWS": "arn:aws:sts::111111111111:assumed-role/app/s1"},
               "Action": "sts:AssumeRole"})
    assert not trust_allows(own, "sts:AssumeRole", ROLE, principal_of(session(), {}), {})


def test_service_and_federated_principals():
    policy = doc(allow({"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]}))
    assert trust_allows(policy, "sts:AssumeRole", ROLE, service("lambda.amazonaws.com"), {})
    assert not trust_allows(policy, "sts:AssumeRole", ROLE, service("s3.amazonaws.com"), {})
    provider = "arn:aws:iam::111111111111:oidc-provider/token.actions.githubusercontent.com"
    web = doc(allow({"Federated": provider}, "sts:AssumeRoleWithWebIdentity", Condition={
        "StringLike": {"token.actions.githubusercontent.com:sub": "repo:org/*"}}))
    p = federated(provider, "111111111111")
    key = "token.actions.githubusercontent.com:sub"
    assert trust_allows(web, "sts:AssumeRoleWithWebIdentity", ROLE, p,
                        {key: "repo:org/app:ref:refs/heads/main"})
    assert not trust_allows(web, "sts:AssumeRoleWithWebIdentity", ROLE, p,
                            {key: "repo:evil/app:ref:refs/heads/main"})
    assert not trust_allows(web, "sts:AssumeRoleWithWebIdentity", ROLE,
                            principal_of(user(), {}), {key: "repo:org/x"})


def test_key_ids_carry_their_account():
    for account in ("000000000000", "123456789012", "999999999999"):
        key = key_ids.new_key_id(account)
        assert key.startswith("ASIA") and len(key) == 20
        assert key_ids.account_of_key(key) == account
    assert key_ids.account_of_key("AKIA!!!!") is None
    assert key_ids.account_of_key("ASIAY34FZKBOKMUTVV7A") == "609629065308"


def test_local_issuer_mints_and_verifies(tmp_path):
    issuer = oidc.LocalIssuer(tmp_path / "oidc")
    url = "http://127.0.0.1:4566/_cloudlet/oidc"
    token = issuer.mint(url, sub="repo:o/a", aud="sts.amazonaws.com", ttl=60)
    parsed = oidc.parse(token)
    issuer.verify(parsed)
    assert parsed.claims["exp"] == parsed.claims["iat"] + 60
    assert parsed.claims["iat"] == pytest.approx(clock.timestamp(), abs=5)
    # the key is kept: a second issuer on the same directory verifies the first's tokens
    oidc.LocalIssuer(tmp_path / "oidc").verify(parsed)
    other = oidc.LocalIssuer(tmp_path / "other")
    with pytest.raises(oidc.TokenError):
        other.verify(parsed)
    with pytest.raises(oidc.TokenError):
        oidc.parse("a.b")
    assert oidc_urls.provider_path("https://Token.Example.com/id/") == "token.example.com/id"
    assert oidc_urls.is_local(url) and not oidc_urls.is_local("https://token.example.com")


def test_service_session_needs_the_service_in_the_trust_policy(tmp_path):
    from cloudlet.errors import ServiceError
    from cloudlet.services.base import RequestContext
    from cloudlet.services.iam.provider import IamProvider
    from cloudlet.services.sts.provider import StsProvider
    from cloudlet.store import Store

    store = Store.open(tmp_path)
    iam, sts = IamProvider(store), StsProvider(store)
    sts.attach({"iam": iam, "sts": sts})
    ctx = RequestContext("iam", "CreateRole", "us-east-1", "000000000000", "r",
                         caller=Credential("test", "test", "000000000000",
                                           "arn:aws:iam::000000000000:root"))
    role = iam.create_role(ctx, {"RoleName": "fn", "AssumeRolePolicyDocument": doc(
        allow({"Service": "lambda.amazonaws.com"}))})["Role"]
    credential = sts.service_session(role["Arn"], "lambda.amazonaws.com", "fn", 900)
    assert credential.arn == "arn:aws:sts::000000000000:assumed-role/fn/fn"
    assert credential.kind == "assumed-role" and credential.access_key_id.startswith("ASIA")
    assert sts.credential_for(credential.access_key_id) == credential
    with pytest.raises(ServiceError) as e:
        sts.service_session(role["Arn"], "ec2.amazonaws.com", "i-1")
    assert e.value.code == "AccessDenied"
    store.close()
