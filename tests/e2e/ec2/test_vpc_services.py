"""AWS's endpoints seen from inside a VPC, and flow logs, through real clients: the VPC's
resolver (base + 2) answers the names the SDKs use by default, and Cloudlet's API answers
HTTPS on them where the VPC's routes lead (an internet gateway, a NAT gateway, an S3 gateway
endpoint), with a certificate from Cloudlet's CA; flow-log records reach CloudWatch Logs.

The vantage points are namespaces the EC2 API builds and the tests find by the server's
prefix (`prefix_for(data_dir)`): a NAT gateway's (an ENI with an Elastic IP in a public
subnet, or, with ConnectivityType private, an ENI in a private subnet), and an instance's
once RunInstances exists.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError
from dnslib import QTYPE, RCODE
from harness import CloudletProcess, unique
from inside_vpc import InsideVpc, ask

from cloudlet.services.ec2.fabric import prefix_for

API, S3, DYNAMODB = "198.18.0.10", "198.19.0.10", "198.19.1.10"
UNREACHABLE = (ConnectTimeoutError, EndpointConnectionError)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    if os.geteuid() != 0:
        pytest.skip("the VPC fabric needs root")
    found = CloudletProcess(data_dir=tmp_path_factory.mktemp("vpcsvc") / "data").start()
    yield found
    found.stop()


@pytest.fixture(scope="module")
def ec2(server):
    network = server.health()["engines"]["ec2"]["network"]
    if not network["enforced"]:
        pytest.skip(f"VPC fabric unavailable: {network['reason']}")
    return server.client("ec2")


@pytest.fixture(scope="module")
def keys(server):
    """An IAM user's access key (the default root credentials are refused in the cloud)."""
    iam = server.client("iam")
    name = unique("inside")
    iam.create_user(UserName=name)
    iam.put_user_policy(UserName=name, PolicyName="all", PolicyDocument=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:*","sts:*"],'
        '"Resource":"*"}]}'))
    key = iam.create_access_key(UserName=name)["AccessKey"]
    return {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"], "user": name}


@pytest.fixture(scope="module")
def net(server, ec2):
    """A VPC with a public subnet (an internet gateway route, a NAT gateway with an Elastic
    IP) and a private one (its own route table, nothing but local; a private NAT gateway
    there as the vantage point)."""
    vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16")["Vpc"]["VpcId"]
    public = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.1.0/24")["Subnet"]["SubnetId"]
    private = ec2.create_subnet(VpcId=vpc, CidrBlock="10.42.2.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    main = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=main, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    table = ec2.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2.associate_route_table(RouteTableId=table, SubnetId=private)
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    outbound = ec2.create_nat_gateway(SubnetId=public, AllocationId=address)["NatGateway"]
    inner = ec2.create_nat_gateway(SubnetId=private, ConnectivityType="private")["NatGateway"]
    prefix = prefix_for(server.data_dir)
    return {"vpc": vpc, "public": public, "private": private, "private_table": table,
            "nat": outbound["NatGatewayId"], "igw": igw,
            "nat_eni": outbound["NatGatewayAddresses"][0]["NetworkInterfaceId"],
            "public_ns": f"{prefix}-h-{outbound['NatGatewayId']}",
            "private_ns": f"{prefix}-h-{inner['NatGatewayId']}",
            "private_address": inner["NatGatewayAddresses"][0]["PrivateIp"],
            "resolver": "10.42.0.2"}


def client(service: str, keys: dict, ca: str, **kwargs):
    """A client as code in the cloud makes it: AWS's default endpoint, Cloudlet's CA."""
    config = Config(retries={"max_attempts": 1}, connect_timeout=1.5, read_timeout=10,
                    ignore_configured_endpoint_urls=True, **kwargs)
    return boto3.client(service, region_name="us-east-1", verify=ca, config=config,
                        aws_access_key_id=keys["aws_access_key_id"],
                        aws_secret_access_key=keys["aws_secret_access_key"])


def ca_bundle(server) -> str:
    return str(server.data_dir / "ca" / "ca-bundle.pem")


def caller(inside: InsideVpc, keys: dict, ca: str) -> str:
    return inside.run(lambda: client("sts", keys, ca).get_caller_identity()["Arn"])


# -- the resolver ------------------------------------------------------------------------------
def test_the_resolver_answers_aws_names_and_the_vpcs_private_names(net):
    where, resolver = net["public_ns"], net["resolver"]

    def a(name, tcp=False):
        reply = ask(where, resolver, name, tcp=tcp)
        assert reply is not None, name
        return [str(rr.rdata) for rr in reply.rr if rr.rtype == QTYPE.A], reply.header.rcode

    assert a("sts.us-east-1.amazonaws.com") == ([API], RCODE.NOERROR)
    assert a("sts.amazonaws.com") == ([API], RCODE.NOERROR)
    assert a("iam.amazonaws.com") == ([API], RCODE.NOERROR)
    assert a("ec2.eu-west-1.amazonaws.com") == ([API], RCODE.NOERROR)
    for name in ("s3.amazonaws.com", "my-bucket.s3.amazonaws.com", "s3.us-west-2.amazonaws.com",
                 "b.s3.eu-central-1.amazonaws.com", "s3-us-west-2.amazonaws.com"):
        assert a(name) == ([S3], RCODE.NOERROR), name
    assert a("dynamodb.us-east-1.amazonaws.com") == ([DYNAMODB], RCODE.NOERROR)
    assert a("ip-10-42-1-77.ec2.internal") == (["10.42.1.77"], RCODE.NOERROR)
    assert a("ip-10-43-1-77.ec2.internal") == ([], RCODE.NXDOMAIN)  # not in the VPC
    assert a("example.com") == ([], RCODE.NXDOMAIN)  # nothing is forwarded
    assert a("sts.us-east-1.amazonaws.com", tcp=True) == ([API], RCODE.NOERROR)
    ptr = ask(where, resolver, "77.1.42.10.in-addr.arpa", "PTR")
    assert [str(rr.rdata) for rr in ptr.rr] == ["ip-10-42-1-77.ec2.internal."]
    aaaa = ask(where, resolver, "sts.amazonaws.com", "AAAA")
    assert aaaa.header.rcode == RCODE.NOERROR and not aaaa.rr  # IPv4 only


def test_a_dhcp_domain_name_and_dns_support_follow_at_once(ec2, net):
    where, resolver = net["public_ns"], net["resolver"]
    options = ec2.create_dhcp_options(DhcpConfigurations=[
        {"Key": "domain-name", "Values": ["corp.example"]},
        {"Key": "domain-name-servers", "Values": ["AmazonProvidedDNS"]}])["DhcpOptions"]
    ec2.associate_dhcp_options(DhcpOptionsId=options["DhcpOptionsId"], VpcId=net["vpc"])
    try:
        reply = ask(where, resolver, "ip-10-42-2-9.corp.example")
        assert [str(rr.rdata) for rr in reply.rr] == ["10.42.2.9"]
        ec2.modify_vpc_attribute(VpcId=net["vpc"], EnableDnsSupport={"Value": False})
        assert ask(where, resolver, "sts.amazonaws.com", timeout=0.5) is None  # no answer
        assert ask(where, resolver, "sts.amazonaws.com", tcp=True, timeout=0.5) is None
        ec2.modify_vpc_attribute(VpcId=net["vpc"], EnableDnsSupport={"Value": True})
        assert [str(rr.rdata) for rr in ask(where, resolver, "sts.amazonaws.com").rr] == [API]
    finally:
        ec2.modify_vpc_attribute(VpcId=net["vpc"], EnableDnsSupport={"Value": True})
        ec2.associate_dhcp_options(DhcpOptionsId="default", VpcId=net["vpc"])
        ec2.delete_dhcp_options(DhcpOptionsId=options["DhcpOptionsId"])


# -- AWS's endpoints ---------------------------------------------------------------------------
def test_https_from_a_public_subnet_with_an_iam_users_key(server, net, keys):
    inside = InsideVpc(net["public_ns"], net["resolver"])
    ca = ca_bundle(server)
    assert caller(inside, keys, ca).endswith(f":user/{keys['user']}")
    default = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    with pytest.raises(ClientError) as refused:  # the default root is the host's only
        caller(inside, default, ca)
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
    bucket = unique("inside")
    s3 = server.client("s3")
    s3.create_bucket(Bucket=bucket)

    def objects():
        found = client("s3", keys, ca)  # virtual-hosted: <bucket>.s3.amazonaws.com
        found.put_object(Bucket=bucket, Key="k", Body=b"from inside")
        return found.get_object(Bucket=bucket, Key="k")["Body"].read()

    assert inside.run(objects) == b"from inside"
    path = inside.run(lambda: client("s3", keys, ca, s3={"addressing_style": "path"})
                      .list_objects_v2(Bucket=bucket)["KeyCount"])
    assert path == 1


def test_plain_http_on_port_80_and_dynamodb_not_served(server, net, keys):
    inside = InsideVpc(net["public_ns"], net["resolver"])

    def over_http():
        sts = boto3.client("sts", region_name="us-east-1", use_ssl=False,
                           endpoint_url="http://sts.us-east-1.amazonaws.com",
                           aws_access_key_id=keys["aws_access_key_id"],
                           aws_secret_access_key=keys["aws_secret_access_key"],
                           config=Config(retries={"max_attempts": 1}, connect_timeout=1.5))
        return sts.get_caller_identity()["Account"]

    assert inside.run(over_http) == "000000000000"
    with pytest.raises(ClientError) as unserved:
        inside.run(lambda: client("dynamodb", keys, ca_bundle(server)).list_tables())
    assert unserved.value.response["ResponseMetadata"]["HTTPStatusCode"] < 500


def test_a_private_subnet_reaches_nothing_then_s3_through_a_gateway_endpoint(
        server, ec2, net, keys):
    inside = InsideVpc(net["private_ns"], net["resolver"])
    ca = ca_bundle(server)
    assert [str(rr.rdata) for rr in ask(net["private_ns"], net["resolver"],
                                         "s3.amazonaws.com").rr] == [S3]  # DNS still answers
    with pytest.raises(UNREACHABLE):
        inside.run(lambda: client("s3", keys, ca).list_buckets())
    with pytest.raises(UNREACHABLE):
        caller(inside, keys, ca)
    endpoint = ec2.create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway",
        RouteTableIds=[net["private_table"]])["VpcEndpoint"]["VpcEndpointId"]
    try:
        assert "Buckets" in inside.run(lambda: client("s3", keys, ca).list_buckets())
        with pytest.raises(UNREACHABLE):  # the endpoint carries S3 only
            caller(inside, keys, ca)
    finally:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])
    with pytest.raises(UNREACHABLE):  # its namespace and listeners are gone with it
        inside.run(lambda: client("s3", keys, ca).list_buckets())


