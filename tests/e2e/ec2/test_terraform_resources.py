"""More of Terraform's VPC resources and data sources, in one apply: data sources over the
default VPC; a network ACL with subnets; the default security group as a resource; separate
rules and routes; an interface with an Elastic IP; an egress-only gateway; DHCP options; a
flow log. It applies, re-plans with no change and destroys."""

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

resource "aws_vpc" "main" {
  cidr_block                       = "10.30.0.0/16"
  assign_generated_ipv6_cidr_block = true
}

resource "aws_subnet" "a" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.30.1.0/24"
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_egress_only_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route" "internet" {
  route_table_id         = aws_route_table.main.id
  destination_cidr_block = "0.0.0.0/0"
  gateway_id             = aws_internet_gateway.main.id
}

resource "aws_route" "ipv6_out" {
  route_table_id              = aws_route_table.main.id
  destination_ipv6_cidr_block = "::/0"
  egress_only_gateway_id      = aws_egress_only_internet_gateway.main.id
}

resource "aws_security_group" "web" {
  name   = "web"
  vpc_id = aws_vpc.main.id
}

resource "aws_security_group_rule" "https" {
  type              = "ingress"
  security_group_id = aws_security_group.web.id
  protocol          = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_blocks       = ["0.0.0.0/0"]
  ipv6_cidr_blocks  = ["::/0"]
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.web.id
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_network_interface" "web" {
  subnet_id       = aws_subnet.a.id
  private_ips     = ["10.30.1.10"]
  security_groups = [aws_security_group.web.id]
}

resource "aws_eip" "web" {
  domain = "vpc"
}

resource "aws_eip_association" "web" {
  allocation_id        = aws_eip.web.id
  network_interface_id = aws_network_interface.web.id
  depends_on           = [aws_internet_gateway.main]
}

resource "aws_vpc_dhcp_options" "corp" {
  domain_name         = "corp.internal"
  domain_name_servers = ["AmazonProvidedDNS"]
}

resource "aws_vpc_dhcp_options_association" "corp" {
  vpc_id          = aws_vpc.main.id
  dhcp_options_id = aws_vpc_dhcp_options.corp.id
}

resource "aws_flow_log" "vpc" {
  vpc_id               = aws_vpc.main.id
  traffic_type         = "ALL"
  log_destination_type = "s3"
  log_destination      = "arn:aws:s3:::flow-logs-bucket"
}

output "eni" { value = aws_network_interface.web.id }
output "public_ip" { value = aws_eip.web.public_ip }
'''


def test_more_resources_apply_replan_clean_and_destroy(cloudlet, ec2, tmp_path):
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
    eni = ec2.describe_network_interfaces(NetworkInterfaceIds=[tf.output("eni")])[
        "NetworkInterfaces"][0]
    assert eni["PrivateIpAddress"] == "10.30.1.10"
    assert eni["Association"]["PublicIp"] == tf.output("public_ip")
    assert tf.output("public_ip").startswith("127.")  # the server's loopback range
    plan = tf.run("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 0, plan.stdout + plan.stderr  # 0: no changes
    destroyed = tf.run("destroy", "-auto-approve", "-input=false")
    assert destroyed.returncode == 0, destroyed.stderr + destroyed.stdout
