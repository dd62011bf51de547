"""IMDS's service side against a real store: which instance asks (by source address), the
instance profile's real STS session and its rotation, the signed identity document (checked
with AWS's own openssl steps), and the certificate's route."""

from __future__ import annotations

import base64
import datetime as dt
import json
import shutil
import subprocess

import pytest

from cloudlet import clock
from cloudlet.errors import ServiceError
from cloudlet.principals import Credential
from cloudlet.services.base import RequestContext
from cloudlet.services.ec2.compute import instance_credentials
from cloudlet.services.ec2.compute.identity import CERT_PATH, IdentitySigner
from cloudlet.services.ec2.compute.instance_credentials import RoleSessions
from cloudlet.services.ec2.compute.metadata_handler import MetadataHandler, Request, Tokens
from cloudlet.services.ec2.ids import KINDS, Kind
from cloudlet.services.ec2.provider import Ec2Provider
from cloudlet.services.iam.provider import IamProvider
from cloudlet.services.sts.provider import StsProvider
from cloudlet.store import Store
from tests.services.ec2_instances import instance

ACCOUNT = "000000000000"
ROOT = Credential("test", "test", ACCOUNT, f"arn:aws:iam::{ACCOUNT}:root")
TRUST_EC2 = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
TRUST_LAMBDA = TRUST_EC2.replace("ec2.amazonaws.com", "lambda.amazonaws.com")


def ctx(service: str) -> RequestContext:
    return RequestContext(service, "", "us-east-1", ACCOUNT, "r", caller=ROOT)


@pytest.fixture
def cloud(tmp_path, monkeypatch):
    if "instance" not in KINDS:  # until the compute family declares it
        monkeypatch.setitem(KINDS, "instance", Kind("instance", "i", "InstanceId", "instance"))
    store = Store.open(tmp_path)
    iam, sts, ec2 = IamProvider(store), StsProvider(store), Ec2Provider(store)
    providers = {"iam": iam, "sts": sts, "ec2": ec2}
    for provider in providers.values():
        provider.attach(providers)
    yield iam, sts, ec2
    ec2.metadata.close()
    store.close()


def network(ec2) -> tuple[str, str]:
    vpc = ec2.handler("CreateVpc")(ctx("ec2"), {"CidrBlock": "10.0.0.0/16"})["Vpc"]["VpcId"]
    subnet = ec2.handler("CreateSubnet")(ctx("ec2"), {"VpcId": vpc, "CidrBlock": "10.0.1.0/24"})
    return vpc, subnet["Subnet"]["SubnetId"]


def profile(iam, trust=TRUST_EC2, name="app"):
    iam.create_role(ctx("iam"), {"RoleName": f"{name}-role", "AssumeRolePolicyDocument": trust})
    found = iam.create_instance_profile(ctx("iam"), {"InstanceProfileName": f"{name}-profile"})
    iam.add_role_to_instance_profile(ctx("iam"), {"InstanceProfileName": f"{name}-profile",
                                                  "RoleName": f"{name}-role"})
    return found["InstanceProfile"]


def put_instance(ec2, vpc, subnet, profile_arn=None, **changes) -> dict:
    doc = instance(VpcId=vpc, SubnetId=subnet, **changes)
    for eni in doc["NetworkInterfaces"]:
        eni["VpcId"], eni["SubnetId"] = vpc, subnet
    doc["IamInstanceProfile"] = {"Arn": profile_arn, "Id": "x"} if profile_arn else None
    if doc["IamInstanceProfile"] is None:
        del doc["IamInstanceProfile"]
    with ec2.records.write(ACCOUNT, "us-east-1") as view:
        view.put("instance", doc)
    return doc


def ask(ec2, vpc, path, peer="10.0.1.5", **headers):
    handler = MetadataHandler(lambda p: ec2.metadata.facts(ACCOUNT, "us-east-1", vpc, p),
                              ec2.metadata.tokens)
    return handler(Request("GET", path, headers, peer))


def test_instances_are_told_apart_by_source_address(cloud):
    _, _, ec2 = cloud
    vpc, subnet = network(ec2)
    put_instance(ec2, vpc, subnet)
    assert ask(ec2, vpc, "/latest/meta-data/instance-id").body == b"i-0123456789abcdef0"
    assert ask(ec2, vpc, "/latest/meta-data/instance-id", peer="10.0.1.6").status == 200  # 2nd IP
    assert ask(ec2, vpc, "/latest/meta-data/instance-id", peer="10.0.1.77").status == 403
    other_vpc, _ = network(ec2)
    assert ask(ec2, other_vpc, "/latest/meta-data/instance-id").status == 403  # not in that VPC
    # a second instance boots just after a look-up: found at its first request
    second = instance(InstanceId="i-0aaaaaaaaaaaaaaa9", PrivateIpAddress="10.0.1.50", VpcId=vpc,
                      SubnetId=subnet)
    second["NetworkInterfaces"][0]["PrivateIpAddresses"] = [{"PrivateIpAddress": "10.0.1.50"}]
    second["NetworkInterfaces"][0]["PrivateIpAddress"] = "10.0.1.50"
    with ec2.records.write(ACCOUNT, "us-east-1") as view:
        view.put("instance", second)
    assert ask(ec2, vpc, "/latest/meta-data/instance-id",
               peer="10.0.1.50").body == b"i-0aaaaaaaaaaaaaaa9"