def test_a_private_subnet_through_a_nat_gateway(server, ec2, net, keys):
    inside = InsideVpc(net["private_ns"], net["resolver"])
    ca = ca_bundle(server)
    settled(ec2, net["nat"], "available")
    ec2.create_route(RouteTableId=net["private_table"], DestinationCidrBlock="0.0.0.0/0",
                     NatGatewayId=net["nat"])
    try:
        assert caller(inside, keys, ca).endswith(f":user/{keys['user']}")
    finally:
        ec2.delete_route(RouteTableId=net["private_table"], DestinationCidrBlock="0.0.0.0/0")
    with pytest.raises(UNREACHABLE):
        caller(inside, keys, ca)


def settled(ec2, nat_id: str, state: str) -> None:
    deadline = time.monotonic() + 15
    while ec2.describe_nat_gateways(NatGatewayIds=[nat_id])["NatGateways"][0]["State"] != state:
        assert time.monotonic() < deadline, f"{nat_id} never became {state}"
        time.sleep(0.2)


def test_endpoints_come_and_go_with_the_internet_gateway(server, ec2, keys):
    """Detached, the gateway's namespace and its listeners go; attached again, they are
    back (seen from a NAT gateway made after)."""
    vpc = ec2.create_vpc(CidrBlock="10.43.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.43.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    prefix, ca = prefix_for(server.data_dir), ca_bundle(server)
    gateway_ns = f"{prefix}-g-{vpc}"

    def through_a_new_nat():
        nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address)["NatGateway"][
            "NatGatewayId"]
        inside = InsideVpc(f"{prefix}-h-{nat}", "10.43.0.2")
        assert caller(inside, keys, ca).endswith(f":user/{keys['user']}")
        ec2.delete_nat_gateway(NatGatewayId=nat)
        settled(ec2, nat, "deleted")

    through_a_new_nat()
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert not os.path.exists(f"/run/netns/{gateway_ns}")
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    assert os.path.exists(f"/run/netns/{gateway_ns}")
    through_a_new_nat()
    ec2.detach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    ec2.delete_internet_gateway(InternetGatewayId=igw)
    ec2.release_address(AllocationId=address)
    ec2.delete_subnet(SubnetId=subnet)
    ec2.delete_vpc(VpcId=vpc)


