"""The VPC resolver's name rules (services/ec2/network/names.py): AWS's endpoint names in
every region, the VPC's private names and their PTR records, other services' names first,
NXDOMAIN for the rest."""

from __future__ import annotations

import pytest

from cloudlet.services.ec2.network.names import (
    VpcNames,
    answer,
    certificate_names,
    private_name,
    service_address,
    settings,
)
from cloudlet.services.ec2.network.prefix_lists import API_ADDRESS, DYNAMODB_ADDRESS, S3_ADDRESS

EAST = VpcNames("us-east-1", True, ("10.0.0.0/16", "10.1.0.0/16"), ("ec2.internal",
                                                                  "corp.example"))
WEST = VpcNames("eu-west-1", True, ("172.31.0.0/16",), ("eu-west-1.compute.internal",))


@pytest.mark.parametrize("name", [
    "s3.amazonaws.com", "my-bucket.s3.amazonaws.com", "my.dotted.bucket.s3.amazonaws.com",
    "s3.us-east-1.amazonaws.com", "s3.eu-central-2.amazonaws.com",
    "logs-bucket.s3.ap-southeast-5.amazonaws.com", "s3-us-west-2.amazonaws.com",
    "bucket.s3-us-west-2.amazonaws.com", "s3-external-1.amazonaws.com",
    "bucket.s3-external-1.amazonaws.com", "s3.dualstack.us-east-1.amazonaws.com",
    "bucket.s3.dualstack.eu-west-1.amazonaws.com", "s3-fips.us-east-2.amazonaws.com",
    "ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com",
    "site.s3-website-us-east-1.amazonaws.com", "site.s3-website.eu-west-1.amazonaws.com",
    "s3.us-gov-west-1.amazonaws.com"])
def test_s3_names_lead_to_s3s_address(name):
    assert service_address(name) == S3_ADDRESS


@pytest.mark.parametrize("name", [
    "dynamodb.us-east-1.amazonaws.com", "dynamodb.ap-south-2.amazonaws.com",
    "dynamodb-fips.us-west-2.amazonaws.com", "123456789012.ddb.us-east-1.amazonaws.com"])
def test_dynamodb_names_lead_to_its_address(name):
    assert service_address(name) == DYNAMODB_ADDRESS


@pytest.mark.parametrize("name", [
    "sts.amazonaws.com", "iam.amazonaws.com", "sts.us-east-1.amazonaws.com",
    "ec2.eu-west-3.amazonaws.com", "lambda.me-central-1.amazonaws.com",
    "logs.us-west-2.amazonaws.com", "monitoring.us-east-1.amazonaws.com",
    "streams.dynamodb.us-east-1.amazonaws.com",  # not in DynamoDB's prefix list, as on AWS
    "123456789012.s3-control.us-east-1.amazonaws.com", "xs3.amazonaws.com",
    "s3.example.amazonaws.com.amazonaws.com"])
def test_every_other_amazonaws_name_leads_to_the_api(name):
    assert service_address(name) == API_ADDRESS


@pytest.mark.parametrize("name", ["amazonaws.com", "example.com", "amazonaws.com.evil",
                                  "s3.amazonaws.co", "localhost", ""])
def test_other_names_are_not_aws_endpoints(name):
    assert service_address(name) is None
    assert answer(name, "A", EAST) is None


def test_private_names_in_the_region_and_the_dhcp_domain():
    assert answer("ip-10-0-1-5.ec2.internal", "A", EAST) == ["10.0.1.5"]
    assert answer("ip-10-1-200-7.ec2.internal", "A", EAST) == ["10.1.200.7"]  # 2nd CIDR
    assert answer("ip-10-0-1-5.corp.example", "A", EAST) == ["10.0.1.5"]
    assert answer("ip-172-31-4-9.eu-west-1.compute.internal", "A", WEST) == ["172.31.4.9"]
    assert private_name("10.0.1.5", "us-east-1") == "ip-10-0-1-5.ec2.internal"
    assert private_name("172.31.4.9", "eu-west-1") == "ip-172-31-4-9.eu-west-1.compute.internal"


@pytest.mark.parametrize("name", [
    "ip-10-2-0-5.ec2.internal",                    # outside the VPC
    "ip-10-0-1-5.us-east-1.compute.internal",      # another region's form
    "ip-172-31-4-9.ec2.internal",                  # another VPC's address
    "ip-10-0-1-256.ec2.internal", "ip-10-0-01-5.ec2.internal", "ip-10-0-1.ec2.internal",
    "ip-10-0-1-5.other.example", "x.ip-10-0-1-5.ec2.internal"])
