"""IMDS against the handler, with fixture instance documents: the tree cloud-init and botocore
read, listings and trailing slashes, IMDSv2 tokens and their TTLs, the headers AWS checks."""

from __future__ import annotations

import json

import pytest

from cloudlet import clock
from cloudlet.services.ec2.compute.metadata_handler import MetadataHandler, Request, Tokens
from cloudlet.services.ec2.compute.metadata_tree import VERSIONS, InstanceFacts
from tests.services.ec2_instances import SECOND_ENI, instance

PEER = "10.0.1.5"
VPC = {"VpcId": "vpc-0bbbbbbbbbbbbbbbb", "CidrBlock": "10.0.0.0/16",
       "CidrBlockAssociationSet": [
           {"CidrBlock": "10.0.0.0/16", "CidrBlockState": {"State": "associated"}},
           {"CidrBlock": "10.1.0.0/16", "CidrBlockState": {"State": "associated"}}]}
SUBNETS = {"subnet-0aaaaaaaaaaaaaaaa": {"SubnetId": "subnet-0aaaaaaaaaaaaaaaa",
                                        "CidrBlock": "10.0.1.0/24"},
           "subnet-0aaaaaaaaaaaaaaa2": {"SubnetId": "subnet-0aaaaaaaaaaaaaaa2",
                                        "CidrBlock": "10.0.2.0/24"}}
PROFILE = {"InstanceProfileName": "app-profile", "InstanceProfileId": "AIPAEXAMPLEPROFILE01",
           "Arn": "arn:aws:iam::000000000000:instance-profile/app-profile",
           "Roles": [{"RoleName": "app-role", "Arn": "arn:aws:iam::000000000000:role/app-role"}]}
SESSION = {"Code": "Success", "LastUpdated": "2025-01-01T00:00:05Z", "Type": "AWS-HMAC",
           "AccessKeyId": "ASIAEXAMPLE", "SecretAccessKey": "secret", "Token": "token",
           "Expiration": "2025-01-01T06:00:05Z"}


def facts(doc=None, **kwargs) -> InstanceFacts:
    kwargs.setdefault("profile", PROFILE)
    kwargs.setdefault("credentials", lambda: dict(SESSION))
    kwargs.setdefault("sign", lambda document: {"signature": "c2ln", "pkcs7": "cGtjcw==",
                                                "rsa2048": "cnNh"})
    return InstanceFacts(account="000000000000", region="us-east-1",
                         instance=doc or instance(), vpc=VPC, subnets=SUBNETS,
                         groups={"sg-0ccccccccccccccc1": "web"},
                         tags=[{"Key": "Name", "Value": "web-1"}, {"Key": "team", "Value": "a"}],
                         **kwargs)


class Imds:
    """The handler, with one instance at PEER."""

    def __init__(self, **kwargs):
        self.facts = facts(**kwargs)
        self.tokens = Tokens()
        self.handler = MetadataHandler(lambda peer: self.facts if peer == PEER else None,
                                       self.tokens)

    def __call__(self, path, method="GET", peer=PEER, **headers):
        return self.handler(Request(method, path, {k.lower().replace("_", "-"): v
                                                   for k, v in headers.items()}, peer))

    def text(self, path, **headers) -> str:
        response = self(path, **headers)
        assert response.status == 200, (path, response.status)
        return response.body.decode()

    def token(self, ttl="21600") -> str:
        response = self("/latest/api/token", "PUT", x_aws_ec2_metadata_token_ttl_seconds=ttl)
        assert response.status == 200
        return response.body.decode()


@pytest.fixture
def imds():
    return Imds()


# -- the tree ------------------------------------------------------------------------------

def test_versions_and_a_versions_listing(imds):
    assert imds.text("/").split("\n") == list(VERSIONS)
    assert imds.text("/latest/").split("\n") == ["dynamic", "meta-data", "user-data"]
    for version in ("2009-04-04", "2016-09-02", "2021-03-23", "latest"):
        assert imds.text(f"/{version}/meta-data/instance-id") == "i-0123456789abcdef0"


