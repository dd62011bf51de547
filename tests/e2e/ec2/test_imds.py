"""IMDS from inside a real instance, over SSH: curl with IMDSv1 and v2, HttpTokens=required,
HttpEndpoint=disabled, the instance profile's credentials (a real STS session named after the
instance) and boto3 finding them with no configuration, and the identity document verified
with AWS's openssl steps against Cloudlet's published certificate."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import time

import pytest
import requests
from instance_support import instance_profile, launch, undo

IMDS = "http://169.254.169.254"
TOKEN = (f"$(curl -s -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' "
         f"{IMDS}/latest/api/token)")
USER_DATA = "#!/bin/sh\necho imds-user-data > /var/tmp/ran\n"


@pytest.fixture(scope="module")
def box(cloudlet, tmp_path_factory):
    if not shutil.which("ssh"):
        pytest.skip("the ssh client is not installed")
    ec2, iam = cloudlet.client("ec2"), cloudlet.client("iam")
    steps: list = []
    role, profile = instance_profile(iam, steps)
    try:
        launched = launch(ec2, tmp_path_factory.mktemp("imds"), profile, UserData=USER_DATA)
    except BaseException:
        undo(steps)
        raise
    launched.role = role
    try:
        launched.wait_ssh()
        yield launched
    finally:
        undo(launched.cleanup)
        undo(steps)


def inside(box, command: str) -> str:
    done = box.ssh(command)
    assert done.returncode == 0, (command, done.stderr)
    return done.stdout


def status_of(box, path: str, *headers: str) -> str:
    flags = " ".join(f"-H {shlex.quote(h)}" for h in headers)
    return inside(box, f"curl -s -o /dev/null -w '%{{http_code}}' {flags} {IMDS}{path}")


def test_curl_with_imdsv1_and_imdsv2(box):
    assert inside(box, f"curl -s {IMDS}/latest/meta-data/instance-id") == box.id
    zone = box.instance["Placement"]["AvailabilityZone"]
    assert inside(box, f'curl -s -H "X-aws-ec2-metadata-token: {TOKEN}" '
                       f"{IMDS}/latest/meta-data/placement/availability-zone/") == zone
    assert inside(box, f"curl -s {IMDS}/latest/meta-data/local-ipv4") == box.instance[
        "PrivateIpAddress"]
    assert inside(box, f"curl -s {IMDS}/latest/user-data") == USER_DATA
    keys = inside(box, f"curl -s {IMDS}/latest/meta-data/public-keys/")
    assert keys == f"0={box.instance['KeyName']}"


def test_the_credentials_are_the_roles_session_named_after_the_instance(box, cloudlet):
    role = inside(box, f"curl -s {IMDS}/latest/meta-data/iam/security-credentials/")
    assert role == box.role
    answer = json.loads(inside(
        box, f"curl -s {IMDS}/latest/meta-data/iam/security-credentials/{role}"))
    assert answer["Code"] == "Success" and answer["Type"] == "AWS-HMAC"
    sts = cloudlet.client("sts", aws_access_key_id=answer["AccessKeyId"],
                          aws_secret_access_key=answer["SecretAccessKey"],
                          aws_session_token=answer["Token"])
    arn = sts.get_caller_identity()["Arn"]
    assert arn.endswith(f":assumed-role/{box.role}/{box.id}")


def test_boto3_inside_finds_its_credentials_with_no_configuration(box):
    done = box.ssh("env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_PROFILE python3 -c "
                   "'import boto3; print(boto3.client(\"sts\").get_caller_identity()[\"Arn\"])'")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith(f":assumed-role/{box.role}/{box.id}")


def test_the_identity_document_verifies_with_the_published_certificate(box, cloudlet, tmp_path):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    base = f"{IMDS}/latest/dynamic/instance-identity"
    document = inside(box, f"curl -s {base}/document")
    assert json.loads(document)["instanceId"] == box.id
    signed = inside(box, f"curl -s {base}/rsa2048")
    cert = requests.get(f"{cloudlet.endpoint}/_cloudlet/ec2/instance-identity.pem",
                        verify=cloudlet.ca_bundle or True, timeout=10)
    assert cert.status_code == 200
    (tmp_path / "document").write_text(document)
    (tmp_path / "cert.pem").write_bytes(cert.content)
    (tmp_path / "rsa2048").write_text(f"-----BEGIN PKCS7-----\n{signed}\n-----END PKCS7-----\n")
    done = subprocess.run(["openssl", "smime", "-verify", "-in", "rsa2048", "-inform", "PEM",
                           "-content", "document", "-certfile", "cert.pem", "-noverify"],
                          cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_tokens_required_gives_401_without_a_token(box):
    box.ec2.modify_instance_metadata_options(InstanceId=box.id, HttpTokens="required")
    try:
        assert status_of(box, "/latest/meta-data/") == "401"
        assert inside(box, f'curl -s -H "X-aws-ec2-metadata-token: {TOKEN}" '
                           f"{IMDS}/latest/meta-data/instance-id") == box.id
    finally:
        box.ec2.modify_instance_metadata_options(InstanceId=box.id, HttpTokens="optional")
    assert status_of(box, "/latest/meta-data/") == "200"


def test_endpoint_disabled_answers_nothing(box):
    box.ec2.modify_instance_metadata_options(InstanceId=box.id, HttpEndpoint="disabled")
    try:
        assert status_of(box, "/latest/meta-data/") == "403"
    finally:
        box.ec2.modify_instance_metadata_options(InstanceId=box.id, HttpEndpoint="enabled")
    assert status_of(box, "/latest/meta-data/") == "200"


def test_the_identity_certificate_is_public(cloudlet):
    reply = requests.get(f"{cloudlet.endpoint}/_cloudlet/ec2/instance-identity.pem",
                         verify=cloudlet.ca_bundle or True, timeout=10)
    assert reply.status_code == 200
    assert reply.content.startswith(b"-----BEGIN CERTIFICATE-----")
    assert reply.headers["Content-Type"] == "application/x-pem-file"
    again = requests.get(f"{cloudlet.endpoint}/_cloudlet/ec2/instance-identity.pem",
                         verify=cloudlet.ca_bundle or True, timeout=10)
    assert again.content == reply.content
    assert requests.get(f"{cloudlet.endpoint}/_cloudlet/ec2/instance-identity.pem.bak",
                        verify=cloudlet.ca_bundle or True, timeout=10).status_code == 404


def router_namespace(vpc_id: str) -> str | None:
    names = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    return next((n for n in names if n.endswith(f"-r-{vpc_id}")), None)


def test_every_vpc_router_serves_imds_as_its_vpc_comes_and_goes(cloudlet, ec2):
    """Without instances: from inside the router namespace Cloudlet made for a new VPC,
    169.254.169.254:80 answers (a 403: the router's own address is no instance's), and the
    namespace goes with the VPC."""
    health = requests.get(f"{cloudlet.endpoint}/_cloudlet/health", timeout=10,
                          verify=cloudlet.ca_bundle or True).json()
    network = health.get("engines", {}).get("ec2", {}).get("network", {})
    if os.geteuid() != 0 or not network.get("enforced") or not shutil.which("curl"):
        pytest.skip(f"the VPC fabric is not enforced here: {network.get('reason')}")
    vpc_id = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    try:
        router = router_namespace(vpc_id)
        assert router, "no router namespace for the VPC"
        done = subprocess.run(["ip", "netns", "exec", router, "curl", "-s", "-m", "3", "-o",
                               "/dev/null", "-w", "%{http_code}",
                               f"{IMDS}/latest/meta-data/"], capture_output=True, text=True)
        assert done.stdout == "403", done.stderr
    finally:
        ec2.delete_vpc(VpcId=vpc_id)
    deadline = time.monotonic() + 10
    while router_namespace(vpc_id) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert router_namespace(vpc_id) is None
