"""The seed's VPC through Terraform's AWS provider: it applies, plans no change afterwards,
and destroys (tests/e2e/ec2/terraform/seed_vpc/main.tf)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from harness import error_of
from terraform import Terraform, provider_block

SEED_VPC = Path(__file__).parent / "terraform" / "seed_vpc"


def test_the_seed_vpc_applies_replans_clean_and_destroys(cloudlet, ec2, tmp_path):
    tf = Terraform(tmp_path)
    shutil.copy(SEED_VPC / "main.tf", tmp_path / "main.tf")
    (tmp_path / "provider.tf").write_text(provider_block(cloudlet.endpoint, ["ec2", "sts"]))
    tf.init()
    tf.apply()
    vpc_id = tf.output("vpc_id")
    by_vpc = [{"Name": "vpc-id", "Values": [vpc_id]}]
    subnets = ec2.describe_subnets(Filters=by_vpc)["Subnets"]
    assert len(subnets) == 4 and len({s["AvailabilityZone"] for s in subnets}) == 2
    listed = tf.run("output", "-json", "public_subnet_ids")
    assert listed.returncode == 0, listed.stderr
    public = set(json.loads(listed.stdout))
    assert {s["SubnetId"] for s in subnets if s["MapPublicIpOnLaunch"]} == public
    nat = ec2.describe_nat_gateways(NatGatewayIds=[tf.output("nat_gateway_id")])["NatGateways"][0]
    assert nat["State"] == "available" and nat["SubnetId"] in public
    tables = ec2.describe_route_tables(Filters=by_vpc)["RouteTables"]
    private = next(t for t in tables if any(r.get("NatGatewayId") for r in t["Routes"]))
    assert {"DestinationPrefixListId": "pl-63a5400a", "GatewayId": tf.output("s3_endpoint_id"),
            "Origin": "CreateRoute", "State": "active"} in private["Routes"]
    groups = {g["GroupName"]: g for g in ec2.describe_security_groups(Filters=by_vpc)[
        "SecurityGroups"]}
    assert groups["alb"]["IpPermissions"][0]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert groups["app"]["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == \
        tf.output("alb_sg")
    db = groups["db"]
    assert db["IpPermissionsEgress"] == []  # Terraform revoked the default egress rule
    assert db["IpPermissions"][0]["FromPort"] == 5432
    assert db["IpPermissions"][0]["UserIdGroupPairs"][0]["GroupId"] == tf.output("app_sg")

    plan = tf.run("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 0, plan.stdout + plan.stderr  # 0: no changes

    destroyed = tf.run("destroy", "-auto-approve", "-input=false")
    assert destroyed.returncode == 0, destroyed.stderr + destroyed.stdout
    assert error_of(ec2.describe_vpcs, VpcIds=[vpc_id])[0] == "InvalidVpcID.NotFound"
