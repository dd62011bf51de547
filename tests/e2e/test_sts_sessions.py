"""STS temporary credentials end to end: AssumeRole against real trust policies,
GetSessionToken, GetFederationToken, expiry on the service clock, GetAccessKeyInfo and
DecodeAuthorizationMessage, through boto3 and the AWS CLI."""

from __future__ import annotations

import datetime as dt
import json
import random
import urllib.request

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from harness import unique

ACCOUNT = "000000000000"


def other_account() -> str:
    return f"{random.randrange(10**11, 10**12):012d}"


def trust(principal: dict, action: str | list = "sts:AssumeRole", condition: dict | None = None,
          effect: str = "Allow") -> str:
    statement = {"Effect": effect, "Principal": principal, "Action": action}
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def make_role(cloudlet, document: str, account_key: str = "test", **extra) -> dict:
    iam = cloudlet.client("iam", aws_access_key_id=account_key)
    return iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument=document,
                           **extra)["Role"]


def session_client(cloudlet, service: str, credentials: dict):
    return boto3.client(
        service, endpoint_url=cloudlet.endpoint, region_name="us-east-1",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        config=Config(retries={"max_attempts": 1}))


def error_of(call, *args, **kwargs) -> dict:
    with pytest.raises(ClientError) as e:
        call(*args, **kwargs)
    return e.value.response


def advance_clock(cloudlet, seconds: float) -> None:
    cloudlet.advance_clock(seconds)


# -- AssumeRole -------------------------------------------------------------------------

def test_assume_role_gives_a_session_that_knows_who_it_is(cloudlet):
    role = make_role(cloudlet, trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    result = cloudlet.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="alice@ci")
    creds = result["Credentials"]
    assert creds["AccessKeyId"].startswith("ASIA") and len(creds["AccessKeyId"]) == 20
    assert len(creds["SecretAccessKey"]) == 40 and len(creds["SessionToken"]) > 100
    lifetime = creds["Expiration"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=55) < lifetime <= dt.timedelta(hours=1, minutes=1)
    user = result["AssumedRoleUser"]
    assert user["Arn"] == f"arn:aws:sts::{ACCOUNT}:assumed-role/{role['RoleName']}/alice@ci"
    assert user["AssumedRoleId"] == f"{role['RoleId']}:alice@ci"
    assert "PackedPolicySize" not in result

    identity = session_client(cloudlet, "sts", creds).get_caller_identity()
    assert (identity["Arn"], identity["UserId"], identity["Account"]) == (
        user["Arn"], user["AssumedRoleId"], ACCOUNT)
    assert role["RoleId"].startswith("AROA")


def test_aws_cli_assume_role(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    out = json.loads(cloudlet.aws("sts", "assume-role", "--role-arn", role["Arn"],
                                  "--role-session-name", "cli", "--duration-seconds", "900",
                                  "--output", "json").stdout)
    assert out["AssumedRoleUser"]["Arn"].endswith(f":assumed-role/{role['RoleName']}/cli")
    creds = out["Credentials"]
    who = json.loads(cloudlet.aws("sts", "get-caller-identity", "--output", "json", env={
        "AWS_ACCESS_KEY_ID": creds["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": creds["SecretAccessKey"],
        "AWS_SESSION_TOKEN": creds["SessionToken"]}).stdout)
    assert who["Arn"] == out["AssumedRoleUser"]["Arn"]


def test_external_id_condition(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT},
                                     condition={"StringEquals": {"sts:ExternalId": "s3cret"}}))
    sts = cloudlet.client("sts")
    for wrong in ({"ExternalId": "guess"}, {}):
        response = error_of(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="s1", **wrong)
        assert response["Error"]["Code"] == "AccessDenied"
        assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
        assert response["Error"]["Message"] == (
            f"User: arn:aws:iam::{ACCOUNT}:root is not authorized to perform: sts:AssumeRole "
            f"on resource: {role['Arn']}")
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1",
                           ExternalId="s3cret")["AssumedRoleUser"]


def test_trust_policy_that_names_someone_else_denies(cloudlet):
    role = make_role(cloudlet, trust({"AWS": "arn:aws:iam::111122223333:root"}))
    response = error_of(cloudlet.client("sts").assume_role, RoleArn=role["Arn"],
                        RoleSessionName="s1")
    assert response["Error"]["Code"] == "AccessDenied"