def test_meta_data_lists_what_aws_lists_sorted_with_directories_marked(imds):
    listing = imds.text("/latest/meta-data/").split("\n")
    assert listing == sorted(listing)
    for name in ("ami-id", "ami-launch-index", "block-device-mapping/", "hostname", "iam/",
                 "instance-id", "instance-type", "local-hostname", "local-ipv4", "mac",
                 "network/", "placement/", "public-hostname", "public-ipv4", "public-keys/",
                 "reservation-id", "security-groups", "services/"):
        assert name in listing
    assert "tags/" not in listing  # InstanceMetadataTags is disabled


def test_leaves(imds):
    m = "/latest/meta-data/"
    assert imds.text(m + "ami-id") == "ami-0abcdef1234567890"
    assert imds.text(m + "instance-type") == "t3.micro"
    assert imds.text(m + "local-ipv4") == "10.0.1.5"
    assert imds.text(m + "public-ipv4") == "127.100.0.7"
    assert imds.text(m + "local-hostname") == "ip-10-0-1-5.ec2.internal"
    assert imds.text(m + "hostname") == "ip-10-0-1-5.ec2.internal"
    assert imds.text(m + "public-hostname") == "ec2-127-100-0-7.compute-1.amazonaws.com"
    assert imds.text(m + "mac") == "0e:49:61:0f:c3:11"
    assert imds.text(m + "reservation-id") == "r-0eeeeeeeeeeeeeeee"
    assert imds.text(m + "ami-launch-index") == "0"
    assert imds.text(m + "security-groups") == "web\ndefault"
    assert imds.text(m + "services/domain") == "amazonaws.com"
    assert imds.text(m + "placement/availability-zone") == "us-east-1a"
    assert imds.text(m + "placement/availability-zone-id") == "use1-az1"
    assert imds.text(m + "placement/region") == "us-east-1"


def test_leaves_answer_with_a_trailing_slash_and_directories_without(imds):
    # botocore's region lookup asks for placement/availability-zone/
    assert imds.text("/latest/meta-data/placement/availability-zone/") == "us-east-1a"
    assert imds.text("/latest/meta-data/instance-id/") == "i-0123456789abcdef0"
    assert imds.text("/latest/meta-data/placement") == imds.text("/latest/meta-data/placement/")
    assert imds.text("/latest/meta-data/placement/") == (
        "availability-zone\navailability-zone-id\nregion")
    assert imds.text("/latest/meta-data") == imds.text("/latest/meta-data/")
    assert imds("/latest/meta-data/no-such-key").status == 404
    assert imds("/latest/meta-data/instance-id/more").status == 404
    assert imds("/nonsense/").status == 404


def test_not_found_is_aws_html_page(imds):
    response = imds("/latest/meta-data/nope")
    assert response.status == 404
    assert dict(response.headers)["Content-Type"] == "text/html"
    assert b"<title>404 - Not Found</title>" in response.body


def test_public_keys(imds):
    assert imds.text("/latest/meta-data/public-keys/") == "0=my-key"
    assert imds.text("/latest/meta-data/public-keys/0/") == "openssh-key"
    assert imds.text("/latest/meta-data/public-keys/0/openssh-key").startswith("ssh-ed25519 ")


def test_without_a_key_pair_public_ip_or_profile_those_are_absent():
    imds = Imds(doc=instance(KeyName=None, _public_keys=None, PublicIpAddress=None,
                             PublicDnsName=None, IamInstanceProfile=None), profile=None)
    listing = imds.text("/latest/meta-data/").split("\n")
    for name in ("public-keys/", "public-ipv4", "public-hostname", "iam/"):
        assert name not in listing
        assert imds(f"/latest/meta-data/{name}").status == 404


