"""Real instances for the IMDS and metrics tests: an image AWS's way (describe-images), a key
pair, a security group open to SSH, optionally an instance profile, and SSH to the public
(loopback) address. Until RunInstances exists (the compute family), the tests that need an
instance skip with that reason."""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

TRUST_EC2 = ('{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": '
             '{"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}')


def skip_unless_implemented(call, *args, **kwargs):
    try:
        return call(*args, **kwargs)
    except ClientError as e:
        if e.response["Error"]["Code"] == "NotImplemented":
            pytest.skip(f"{e.operation_name} is not on this branch yet (instances: the compute "
                        "family, with the fabric adapter)")
        raise


@dataclass
class Launched:
    ec2: object
    instance: dict
    key_file: Path
    user: str = "ec2-user"
    cleanup: list = field(default_factory=list)

    @property
    def id(self) -> str:
        return self.instance["InstanceId"]

    def refresh(self) -> dict:
        self.instance = self.ec2.describe_instances(InstanceIds=[self.id])[
            "Reservations"][0]["Instances"][0]
        return self.instance

    def ssh(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["ssh", "-i", str(self.key_file), "-o", "BatchMode=yes", "-o",
             "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o",
             "LogLevel=ERROR", "-o", "ConnectTimeout=5",
             f"{self.user}@{self.instance['PublicIpAddress']}", command],
            capture_output=True, text=True, timeout=timeout)

    def wait_ssh(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.refresh()
            if self.instance.get("PublicIpAddress") and self.ssh("true", 20).returncode == 0:
                return
            time.sleep(1)
        raise AssertionError(f"no SSH to {self.id}: {self.ssh('true', 20).stderr}")


def image_id(ec2) -> str:
    images = skip_unless_implemented(
        ec2.describe_images, Owners=["amazon"],
        Filters=[{"Name": "name", "Values": ["al2023-ami-*"]}])["Images"]
    assert images, "no al2023 image registered"
    return sorted(images, key=lambda i: i.get("CreationDate", ""))[-1]["ImageId"]


def instance_profile(iam, cleanup: list) -> tuple[str, str]:
    """(role name, profile name): a role EC2 may assume, in a profile."""
    tag = uuid.uuid4().hex[:8]
    role, profile = f"imds-role-{tag}", f"imds-profile-{tag}"
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=TRUST_EC2)
    iam.create_instance_profile(InstanceProfileName=profile)
    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    cleanup.append(lambda: iam.remove_role_from_instance_profile(InstanceProfileName=profile,
                                                                 RoleName=role))
    cleanup.append(lambda: iam.delete_instance_profile(InstanceProfileName=profile))
    cleanup.append(lambda: iam.delete_role(RoleName=role))
    return role, profile


def launch(ec2, directory: Path, profile: str | None = None, **extra) -> Launched:
    """One instance in the default VPC with a public address, SSH open, a new key pair."""
    cleanup: list = []
    image = image_id(ec2)
    tag = uuid.uuid4().hex[:8]
    key = ec2.create_key_pair(KeyName=f"imds-{tag}")
    cleanup.append(lambda: ec2.delete_key_pair(KeyName=f"imds-{tag}"))
    key_file = directory / f"imds-{tag}.pem"
    key_file.write_text(key["KeyMaterial"])
    os.chmod(key_file, 0o600)
    group = ec2.create_security_group(GroupName=f"imds-{tag}", Description="ssh")["GroupId"]
    cleanup.append(lambda: ec2.delete_security_group(GroupId=group))
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[{
        "IpProtocol": "tcp", "FromPort": 22, "ToPort": 22,
        "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    params = dict(ImageId=image, InstanceType="t3.micro", MinCount=1, MaxCount=1,
                  KeyName=f"imds-{tag}", SecurityGroupIds=[group], **extra)
    if profile:
        params["IamInstanceProfile"] = {"Name": profile}
    try:
        instance = skip_unless_implemented(ec2.run_instances, **params)["Instances"][0]
    except BaseException:
        undo(cleanup)
        raise
    launched = Launched(ec2, instance, key_file, cleanup=cleanup)

    def terminate():
        ec2.terminate_instances(InstanceIds=[launched.id])
        ec2.get_waiter("instance_terminated").wait(
            InstanceIds=[launched.id], WaiterConfig={"Delay": 1, "MaxAttempts": 120})

    cleanup.append(terminate)
    return launched


def undo(cleanup: list) -> None:
    for step in reversed(cleanup):
        try:
            step()
        except ClientError:
            pass