def test_explicit_deny_in_trust_policy_wins(cloudlet):
    document = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"},
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole",
         "Condition": {"StringLike": {"sts:RoleSessionName": "blocked-*"}}}]})
    role = make_role(cloudlet, document)
    sts = cloudlet.client("sts")
    assert sts.assume_role(RoleArn=role["Arn"], RoleSessionName="fine")["Credentials"]
    response = error_of(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="blocked-1")
    assert response["Error"]["Code"] == "AccessDenied"


def test_missing_role_is_access_denied(cloudlet):
    arn = f"arn:aws:iam::{ACCOUNT}:role/{unique('nope')}"
    response = error_of(cloudlet.client("sts").assume_role, RoleArn=arn, RoleSessionName="s1")
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["Error"]["Message"].endswith(f"sts:AssumeRole on resource: {arn}")


def test_cross_account_caller_named_by_trust(cloudlet):
    caller_account = other_account()
    role = make_role(cloudlet, trust({"AWS": f"arn:aws:iam::{caller_account}:root"}))
    sts = cloudlet.client("sts", aws_access_key_id=caller_account)
    result = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="xa")
    identity = session_client(cloudlet, "sts", result["Credentials"]).get_caller_identity()
    assert identity["Account"] == ACCOUNT  # the session belongs to the role's account


def test_duration_is_limited_by_the_role(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}), MaxSessionDuration=7200)
    sts = cloudlet.client("sts")
    response = error_of(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="s1",
                        DurationSeconds=7201)
    assert response["Error"]["Code"] == "ValidationError"
    assert response["Error"]["Message"] == (
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1",
                            DurationSeconds=7200)["Credentials"]
    lifetime = creds["Expiration"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(hours=1, minutes=55) < lifetime <= dt.timedelta(hours=2, minutes=1)


def test_role_chaining_is_limited_to_one_hour(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}), MaxSessionDuration=43200)
    cloudlet.client("iam").put_role_policy(
        RoleName=role["RoleName"], PolicyName="chain", PolicyDocument=json.dumps({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    first = cloudlet.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="one")
    chained = session_client(cloudlet, "sts", first["Credentials"])
    response = error_of(chained.assume_role, RoleArn=role["Arn"], RoleSessionName="two",
                        DurationSeconds=7200)
    assert response["Error"]["Code"] == "ValidationError"
    assert "1 hour session limit for roles assumed by role chaining" in response["Error"]["Message"]
    second = chained.assume_role(RoleArn=role["Arn"], RoleSessionName="two")
    assert second["AssumedRoleUser"]["Arn"].endswith("/two")


def test_session_policy_is_validated_and_sized(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    sts = cloudlet.client("sts")
    policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iam:ListRoles", "Resource": "*"}]})
    result = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="s1", Policy=policy,
                             PolicyArns=[{"arn": "arn:aws:iam::aws:policy/ReadOnlyAccess"}])
    assert 0 < result["PackedPolicySize"] <= 100
    malformed = error_of(sts.assume_role, RoleArn=role["Arn"], RoleSessionName="s1",
                         Policy='{"Version": "2012-10-17", "Statement": [{"Action": "s3:*"}]}')
    assert malformed["Error"]["Code"] == "MalformedPolicyDocument"


def test_session_policy_allows_only_the_intersection(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    cloudlet.client("iam").put_role_policy(
        RoleName=role["RoleName"], PolicyName="lists", PolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [
                {"Effect": "Allow", "Action": ["iam:ListRoles", "iam:ListUsers"],
                 "Resource": "*"}]}))
    session_policy = json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["iam:ListRoles", "iam:ListGroups"], "Resource": "*"}]})
    creds = cloudlet.client("sts").assume_role(
        RoleArn=role["Arn"], RoleSessionName="narrow", Policy=session_policy)["Credentials"]
    iam = session_client(cloudlet, "iam", creds)
    assert "Roles" in iam.list_roles()  # both allow
    for call in (iam.list_users, iam.list_groups):  # only one side allows
        assert error_of(call)["Error"]["Code"] == "AccessDenied"


