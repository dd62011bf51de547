"""Terraform's data sources over the default VPC, a network ACL with subnets, and the
default security group managed as a resource."""

from __future__ import annotations

from terraform import Terraform, provider_block

CONFIG = '''
data "aws_vpc" "default" {
  default = true
}

data "aws_subnets" "default" {
  filter {
    name   = "vpc-id"
    values = [data.aws_vpc.default.id]
  }
}

data "aws_subnet" "a" {
  vpc_id            = data.aws_vpc.default.id
  availability_zone = "us-east-1a"
  default_for_az    = true
}

data "aws_security_group" "default" {
  vpc_id = data.aws_vpc.default.id
  name   = "default"
}

resource "aws_vpc" "acl" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_subnet" "acl" {
  vpc_id     = aws_vpc.acl.id
  cidr_block = "10.20.1.0/24"
}

resource "aws_network_acl" "web" {
  vpc_id     = aws_vpc.acl.id
  subnet_ids = [aws_subnet.acl.id]
  ingress {
    rule_no    = 100
    protocol   = "tcp"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 443
    to_port    = 443
  }
  egress {
    rule_no    = 100
    protocol   = "tcp"
    action     = "allow"
    cidr_block = "0.0.0.0/0"
    from_port  = 1024
    to_port    = 65535
  }
}

resource "aws_default_security_group" "acl" {
  vpc_id = aws_vpc.acl.id
  ingress {
    protocol  = -1
    self      = true
    from_port = 0
    to_port   = 0
  }
}

output "default_vpc" { value = data.aws_vpc.default.id }
output "default_cidr" { value = data.aws_vpc.default.cidr_block }
output "subnet_count" { value = length(data.aws_subnets.default.ids) }
output "subnet_a_cidr" { value = data.aws_subnet.a.cidr_block }
output "default_group" { value = data.aws_security_group.default.id }
output "acl" { value = aws_network_acl.web.id }
'''


def test_data_sources_acls_and_the_default_group(cloudlet, ec2, tmp_path):
    tf = Terraform(tmp_path)
    (tmp_path / "main.tf").write_text(provider_block(cloudlet.endpoint, ["ec2", "sts"]) + CONFIG)
    tf.init()
    tf.apply()
    default = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"][0]
    assert tf.output("default_vpc") == default["VpcId"]
    assert tf.output("default_cidr") == "172.31.0.0/16"
    assert tf.output("subnet_count") == "6"
    assert tf.output("subnet_a_cidr").startswith("172.31.")
    acl = ec2.describe_network_acls(NetworkAclIds=[tf.output("acl")])["NetworkAcls"][0]
    assert len(acl["Associations"]) == 1
    assert {(e["RuleNumber"], e["Egress"]) for e in acl["Entries"]} >= {(100, False), (100, True)}
    plan = tf.run("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    destroyed = tf.run("destroy", "-auto-approve", "-input=false")
    assert destroyed.returncode == 0, destroyed.stderr + destroyed.stdout