@pytest.mark.skipif(shutil.which("aws") is None or shutil.which("ip") is None,
                    reason="needs the AWS CLI and iproute2")
def test_an_unchanged_aws_cli_inside_the_vpc(server, net, keys, tmp_path):
    """`aws sts get-caller-identity` with no endpoint URL, its names resolved by the system
    resolver from a resolv.conf that names the VPC's resolver (as an instance's does)."""
    made_root = not os.path.isdir("/etc/netns")
    etc = f"/etc/netns/{net['public_ns']}"
    os.makedirs(etc, exist_ok=True)
    try:
        with open(f"{etc}/resolv.conf", "w") as f:
            f.write(f"nameserver {net['resolver']}\noptions timeout:1 attempts:1\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=keys["aws_access_key_id"],
                   AWS_SECRET_ACCESS_KEY=keys["aws_secret_access_key"],
                   AWS_DEFAULT_REGION="us-east-1", AWS_CA_BUNDLE=ca_bundle(server),
                   AWS_CONFIG_FILE=str(tmp_path / "none"),
                   AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "none"))
        done = subprocess.run(["ip", "netns", "exec", net["public_ns"], "aws", "sts",
                               "get-caller-identity", "--output", "text", "--query", "Arn"],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().endswith(f":user/{keys['user']}")
    finally:
        shutil.rmtree(etc, ignore_errors=True)
        if made_root:
            with contextlib.suppress(OSError):  # only if nothing else is there
                os.rmdir("/etc/netns")


# -- flow logs -------------------------------------------------------------------------------
def delivered(server, group: str, stream: str, done) -> list[list[str]]:
    """The records of a log stream once `done(records)`, the service clock advanced past
    the aggregation window until then."""
    logs = server.client("logs")
    records: list[list[str]] = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        server.advance_clock(61)  # the aggregation window closes
        time.sleep(0.5)
        try:
            events = logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]
        except ClientError:
            continue
        records = [e["message"].split() for e in events]
        if done(records):
            return records
    raise AssertionError(f"no such record in {group}/{stream}: {records}")