def test_session_tags_and_source_identity_need_trust(cloudlet):
    sts = cloudlet.client("sts")
    plain = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    denied = error_of(sts.assume_role, RoleArn=plain["Arn"], RoleSessionName="s1",
                      Tags=[{"Key": "team", "Value": "blue"}])
    assert denied["Error"]["Code"] == "AccessDenied"
    assert "sts:TagSession" in denied["Error"]["Message"]

    tagging = make_role(cloudlet, trust(
        {"AWS": ACCOUNT}, ["sts:AssumeRole", "sts:TagSession", "sts:SetSourceIdentity"],
        condition={"StringEquals": {"aws:RequestTag/team": "blue"}}))
    result = sts.assume_role(RoleArn=tagging["Arn"], RoleSessionName="s1",
                             Tags=[{"Key": "team", "Value": "blue"}],
                             TransitiveTagKeys=["team"], SourceIdentity="alice")
    assert result["SourceIdentity"] == "alice"
    assert result["PackedPolicySize"] > 0
    wrong = error_of(sts.assume_role, RoleArn=tagging["Arn"], RoleSessionName="s1",
                     Tags=[{"Key": "team", "Value": "red"}])
    assert wrong["Error"]["Code"] == "AccessDenied"
    bad = error_of(sts.assume_role, RoleArn=tagging["Arn"], RoleSessionName="s1",
                   Tags=[{"Key": "team", "Value": "blue"}], TransitiveTagKeys=["other"])
    assert bad["Error"]["Code"] == "ValidationError"


def test_wrong_session_token_is_invalid_client_token_id(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    creds = dict(cloudlet.client("sts").assume_role(
        RoleArn=role["Arn"], RoleSessionName="s1")["Credentials"])
    creds["SessionToken"] = creds["SessionToken"][:-4] + "AAAA"
    response = error_of(session_client(cloudlet, "sts", creds).get_caller_identity)
    assert response["Error"]["Code"] == "InvalidClientTokenId"


def test_sessions_expire_on_the_service_clock(fresh_cloudlet):
    server = fresh_cloudlet()
    role = make_role(server, trust({"AWS": ACCOUNT}))
    assumed = server.client("sts").assume_role(RoleArn=role["Arn"], RoleSessionName="s1")
    user_session = server.client("sts").get_session_token(DurationSeconds=900)
    role_sts = session_client(server, "sts", assumed["Credentials"])
    assert role_sts.get_caller_identity()["Arn"].endswith("/s1")
    advance_clock(server, 1000)  # the 900-second session ends; the hour-long one goes on
    response = error_of(session_client(server, "sts", user_session["Credentials"])
                        .get_caller_identity)
    assert response["Error"]["Code"] == "ExpiredToken"
    assert role_sts.get_caller_identity()["Arn"].endswith("/s1")
    advance_clock(server, 2700)
    response = error_of(role_sts.get_caller_identity)
    assert response["Error"]["Code"] == "ExpiredToken"
    assert response["Error"]["Message"] == "The security token included in the request is expired"
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403


# -- GetSessionToken, GetFederationToken --------------------------------------------------

def test_get_session_token_keeps_the_caller(cloudlet):
    account = other_account()
    sts = cloudlet.client("sts", aws_access_key_id=account)
    creds = sts.get_session_token()["Credentials"]
    lifetime = creds["Expiration"] - dt.datetime.now(dt.UTC)
    assert dt.timedelta(minutes=55) < lifetime <= dt.timedelta(hours=1, minutes=1)  # root: 1 h
    session = session_client(cloudlet, "sts", creds)
    assert session.get_caller_identity()["Arn"] == f"arn:aws:iam::{account}:root"
    again = error_of(session.get_session_token)
    assert again["Error"]["Code"] == "AccessDenied"
    too_long = error_of(sts.get_session_token, DurationSeconds=7200)
    assert too_long["Error"]["Code"] == "ValidationError"


def test_get_session_token_for_an_iam_user(cloudlet):
    iam = cloudlet.client("iam")
    name = unique("user")
    user = iam.create_user(UserName=name)["User"]
    iam.put_user_policy(UserName=name, PolicyName="sts", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:GetSessionToken", "Resource": "*"}]}))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    sts = cloudlet.client("sts", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
    creds = sts.get_session_token(DurationSeconds=129600)["Credentials"]
    identity = session_client(cloudlet, "sts", creds).get_caller_identity()
    assert (identity["Arn"], identity["UserId"]) == (user["Arn"], user["UserId"])
    response = error_of(sts.get_session_token, DurationSeconds=129601)
    assert response["Error"]["Code"] == "ValidationError"


def test_get_federation_token(cloudlet):
    account = other_account()
    result = cloudlet.client("sts", aws_access_key_id=account).get_federation_token(
        Name="bob", DurationSeconds=900, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}))
    assert result["FederatedUser"] == {
        "FederatedUserId": f"{account}:bob", "Arn": f"arn:aws:sts::{account}:federated-user/bob"}
    identity = session_client(cloudlet, "sts", result["Credentials"]).get_caller_identity()
    assert identity["Arn"] == f"arn:aws:sts::{account}:federated-user/bob"