def test_metadata_options_apply_at_once(cloud):
    _, _, ec2 = cloud
    vpc, subnet = network(ec2)
    doc = put_instance(ec2, vpc, subnet)
    assert ask(ec2, vpc, "/latest/meta-data/").status == 200
    doc["MetadataOptions"]["HttpTokens"] = "required"
    with ec2.records.write(ACCOUNT, "us-east-1") as view:
        view.put("instance", doc)
    assert ask(ec2, vpc, "/latest/meta-data/").status == 401


def test_vpc_and_subnet_come_from_their_records(cloud):
    _, _, ec2 = cloud
    vpc, subnet = network(ec2)
    put_instance(ec2, vpc, subnet)
    mac = "/latest/meta-data/network/interfaces/macs/0e:49:61:0f:c3:11/"
    assert ask(ec2, vpc, mac + "vpc-ipv4-cidr-block").body == b"10.0.0.0/16"
    assert ask(ec2, vpc, mac + "subnet-ipv4-cidr-block").body == b"10.0.1.0/24"
    assert ask(ec2, vpc, mac + "vpc-id").body == vpc.encode()


def test_credentials_are_a_real_session_named_after_the_instance(cloud):
    iam, sts, ec2 = cloud
    vpc, subnet = network(ec2)
    found = profile(iam)
    put_instance(ec2, vpc, subnet, profile_arn=found["Arn"])
    assert ask(ec2, vpc, "/latest/meta-data/iam/security-credentials/").body == b"app-role"
    answer = json.loads(ask(ec2, vpc, "/latest/meta-data/iam/security-credentials/app-role").body)
    assert answer["Code"] == "Success" and answer["Type"] == "AWS-HMAC"
    assert answer["AccessKeyId"].startswith("ASIA")
    caller = sts.credential_for(answer["AccessKeyId"])
    assert caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/i-0123456789abcdef0"
    assert caller.secret_access_key == answer["SecretAccessKey"]
    assert caller.session_token == answer["Token"]
    info = json.loads(ask(ec2, vpc, "/latest/meta-data/iam/info").body)
    assert info["Code"] == "Success" and info["InstanceProfileArn"] == found["Arn"]
    assert info["InstanceProfileId"] == found["InstanceProfileId"]
    # the same session until it is near its end
    again = json.loads(ask(ec2, vpc, "/latest/meta-data/iam/security-credentials/app-role").body)
    assert again["AccessKeyId"] == answer["AccessKeyId"]


def test_credentials_rotate_before_they_expire(cloud, monkeypatch):
    iam, _, ec2 = cloud
    vpc, subnet = network(ec2)
    put_instance(ec2, vpc, subnet, profile_arn=profile(iam)["Arn"])
    path = "/latest/meta-data/iam/security-credentials/app-role"
    first = json.loads(ask(ec2, vpc, path).body)
    expires = dt.datetime.fromisoformat(first["Expiration"].replace("Z", "+00:00")).timestamp()
    left = expires - clock.timestamp()
    assert left > instance_credentials.ROTATE_BEFORE
    # just before the rotation point: the same; past it (still unexpired): a new one
    monkeypatch.setattr(clock, "_offset", clock._offset + left - instance_credentials.ROTATE_BEFORE - 30)
    assert json.loads(ask(ec2, vpc, path).body)["AccessKeyId"] == first["AccessKeyId"]
    monkeypatch.setattr(clock, "_offset", clock._offset + 60)
    assert clock.timestamp() < expires - 5 * 60  # AWS: a new one at least 5 minutes before
    second = json.loads(ask(ec2, vpc, path).body)
    assert second["AccessKeyId"] != first["AccessKeyId"]
    assert second["Expiration"] > first["Expiration"]


def test_a_role_that_does_not_trust_ec2_is_assume_role_unauthorized(cloud):
    iam, _, ec2 = cloud
    vpc, subnet = network(ec2)
    put_instance(ec2, vpc, subnet, profile_arn=profile(iam, TRUST_LAMBDA)["Arn"])
    answer = json.loads(ask(ec2, vpc, "/latest/meta-data/iam/security-credentials/app-role").body)
    assert answer["Code"] == "AssumeRoleUnauthorizedAccess" and "AccessKeyId" not in answer
    assert 'EC2 cannot assume the role "app-role"' in answer["Message"]
    info = json.loads(ask(ec2, vpc, "/latest/meta-data/iam/info").body)
    assert info["Code"] == "AssumeRoleUnauthorizedAccess"


