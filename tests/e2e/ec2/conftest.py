"""The EC2 client, fresh VPCs, and accounts of their own for the tests that need a region
nobody else touched (the default VPC, item by item)."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # ec2support, the helpers the tests share

from ec2support import empty_vpc  # noqa: E402


@pytest.fixture(scope="module")
def ec2(cloudlet):
    return cloudlet.client("ec2")


@pytest.fixture
def fresh_account(cloudlet):
    """A client for a new account: a 12-digit access key id is that account's root."""
    def client(service: str = "ec2", region: str = "us-east-1"):
        account = f"{random.randrange(10**11, 10**12):012d}"
        return cloudlet.client(service, region=region, aws_access_key_id=account,
                               aws_secret_access_key="test")
    return client


@pytest.fixture
def vpc(ec2):
    """A new 10.0.0.0/16 VPC, deleted (with what the test left in it) afterwards."""
    found = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]
    yield found
    empty_vpc(ec2, found["VpcId"])