def test_flow_log_records_of_accepted_traffic_reach_cloudwatch_logs(server, ec2, net, keys):
    group, custom = unique("/vpc/flows"), unique("/vpc/custom")
    made = ec2.create_flow_logs(ResourceIds=[net["public"]], ResourceType="Subnet",
                                TrafficType="ALL", LogGroupName=group,
                                DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/f",
                                MaxAggregationInterval=60)["FlowLogIds"]
    made += ec2.create_flow_logs(
        ResourceIds=[net["nat_eni"]], ResourceType="NetworkInterface", TrafficType="ACCEPT",
        LogDestination=f"arn:aws:logs:us-east-1:000000000000:log-group:{custom}:*",
        DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/f", MaxAggregationInterval=60,
        LogFormat="${version} ${vpc-id} ${subnet-id} ${interface-id} ${az-id} "
                  "${pkt-dst-aws-service} ${flow-direction} ${tcp-flags} ${action} ${dstport}"
    )["FlowLogIds"]
    stream = f"{net['nat_eni']}-all"  # the NAT gateway's interface, in the public subnet
    try:
        caller(InsideVpc(net["public_ns"], net["resolver"]), keys, ca_bundle(server))
        def sent_of(records):
            return [r for r in records if len(r) == 14 and r[4] == API and r[6] == "443"]

        records = delivered(server, group, stream, sent_of)
        sent = sent_of(records)
        version, account, eni, src, _, _, _, protocol, packets, size, start, end, action, \
            status = sent[0]
        assert (version, account, eni, protocol, action, status) == (
            "2", "000000000000", net["nat_eni"], "6", "ACCEPT", "OK")
        assert src.startswith("10.42.1.") and int(packets) >= 3 and int(size) > 0
        assert int(start) <= int(end)
        replies = [r for r in records if len(r) == 14 and r[3] == API and r[5] == "443"]
        assert replies and replies[0][12] == "ACCEPT"
        zone = ec2.describe_subnets(SubnetIds=[net["public"]])["Subnets"][0][
            "AvailabilityZoneId"]
        def out_of(records):
            return [r for r in records if r[5] == "AMAZON"]

        out = out_of(delivered(server, custom, stream, out_of))
        assert out[0][:7] == ["5", net["vpc"], net["public"], net["nat_eni"], zone, "AMAZON",
                              "egress"]
        assert int(out[0][7]) & 2 and out[0][8:] == ["ACCEPT", "443"]  # the SYN was in it
    finally:
        ec2.delete_flow_logs(FlowLogIds=made)


