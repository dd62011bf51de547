"""What every Describe* shares: tags, Filters with wildcards, MaxResults and NextToken."""

from __future__ import annotations

from ec2support import tags
from harness import error_of, unique


def test_create_describe_delete_tags(ec2, vpc):
    vpc_id = vpc["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc_id, CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    ec2.create_tags(Resources=[vpc_id, subnet], Tags=[{"Key": "env", "Value": "prod"},
                                                      {"Key": "Name", "Value": "main"}])
    assert tags(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]) == {"env": "prod", "Name": "main"}
    found = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [vpc_id, subnet]}])["Tags"]
    assert sorted((t["ResourceId"], t["ResourceType"], t["Key"], t["Value"]) for t in found) == \
        sorted([(vpc_id, "vpc", "Name", "main"), (vpc_id, "vpc", "env", "prod"),
                (subnet, "subnet", "Name", "main"), (subnet, "subnet", "env", "prod")])
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "env", "Value": "staging"}])  # no match
    assert tags(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0])["env"] == "prod"
    ec2.delete_tags(Resources=[vpc_id], Tags=[{"Key": "env"}])
    assert tags(ec2.describe_vpcs(VpcIds=[vpc_id])["Vpcs"][0]) == {"Name": "main"}
    assert error_of(ec2.create_tags, Resources=["vpc-0123456789abcdef0"],
                    Tags=[{"Key": "a", "Value": "b"}])[0] == "InvalidVpcID.NotFound"
    assert error_of(ec2.create_tags, Resources=[vpc_id],
                    Tags=[{"Key": "aws:x", "Value": "b"}])[0] == "InvalidParameterValue"
    assert error_of(ec2.create_tags, Resources=["nonsense"],
                    Tags=[{"Key": "a", "Value": "b"}])[0] == "InvalidID"


def test_tag_filters_and_wildcards(ec2):
    team = unique("team")
    made = []
    try:
        for i, env in enumerate(["prod-eu", "prod-us", "dev"]):
            vpc = ec2.create_vpc(CidrBlock=f"10.{50 + i}.0.0/16", TagSpecifications=[{
                "ResourceType": "vpc",
                "Tags": [{"Key": "team", "Value": team}, {"Key": "env", "Value": env}]}])["Vpc"]
            made.append(vpc["VpcId"])

        def ids(*filters):
            return [v["VpcId"] for v in ec2.describe_vpcs(Filters=[
                {"Name": "tag:team", "Values": [team]}, *filters])["Vpcs"]]

        assert ids() == made
        assert ids({"Name": "tag:env", "Values": ["prod-*"]}) == made[:2]
        assert ids({"Name": "tag:env", "Values": ["prod-?s"]}) == made[1:2]
        assert ids({"Name": "tag:env", "Values": ["dev", "prod-eu"]}) == [made[0], made[2]]
        assert ids({"Name": "tag-key", "Values": ["env"]}) == made
        assert ids({"Name": "tag-value", "Values": ["dev"]}) == made[2:]
        assert ids({"Name": "cidr", "Values": ["10.51.*"]}) == made[1:2]
        assert ids({"Name": "is-default", "Values": ["false"]}) == made
        assert ids({"Name": "state", "Values": ["pending"]}) == []
    finally:
        for vpc_id in made:
            ec2.delete_vpc(VpcId=vpc_id)


def test_pages(ec2, vpc):
    for i in range(7):
        ec2.create_security_group(GroupName=f"g{i}", Description="d", VpcId=vpc["VpcId"])
    by_vpc = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    seen, token, pages = [], None, 0
    while True:
        page = ec2.describe_security_groups(Filters=by_vpc, MaxResults=5,
                                            **({"NextToken": token} if token else {}))
        seen += [g["GroupName"] for g in page["SecurityGroups"]]
        pages += 1
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 2 and sorted(seen) == sorted(["default"] + [f"g{i}" for i in range(7)])
    paginator = ec2.get_paginator("describe_security_groups")
    names = [g["GroupName"] for p in paginator.paginate(Filters=by_vpc,
                                                         PaginationConfig={"PageSize": 5})
             for g in p["SecurityGroups"]]
    assert sorted(names) == sorted(seen)
    code, _, message = error_of(ec2.describe_security_groups, MaxResults=1001)
    assert code == "InvalidParameterValue" and "maxResults" in message
    assert error_of(ec2.describe_vpcs, NextToken="!!not-a-token!!")[0] == "InvalidPaginationToken"


def test_ids_and_filters_together(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    other = [{"Name": "vpc-id", "Values": ["vpc-0123456789abcdef0"]}]
    assert ec2.describe_subnets(SubnetIds=[subnet], Filters=other)["Subnets"] == []
    mine = [{"Name": "vpc-id", "Values": [vpc["VpcId"]]}]
    assert len(ec2.describe_subnets(SubnetIds=[subnet], Filters=mine)["Subnets"]) == 1