def test_user_data_raw_and_404_when_none(imds):
    response = imds("/latest/user-data")
    assert response.body == b"#!/bin/sh\necho hello > /tmp/hello\n"
    assert dict(response.headers)["Content-Type"] == "application/octet-stream"
    bare = Imds(doc=instance(_user_data=None))
    assert bare("/latest/user-data").status == 404
    assert bare.text("/latest/").split("\n") == ["dynamic", "meta-data"]


def test_network_interfaces(imds):
    doc = instance()
    doc["NetworkInterfaces"].append(SECOND_ENI)
    imds = Imds(doc=doc)
    macs = "/latest/meta-data/network/interfaces/macs/"
    assert imds.text(macs) == "0e:49:61:0f:c3:11/\n0e:49:61:0f:c3:22/"
    first = macs + "0e:49:61:0f:c3:11/"
    listing = imds.text(first).split("\n")
    for name in ("device-number", "interface-id", "ipv4-associations/", "local-hostname",
                 "local-ipv4s", "mac", "owner-id", "public-hostname", "public-ipv4s",
                 "security-group-ids", "security-groups", "subnet-id", "subnet-ipv4-cidr-block",
                 "vpc-id", "vpc-ipv4-cidr-block", "vpc-ipv4-cidr-blocks"):
        assert name in listing
    assert imds.text(first + "device-number") == "0"
    assert imds.text(first + "interface-id") == "eni-0ddddddddddddddd1"
    assert imds.text(first + "local-ipv4s") == "10.0.1.5\n10.0.1.6"
    assert imds.text(first + "public-ipv4s") == "127.100.0.7"
    assert imds.text(first + "ipv4-associations/127.100.0.7") == "10.0.1.5"
    assert imds.text(first + "subnet-id") == "subnet-0aaaaaaaaaaaaaaaa"
    assert imds.text(first + "subnet-ipv4-cidr-block") == "10.0.1.0/24"
    assert imds.text(first + "vpc-id") == "vpc-0bbbbbbbbbbbbbbbb"
    assert imds.text(first + "vpc-ipv4-cidr-block") == "10.0.0.0/16"
    assert imds.text(first + "vpc-ipv4-cidr-blocks") == "10.0.0.0/16\n10.1.0.0/16"
    assert imds.text(first + "security-group-ids") == "sg-0ccccccccccccccc1\nsg-0ccccccccccccccc2"
    assert imds.text(first + "security-groups") == "web\ndefault"
    second = macs + "0e:49:61:0f:c3:22/"
    assert imds.text(second + "device-number") == "1"
    assert imds.text(second + "security-groups") == "web"  # named from the group's record
    assert imds.text(second + "subnet-ipv4-cidr-block") == "10.0.2.0/24"
    assert "public-ipv4s" not in imds.text(second).split("\n")


def test_block_device_mapping(imds):
    base = "/latest/meta-data/block-device-mapping/"
    assert imds.text(base) == "ami\nebs1\nroot"
    assert imds.text(base + "ami") == "/dev/xvda"
    assert imds.text(base + "root") == "/dev/xvda"
    assert imds.text(base + "ebs1") == "sdf"


def test_tags_only_when_instance_metadata_tags_is_enabled():
    doc = instance()
    doc["MetadataOptions"]["InstanceMetadataTags"] = "enabled"
    imds = Imds(doc=doc)
    assert "tags/" in imds.text("/latest/meta-data/").split("\n")
    assert imds.text("/latest/meta-data/tags/instance/") == "Name\nteam"
    assert imds.text("/latest/meta-data/tags/instance/Name") == "web-1"
    assert Imds()("/latest/meta-data/tags/instance/Name").status == 404


def test_iam_info_and_credentials(imds):
    assert imds.text("/latest/meta-data/iam/") == "info\nsecurity-credentials/"
    assert imds.text("/latest/meta-data/iam/security-credentials/") == "app-role"
    text = imds.text("/latest/meta-data/iam/security-credentials/app-role")
    assert '"Code" : "Success"' in text  # IMDS's own JSON layout
    assert list(json.loads(text)) == ["Code", "LastUpdated", "Type", "AccessKeyId",
                                      "SecretAccessKey", "Token", "Expiration"]
    info = json.loads(imds.text("/latest/meta-data/iam/info"))
    assert info == {"Code": "Success", "LastUpdated": "2025-01-01T00:00:05Z",
                    "InstanceProfileArn": PROFILE["Arn"],
                    "InstanceProfileId": "AIPAEXAMPLEPROFILE01"}


