"""EC2's Filters: AWS's names, wildcards, OR within a filter and AND across, tags."""

from __future__ import annotations

import pytest

from cloudlet.errors import ServiceError
from cloudlet.services.ec2.filters import Filters
from cloudlet.services.ec2.network import vpcs  # noqa: F401  (declares the vpc fields)

VPC = {"VpcId": "vpc-1", "CidrBlock": "10.0.0.0/16", "IsDefault": False, "State": "available",
       "CidrBlockAssociationSet": [{"CidrBlock": "10.0.0.0/16"}, {"CidrBlock": "10.1.0.0/16"}],
       "Tags": [{"Key": "Name", "Value": "web*prod"}, {"Key": "env", "Value": "prod"}]}


def matches(*raw) -> bool:
    return Filters.compile("vpc", list(raw)).matches(VPC)


def f(name, *values):
    return {"Name": name, "Values": list(values)}


def test_values_are_or_filters_are_and():
    assert matches(f("state", "pending", "available"))
    assert not matches(f("state", "available"), f("is-default", "true"))
    assert matches(f("state", "available"), f("is-default", "false"))


def test_wildcards_and_escapes():
    assert matches(f("cidr", "10.0.*"))
    assert matches(f("cidr", "10.?.0.0/16"))
    assert not matches(f("cidr", "10.2.*"))
    assert matches(f("tag:Name", "web\\*prod"))
    assert not matches(f("tag:Name", "web\\*pro"))
    assert matches(f("tag:Name", "web*"))


def test_lists_are_walked():
    assert matches(f("cidr-block-association.cidr-block", "10.1.0.0/16"))


def test_tags():
    assert matches(f("tag-key", "env"), f("tag-value", "prod"))
    assert not matches(f("tag:env", "dev"))
    assert not matches(f("tag:missing", "*"))


def test_an_unknown_name():
    with pytest.raises(ServiceError) as raised:
        Filters.compile("vpc", [f("colour", "red")])
    assert (raised.value.code, raised.value.message) == (
        "InvalidParameterValue", "The filter 'colour' is invalid")