def test_flow_logs_to_s3_are_kept_but_not_delivered(ec2, net):
    made = ec2.create_flow_logs(ResourceIds=[net["vpc"]], ResourceType="VPC",
                                TrafficType="ALL", LogDestinationType="s3",
                                LogDestination="arn:aws:s3:::flow-logs-bucket")["FlowLogIds"]
    found = ec2.describe_flow_logs(FlowLogIds=made)["FlowLogs"][0]
    assert (found["DeliverLogsStatus"], found["DeliverLogsErrorMessage"]) == (
        "FAILED", "Unknown error")
    ec2.delete_flow_logs(FlowLogIds=made)


def test_a_custom_log_format_is_checked(ec2, net):
    with pytest.raises(ClientError) as bad:
        ec2.create_flow_logs(ResourceIds=[net["vpc"]], ResourceType="VPC", TrafficType="ALL",
                             LogGroupName="g", DeliverLogsPermissionArn="arn:aws:iam::1:role/f",
                             LogFormat="${version} ${no-such-field}")
    assert bad.value.response["Error"]["Code"] == "InvalidParameter"


# -- from instances ------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def launch(server, ec2, net):
    """launch(subnet, group, public) -> the instance's namespace, private IP and ENI; the
    instances are terminated at the end. Skips until RunInstances exists."""
    images = []
    try:
        images = sorted(ec2.describe_images(Owners=["amazon"], Filters=[
            {"Name": "name", "Values": ["al2023-ami-*"]}])["Images"],
            key=lambda i: i.get("CreationDate", ""), reverse=True)
    except ClientError as e:
        if e.response["Error"]["Code"] != "NotImplemented":
            raise
    if not images:
        pytest.skip("needs RunInstances")
    launched = []

    def run(subnet: str, group: str, public: bool) -> dict:
        try:
            found = ec2.run_instances(
                ImageId=images[0]["ImageId"], InstanceType="t3.micro", MinCount=1, MaxCount=1,
                NetworkInterfaces=[{"DeviceIndex": 0, "SubnetId": subnet, "Groups": [group],
                                    "AssociatePublicIpAddress": public}])["Instances"][0]
        except ClientError as e:
            if e.response["Error"]["Code"] == "NotImplemented":
                pytest.skip("needs RunInstances")
            raise
        launched.append(found["InstanceId"])
        deadline = time.monotonic() + 120
        while True:
            found = ec2.describe_instances(InstanceIds=[found["InstanceId"]])[
                "Reservations"][0]["Instances"][0]
            if found["State"]["Name"] == "running":
                break
            assert time.monotonic() < deadline, found["State"]
            time.sleep(0.5)
        return {"ns": f"{prefix_for(server.data_dir)}-h-{found['InstanceId']}",
                "address": found["PrivateIpAddress"],
                "eni": found["NetworkInterfaces"][0]["NetworkInterfaceId"],
                "public": found.get("PublicIpAddress")}

    yield run
    if launched:
        ec2.terminate_instances(InstanceIds=launched)


@pytest.fixture(scope="module")
def web_group(ec2, net):
    """Port 80 from the VPC; everything out."""
    group = ec2.create_security_group(GroupName=unique("web"), Description="web",
                                      VpcId=net["vpc"])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80,
         "IpRanges": [{"CidrIp": "10.42.0.0/16"}]}])
    return group


def test_an_instance_with_a_public_ip_reaches_sts_over_https(server, net, keys, launch,
                                                             web_group):
    found = launch(net["public"], web_group, True)
    assert found["public"]
    inside = InsideVpc(found["ns"], net["resolver"])
    ca = ca_bundle(server)
    assert caller(inside, keys, ca).endswith(f":user/{keys['user']}")
    with pytest.raises(ClientError) as refused:
        caller(inside, {"aws_access_key_id": "test", "aws_secret_access_key": "test"}, ca)
    assert refused.value.response["Error"]["Code"] == "InvalidClientTokenId"
    without = launch(net["public"], web_group, False)  # no public IP: the IGW lets it not out
    with pytest.raises(UNREACHABLE):
        caller(InsideVpc(without["ns"], net["resolver"]), keys, ca)