def test_private_names_outside_the_vpc_or_malformed_are_nxdomain(name):
    assert answer(name, "A", EAST) is None


def test_ptr_records_of_the_vpcs_addresses():
    assert answer("5.1.0.10.in-addr.arpa", "PTR", EAST) == ["ip-10-0-1-5.ec2.internal"]
    assert answer("9.4.31.172.in-addr.arpa", "PTR", WEST) == [
        "ip-172-31-4-9.eu-west-1.compute.internal"]
    for name in ("5.1.0.11.in-addr.arpa", "1.0.10.in-addr.arpa", "5.1.0.999.in-addr.arpa",
                 "x.1.0.10.in-addr.arpa", "10.18.198.in-addr.arpa"):
        assert answer(name, "PTR", EAST) is None


def test_other_services_names_come_first():
    rds = {"db.abc123.us-east-1.rds.amazonaws.com": "10.0.3.9"}
    assert answer("db.abc123.us-east-1.rds.amazonaws.com", "A", EAST, rds.get) == ["10.0.3.9"]
    assert answer("sts.amazonaws.com", "A", EAST, rds.get) == [API_ADDRESS]
    assert answer("x.corp", "A", EAST, lambda name: ["10.0.0.7", "10.0.0.8"]) == [
        "10.0.0.7", "10.0.0.8"]


def test_settings_from_the_records():
    vpc = {"VpcId": "vpc-1", "_attributes": {"EnableDnsSupport": False}}
    options = {"DhcpConfigurations": [
        {"Key": "domain-name", "Values": [{"Value": "Corp.Example. second.example"}]},
        {"Key": "domain-name-servers", "Values": [{"Value": "AmazonProvidedDNS"}]}]}
    found = settings("us-west-2", vpc, options, ["10.0.0.0/16", "2600:1f14::/56"])
    assert found == VpcNames("us-west-2", False, ("10.0.0.0/16",),
                             ("us-west-2.compute.internal", "corp.example", "second.example"))
    assert settings("us-east-1", {}, None, ["10.0.0.0/16"]).domains == ("ec2.internal",)


def test_certificate_names_cover_the_default_names_with_one_wildcard_level():
    import fnmatch

    names = certificate_names(["us-east-1", "eu-west-1"])
    assert len(names) == len(set(names))

    def covered(host):  # a wildcard stands for exactly one label (RFC 6125)
        return any(fnmatch.fnmatch(host, n) and host.count(".") == n.count(".")
                   for n in names)

    for host in ("sts.amazonaws.com", "s3.amazonaws.com", "bucket.s3.amazonaws.com",
                 "sts.us-east-1.amazonaws.com", "s3.eu-west-1.amazonaws.com",
                 "bucket.s3.eu-west-1.amazonaws.com", "s3-eu-west-1.amazonaws.com",
                 "bucket.s3-eu-west-1.amazonaws.com", "s3.dualstack.us-east-1.amazonaws.com",
                 "bucket.s3.dualstack.us-east-1.amazonaws.com",
                 "123456789012.ddb.us-east-1.amazonaws.com"):
        assert covered(host), host
    assert not covered("my.dotted.bucket.s3.amazonaws.com")  # as on AWS


@pytest.mark.parametrize("name", [
    "db.abc123.us-east-1.rds.amazonaws.com", "web-123.us-east-1.elb.amazonaws.com",
    "internal-web-123.eu-west-1.elb.amazonaws.com", "c.abc.0001.use1.cache.amazonaws.com",
    "ec2-127-100-0-5.compute-1.amazonaws.com", "ec2-127-100-0-5.eu-west-1.compute.amazonaws.com"])
def test_names_of_resources_are_answered_by_their_service_only(name):
    assert service_address(name) is None
    assert answer(name, "A", EAST) is None
    assert answer(name, "A", EAST, {name: "10.0.5.5"}.get) == ["10.0.5.5"]


def test_public_dns_names():
    from cloudlet.services.ec2.network.names import public_address

    assert public_address("ec2-127-100-0-5.compute-1.amazonaws.com") == "127.100.0.5"
    assert public_address("ec2-54-1-2-3.eu-west-1.compute.amazonaws.com") == "54.1.2.3"
    for name in ("ec2-127-100-0-256.compute-1.amazonaws.com", "ec2-1-2-3.compute-1.amazonaws.com",
                 "ec2-1-2-3-4.compute-2.amazonaws.com", "ip-1-2-3-4.compute-1.amazonaws.com"):
        assert public_address(name) is None