# -- GetAccessKeyInfo, DecodeAuthorizationMessage -----------------------------------------

def test_get_access_key_info(cloudlet):
    sts = cloudlet.client("sts")
    account = other_account()
    creds = cloudlet.client("sts", aws_access_key_id=account).get_session_token()["Credentials"]
    assert sts.get_access_key_info(AccessKeyId=creds["AccessKeyId"])["Account"] == account
    # AWS key ids encode their account; this one is from AWS's published research examples.
    assert sts.get_access_key_info(AccessKeyId="ASIAY34FZKBOKMUTVV7A")["Account"] == "609629065308"
    iam = cloudlet.client("iam")
    name = unique("user")
    iam.create_user(UserName=name)
    key = iam.create_access_key(UserName=name)["AccessKey"]["AccessKeyId"]
    assert sts.get_access_key_info(AccessKeyId=key)["Account"] == ACCOUNT


def test_decode_authorization_message_rejects_garbage(cloudlet):
    response = error_of(cloudlet.client("sts").decode_authorization_message,
                        EncodedMessage="not-a-message")
    assert response["Error"]["Code"] == "InvalidAuthorizationMessageException"


def test_authorization_message_round_trip():
    from cloudlet.services.sts import authorization_message

    encoded = authorization_message.encode(
        allowed=False, explicit_deny=True, context={
            "action": "ec2:RunInstances", "resource": "arn:aws:ec2:us-east-1:0:instance/*",
            "conditions": authorization_message.conditions({"aws:Region": "us-east-1"})})
    decoded = authorization_message.decode(encoded)
    assert decoded["explicitDeny"] is True and decoded["allowed"] is False
    assert decoded["context"]["conditions"]["items"][0] == {
        "key": "aws:Region", "values": {"items": [{"value": "us-east-1"}]}}
    with pytest.raises(ValueError):
        authorization_message.decode(encoded[:-3] + "!!!")


def user_client(cloudlet, service: str, policy: dict | None = None):
    """An IAM user (optionally with an inline policy) and a client signed with its key."""
    iam = cloudlet.client("iam")
    name = unique("user")
    user = iam.create_user(UserName=name)["User"]
    if policy:
        iam.put_user_policy(UserName=name, PolicyName="p", PolicyDocument=json.dumps(policy))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return user, cloudlet.client(service, aws_access_key_id=key["AccessKeyId"],
                                 aws_secret_access_key=key["SecretAccessKey"])


def test_user_needs_permission_unless_the_trust_policy_names_them(cloudlet):
    user, sts = user_client(cloudlet, "sts")  # no policies at all
    delegated = make_role(cloudlet, trust({"AWS": f"arn:aws:iam::{ACCOUNT}:root"}))
    response = error_of(sts.assume_role, RoleArn=delegated["Arn"], RoleSessionName="u1")
    assert response["Error"]["Code"] == "AccessDenied"
    assert response["Error"]["Message"].startswith(f"User: {user['Arn']} is not authorized")
    named = make_role(cloudlet, trust({"AWS": user["Arn"]}))
    result = sts.assume_role(RoleArn=named["Arn"], RoleSessionName="u1")
    assert result["AssumedRoleUser"]["Arn"].endswith(f"/{named['RoleName']}/u1")