def test_iam_info_tells_when_ec2_cannot_assume_the_role():
    refused = {"Code": "AssumeRoleUnauthorizedAccess", "Message": "EC2 cannot assume the role",
               "LastUpdated": "2025-01-01T00:00:05Z"}
    imds = Imds(credentials=lambda: dict(refused))
    assert json.loads(imds.text("/latest/meta-data/iam/info")) == refused


def test_a_listing_never_mints_credentials():
    minted = []
    imds = Imds(credentials=lambda: minted.append(1) or dict(SESSION))
    imds.text("/latest/meta-data/")
    imds.text("/latest/meta-data/iam/")
    imds.text("/latest/meta-data/iam/security-credentials/")
    assert minted == []


def test_identity_document(imds):
    assert imds.text("/latest/dynamic/") == "instance-identity/"
    assert imds.text("/latest/dynamic/instance-identity/") == "document\npkcs7\nrsa2048\nsignature"
    text = imds.text("/latest/dynamic/instance-identity/document")
    assert text.startswith('{\n  "accountId" : "000000000000",\n')
    document = json.loads(text)
    assert list(document) == [  # AWS's order, as its IMDS writes it
        "accountId", "architecture", "availabilityZone", "billingProducts", "devpayProductCodes",
        "marketplaceProductCodes", "imageId", "instanceId", "instanceType", "kernelId",
        "pendingTime", "privateIp", "ramdiskId", "region", "version"]
    assert document["instanceId"] == "i-0123456789abcdef0"
    assert document["imageId"] == "ami-0abcdef1234567890"
    assert document["instanceType"] == "t3.micro"
    assert document["availabilityZone"] == "us-east-1a"
    assert document["region"] == "us-east-1"
    assert document["privateIp"] == "10.0.1.5"
    assert document["pendingTime"] == "2025-01-01T00:00:00Z"
    assert document["version"] == "2017-09-30"
    assert document["architecture"] in ("x86_64", "arm64")
    assert document["kernelId"] is None and document["billingProducts"] is None
    assert imds.text("/latest/dynamic/instance-identity/signature") == "c2ln"
    assert imds.text("/latest/dynamic/instance-identity/rsa2048") == "cnNh"


# -- IMDSv2 tokens --------------------------------------------------------------------------

def test_token_put_answers_a_token_with_its_ttl_and_the_hop_limit(imds):
    response = imds("/latest/api/token", "PUT", x_aws_ec2_metadata_token_ttl_seconds="60")
    assert response.status == 200 and response.body
    assert dict(response.headers)["X-Aws-Ec2-Metadata-Token-Ttl-Seconds"] == "60"
    assert response.ttl == 1  # HttpPutResponseHopLimit's default
    doc = instance()
    doc["MetadataOptions"]["HttpPutResponseHopLimit"] = 3
    far = Imds(doc=doc)
    assert far("/latest/api/token", "PUT", x_aws_ec2_metadata_token_ttl_seconds="60").ttl == 3
    assert imds("/latest/meta-data/", x_aws_ec2_metadata_token=response.body.decode()).ttl is None


@pytest.mark.parametrize("ttl", [None, "", "0", "21601", "-1", "abc", "1.5", "²", "9" * 5000])
def test_token_ttl_out_of_range_or_missing_is_400(imds, ttl):
    headers = {} if ttl is None else {"x_aws_ec2_metadata_token_ttl_seconds": ttl}
    assert imds("/latest/api/token", "PUT", **headers).status == 400