def test_an_instance_in_a_private_subnet_reaches_s3_only_through_an_endpoint(
        server, ec2, net, keys, launch, web_group):
    found = launch(net["private"], web_group, False)
    inside = InsideVpc(found["ns"], net["resolver"])
    ca = ca_bundle(server)
    assert [str(rr.rdata) for rr in ask(found["ns"], net["resolver"],
                                         "sts.us-east-1.amazonaws.com").rr] == [API]
    with pytest.raises(UNREACHABLE):
        caller(inside, keys, ca)
    with pytest.raises(UNREACHABLE):
        inside.run(lambda: client("s3", keys, ca).list_buckets())
    endpoint = ec2.create_vpc_endpoint(
        VpcId=net["vpc"], ServiceName="com.amazonaws.us-east-1.s3", VpcEndpointType="Gateway",
        RouteTableIds=[net["private_table"]])["VpcEndpoint"]["VpcEndpointId"]
    try:
        assert "Buckets" in inside.run(lambda: client("s3", keys, ca).list_buckets())
        with pytest.raises(UNREACHABLE):
            caller(inside, keys, ca)
    finally:
        ec2.delete_vpc_endpoints(VpcEndpointIds=[endpoint])


def test_flow_logs_of_an_instances_accepted_and_rejected_connections(
        server, ec2, net, launch, web_group):
    target = launch(net["public"], web_group, False)
    other = launch(net["public"], web_group, False)
    group = unique("/vpc/instance-flows")
    made = ec2.create_flow_logs(ResourceIds=[target["eni"]], ResourceType="NetworkInterface",
                                TrafficType="ALL", LogGroupName=group,
                                DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/f",
                                MaxAggregationInterval=60)["FlowLogIds"]
    from fabric_support import Listener, connect

    from cloudlet.engines.network import Fabric

    listeners = [Listener(Fabric, target["ns"], target["address"], port) for port in (80, 81)]
    try:
        assert connect(Fabric, other["ns"], target["address"], 80) == "open"
        assert connect(Fabric, other["ns"], target["address"], 81, timeout=0.5) == "timeout"

        def seen(records):
            return {r[12] for r in records if len(r) == 14 and r[3] == other["address"]
                    and r[4] == target["address"]}

        records = delivered(server, group, f"{target['eni']}-all",
                            lambda records: {"ACCEPT", "REJECT"} <= seen(records))
        assert {"ACCEPT", "REJECT"} <= seen(records)
    finally:
        for listener in listeners:
            listener.close()
        ec2.delete_flow_logs(FlowLogIds=made)


# -- across a restart --------------------------------------------------------------------------
def test_the_resolver_endpoints_and_flow_logs_are_back_after_a_restart(fresh_cloudlet, keys,
                                                                       tmp_path):
    """At start, the VPCs of the store get their resolver, endpoints and flow logs again; at
    stop, the records of the open windows are delivered."""
    server = fresh_cloudlet(data_dir=tmp_path / "restart")
    ec2 = server.client("ec2")
    if not server.health()["engines"]["ec2"]["network"]["enforced"]:
        pytest.skip("VPC fabric unavailable")
    iam = server.client("iam")
    iam.create_user(UserName="restart")
    key = iam.create_access_key(UserName="restart")["AccessKey"]
    mine = {"aws_access_key_id": key["AccessKeyId"],
            "aws_secret_access_key": key["SecretAccessKey"]}
    vpc = ec2.create_vpc(CidrBlock="10.44.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.44.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address)["NatGateway"]
    eni = nat["NatGatewayAddresses"][0]["NetworkInterfaceId"]
    ec2.create_flow_logs(ResourceIds=[vpc], ResourceType="VPC", TrafficType="ACCEPT",
                         LogGroupName="/restart", MaxAggregationInterval=600,
                         DeliverLogsPermissionArn="arn:aws:iam::000000000000:role/f")
    inside = InsideVpc(f"{prefix_for(server.data_dir)}-h-{nat['NatGatewayId']}", "10.44.0.2")
    ca = str(server.data_dir / "ca" / "ca-bundle.pem")
    assert caller(inside, mine, ca).endswith(":user/restart")
    server.stop()  # the window (600 s) is open: delivered at stop
    server = fresh_cloudlet(data_dir=tmp_path / "restart")
    logs = server.client("logs")
    before = logs.get_log_events(logGroupName="/restart", logStreamName=f"{eni}-all")["events"]
    assert any(e["message"].split()[4] == API for e in before)
    assert caller(inside, mine, ca).endswith(":user/restart")  # built again at start
    assert [str(rr.rdata) for rr in ask(inside.where, "10.44.0.2", "s3.amazonaws.com").rr] == [S3]
    server.stop()
    logs = fresh_cloudlet(data_dir=tmp_path / "restart").client("logs")
    events = logs.get_log_events(logGroupName="/restart", logStreamName=f"{eni}-all")["events"]
    assert len(events) > len(before)  # watched again after the restart