def test_user_allowed_by_identity_policy_with_delegating_trust(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    user, sts = user_client(cloudlet, "sts", {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role["Arn"]}]})
    creds = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="u2")["Credentials"]
    assert session_client(cloudlet, "sts", creds).get_caller_identity()["Arn"].endswith("/u2")


def test_session_name_pattern(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    response = error_of(cloudlet.client("sts").assume_role, RoleArn=role["Arn"],
                        RoleSessionName="has space")
    assert response["Error"]["Code"] == "ValidationError"
    assert "'roleSessionName' failed to satisfy constraint" in response["Error"]["Message"]


def test_session_tags_are_principal_tags_and_transitive_ones_carry_on(cloudlet):
    iam = cloudlet.client("iam")
    first = make_role(cloudlet, trust({"AWS": ACCOUNT}, ["sts:AssumeRole", "sts:TagSession"]))
    iam.put_role_policy(RoleName=first["RoleName"], PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    second = make_role(cloudlet, trust(
        {"AWS": ACCOUNT}, ["sts:AssumeRole", "sts:TagSession"],
        condition={"StringEquals": {"aws:PrincipalTag/team": "blue"}}))
    sts = cloudlet.client("sts")

    def first_session(team: str, transitive: bool):
        result = sts.assume_role(RoleArn=first["Arn"], RoleSessionName=f"team-{team}",
                                 Tags=[{"Key": "team", "Value": team}],
                                 TransitiveTagKeys=["team"] if transitive else [])
        return session_client(cloudlet, "sts", result["Credentials"])

    blue = first_session("blue", transitive=True)
    chained = blue.assume_role(RoleArn=second["Arn"], RoleSessionName="next")
    # the transitive tag is the chained session's too: it may chain once more
    again = session_client(cloudlet, "sts", chained["Credentials"])
    iam.put_role_policy(RoleName=second["RoleName"], PolicyName="chain", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}]}))
    assert again.assume_role(RoleArn=second["Arn"], RoleSessionName="third")["Credentials"]
    red = first_session("red", transitive=False)
    response = error_of(red.assume_role, RoleArn=second["Arn"], RoleSessionName="next")
    assert response["Error"]["Code"] == "AccessDenied"
    # a transitive tag cannot be overridden down the chain
    override = error_of(blue.assume_role, RoleArn=second["Arn"], RoleSessionName="next",
                        Tags=[{"Key": "team", "Value": "green"}])
    assert override["Error"]["Code"] == "AccessDenied"


def test_mfa_codes_cannot_be_valid_without_mfa_devices(cloudlet):
    role = make_role(cloudlet, trust({"AWS": ACCOUNT}))
    sts = cloudlet.client("sts")
    mfa = {"SerialNumber": f"arn:aws:iam::{ACCOUNT}:mfa/alice", "TokenCode": "123456"}
    for call, kwargs in ((sts.assume_role, {"RoleArn": role["Arn"], "RoleSessionName": "m1"}),
                         (sts.get_session_token, {})):
        response = error_of(call, **kwargs, **mfa)
        assert response["Error"]["Code"] == "AccessDenied"
        assert "MultiFactorAuthentication failed" in response["Error"]["Message"]


def test_sessions_and_the_issuer_key_survive_kill_9(fresh_cloudlet):
    import subprocess
    import sys

    from harness import CloudletProcess

    server = fresh_cloudlet()
    role = make_role(server, trust({"AWS": ACCOUNT}))
    creds = server.client("sts").assume_role(RoleArn=role["Arn"],
                                              RoleSessionName="durable")["Credentials"]
    minted = subprocess.run([sys.executable, "-m", "cloudlet", "oidc", "token", "--sub", "x",
                             "--port", str(server.port)], capture_output=True, text=True,
                            timeout=60)
    jwks = json.load(urllib.request.urlopen(f"{server.endpoint}/_cloudlet/oidc/jwks", timeout=10))
    server.kill9()
    again = CloudletProcess(data_dir=server.data_dir).start()
    try:
        identity = session_client(again, "sts", creds).get_caller_identity()
        assert identity["Arn"].endswith(f"/{role['RoleName']}/durable")
        after = json.load(urllib.request.urlopen(f"{again.endpoint}/_cloudlet/oidc/jwks",
                                                 timeout=10))
        assert after == jwks and minted.returncode == 0  # the same signing key
    finally:
        again.stop()