@pytest.mark.parametrize("ttl", ["1", "21600"])
def test_token_ttl_bounds_are_accepted(imds, ttl):
    assert imds("/latest/api/token", "PUT", x_aws_ec2_metadata_token_ttl_seconds=ttl).status == 200


def test_token_put_through_a_proxy_is_refused(imds):
    response = imds("/latest/api/token", "PUT", x_aws_ec2_metadata_token_ttl_seconds="60",
                    x_forwarded_for="203.0.113.9")
    assert response.status == 403


def test_token_path_takes_only_put_and_data_paths_no_put(imds):
    assert imds("/latest/api/token").status == 405
    assert imds("/latest/meta-data/", "PUT").status == 405
    assert imds("/latest/meta-data/", "POST").status == 405
    assert imds("/latest/meta-data/", "DELETE").status == 405


def test_valid_token_says_what_is_left(imds, monkeypatch):
    token = imds.token("600")
    now = clock.timestamp()
    monkeypatch.setattr(clock, "timestamp", lambda: now + 100)
    response = imds("/latest/meta-data/instance-id", x_aws_ec2_metadata_token=token)
    assert response.status == 200 and response.body == b"i-0123456789abcdef0"
    assert int(dict(response.headers)["X-Aws-Ec2-Metadata-Token-Ttl-Seconds"]) in (499, 500)


def test_expired_token_is_401_on_the_service_clock(imds, monkeypatch):
    token = imds.token("60")
    now = clock.timestamp()
    monkeypatch.setattr(clock, "timestamp", lambda: now + 61)
    assert imds("/latest/meta-data/", x_aws_ec2_metadata_token=token).status == 401
    # IMDSv1 still works (HttpTokens optional)
    assert imds("/latest/meta-data/").status == 200


@pytest.mark.parametrize("token", ["", "garbage", "AQAEAHQgaxvR8iR5UDUHi5lyt0Jzp3zDnQ==", "a" * 56])
def test_invalid_token_is_401_even_when_tokens_are_optional(imds, token):
    assert imds("/latest/meta-data/", x_aws_ec2_metadata_token=token).status == 401


def test_a_token_is_bound_to_its_instance(imds):
    token = imds.token()
    other = Imds(doc=instance(InstanceId="i-0fedcba9876543210"))
    other.tokens = imds.tokens
    other.handler.tokens = imds.tokens
    assert other("/latest/meta-data/", x_aws_ec2_metadata_token=token).status == 401


def test_http_tokens_required():
    doc = instance()
    doc["MetadataOptions"]["HttpTokens"] = "required"
    imds = Imds(doc=doc)
    response = imds("/latest/meta-data/")
    assert response.status == 401
    assert b"401 - Unauthorized" in response.body
    assert imds("/latest/meta-data/nope").status == 401  # before it says 404
    token = imds.token()
    assert imds.text("/latest/meta-data/instance-id",
                     x_aws_ec2_metadata_token=token) == "i-0123456789abcdef0"
    assert imds("/latest/meta-data/nope", x_aws_ec2_metadata_token=token).status == 404


def test_endpoint_disabled_and_strangers_get_403():
    doc = instance()
    doc["MetadataOptions"]["HttpEndpoint"] = "disabled"
    imds = Imds(doc=doc)
    assert imds("/latest/meta-data/").status == 403
    assert imds("/latest/api/token", "PUT", x_aws_ec2_metadata_token_ttl_seconds="60").status == 403
    assert Imds()("/latest/meta-data/", peer="10.0.9.9").status == 403


def test_head_and_query_strings(imds):
    response = imds("/latest/meta-data/instance-id", "HEAD")
    assert response.status == 200 and response.body == b"i-0123456789abcdef0"  # the server drops it
    assert imds.text("/latest/meta-data/instance-id?x=1") == "i-0123456789abcdef0"


def test_a_failing_lookup_is_a_500_not_a_crash():
    def broken(peer):
        raise RuntimeError("store gone")

    handler = MetadataHandler(broken, Tokens())
    assert handler(Request("GET", "/latest/meta-data/", {}, PEER)).status == 500