def test_a_deleted_profile_leaves_no_iam_directory(cloud):
    _, _, ec2 = cloud
    vpc, subnet = network(ec2)
    put_instance(ec2, vpc, subnet,
                 profile_arn=f"arn:aws:iam::{ACCOUNT}:instance-profile/gone")
    assert ask(ec2, vpc, "/latest/meta-data/iam/").status == 404


# -- role sessions, alone ------------------------------------------------------------------

def fake_mint(minted):
    def mint(role_arn, session_name, seconds):
        minted.append((role_arn, session_name, seconds))
        expires = dt.datetime.fromtimestamp(clock.timestamp() + 3600, dt.UTC)
        return Credential(f"ASIA{len(minted):016d}", "s", ACCOUNT, "arn", session_token="t",
                          expiration=expires, kind="assumed-role")
    return mint


def test_role_sessions_are_kept_per_instance_and_role(monkeypatch):
    minted = []
    sessions = RoleSessions(fake_mint(minted))
    a = sessions.current(ACCOUNT, "i-1", "arn:aws:iam::0:role/r")
    assert sessions.current(ACCOUNT, "i-1", "arn:aws:iam::0:role/r") == a
    assert sessions.current(ACCOUNT, "i-2", "arn:aws:iam::0:role/r") != a
    assert sessions.current(ACCOUNT, "i-1", "arn:aws:iam::0:role/other") != a
    assert [m[1] for m in minted] == ["i-1", "i-2", "i-1"]
    assert minted[0][2] == instance_credentials.SESSION_SECONDS
    sessions.forget("i-1")
    assert sessions.current(ACCOUNT, "i-1", "arn:aws:iam::0:role/r") != a


def test_a_refused_session_is_retried_later(monkeypatch):
    calls = []

    def refuse(role_arn, session_name, seconds):
        calls.append(1)
        raise ServiceError("denied", code="AccessDenied", status=403)

    sessions = RoleSessions(refuse)
    assert sessions.current(ACCOUNT, "i-1", "r")["Code"] == "AssumeRoleUnauthorizedAccess"
    sessions.current(ACCOUNT, "i-1", "r")
    assert len(calls) == 1
    monkeypatch.setattr(clock, "_offset", clock._offset + instance_credentials.RETRY_FAILED + 1)
    sessions.current(ACCOUNT, "i-1", "r")
    assert len(calls) == 2


# -- the identity document's signatures ----------------------------------------------------

DOCUMENT = '{\n  "accountId" : "000000000000",\n  "instanceId" : "i-0123456789abcdef0"\n}'


def test_signatures_verify_with_the_certificate(tmp_path):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import padding

    signer = IdentitySigner(tmp_path / "identity")
    signed = signer.sign(DOCUMENT)
    cert = x509.load_pem_x509_certificate(signer.certificate())
    cert.public_key().verify(base64.b64decode(signed["signature"]), DOCUMENT.encode(),
                             padding.PKCS1v15(), hashes.SHA256())
    assert all(len(line) <= 76 for line in signed["pkcs7"].splitlines())
    key = tmp_path / "identity" / "key.pem"
    assert key.stat().st_mode & 0o777 == 0o600
    # kept: a second signer on the same directory has the same certificate
    assert IdentitySigner(tmp_path / "identity").certificate() == signer.certificate()


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl is not installed")
@pytest.mark.parametrize("name", ["pkcs7", "rsa2048"])
def test_pkcs7_verifies_with_aws_openssl_steps(tmp_path, name):
    signer = IdentitySigner(tmp_path / "identity")
    signed = signer.sign(DOCUMENT)
    (tmp_path / "document").write_text(DOCUMENT)
    (tmp_path / "cert.pem").write_bytes(signer.certificate())
    (tmp_path / name).write_text(f"-----BEGIN PKCS7-----\n{signed[name]}\n-----END PKCS7-----\n")
    done = subprocess.run(["openssl", "smime", "-verify", "-in", name, "-inform", "PEM",
                           "-content", "document", "-certfile", "cert.pem", "-noverify"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Verification successful" in done.stderr
    (tmp_path / "document").write_text(DOCUMENT.replace("0000", "1111"))
    tampered = subprocess.run(["openssl", "smime", "-verify", "-in", name, "-inform", "PEM",
                               "-content", "document", "-certfile", "cert.pem", "-noverify"],
                              cwd=tmp_path, capture_output=True, text=True)
    assert tampered.returncode != 0


def test_the_certificate_is_served_on_its_route(cloud):
    _, _, ec2 = cloud
    route = next(r for r in ec2.routes() if r.prefix == CERT_PATH)

    class Get:
        path, method, host = CERT_PATH, "GET", "127.0.0.1:4566"

    status, headers, body = route.handler(Get())
    assert status == 200 and body.startswith(b"-----BEGIN CERTIFICATE-----")
    assert body == ec2.metadata.signer.certificate()


def test_tokens_of_one_process_are_not_valid_in_another():
    token = Tokens().issue("i-1", 60)
    assert Tokens().remaining(token, "i-1") is None
