"""Network interfaces: addresses from the subnet, groups, source/dest check, secondary
private IPs; attaching to an instance waits for the compute half."""

from __future__ import annotations

from harness import error_of


def test_an_interface_takes_its_address_from_the_subnet(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.1.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet, Description="app", TagSpecifications=[
        {"ResourceType": "network-interface", "Tags": [{"Key": "Name", "Value": "n"}]}])[
        "NetworkInterface"]
    assert eni["NetworkInterfaceId"].startswith("eni-")
    assert eni["PrivateIpAddress"] == "10.0.1.4"  # .0-.3 and .255 are AWS's
    assert eni["PrivateDnsName"] == "ip-10-0-1-4.ec2.internal"
    assert eni["Status"] == "available" and eni["SourceDestCheck"] is True
    assert eni["InterfaceType"] == "interface" and eni["MacAddress"].startswith("02:")
    assert eni["TagSet"] == [{"Key": "Name", "Value": "n"}]
    default = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    assert [g["GroupId"] for g in eni["Groups"]] == [default]
    left = ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"]
    assert left == 250
    chosen = ec2.create_network_interface(SubnetId=subnet, PrivateIpAddress="10.0.1.50")
    assert chosen["NetworkInterface"]["PrivateIpAddress"] == "10.0.1.50"
    assert error_of(ec2.create_network_interface, SubnetId=subnet,
                    PrivateIpAddress="10.0.1.50")[0] == "InvalidIPAddress.InUse"
    found = ec2.describe_network_interfaces(Filters=[
        {"Name": "private-ip-address", "Values": ["10.0.1.50"]}])["NetworkInterfaces"]
    assert [e["NetworkInterfaceId"] for e in found] == [
        chosen["NetworkInterface"]["NetworkInterfaceId"]]


def test_modify_groups_and_source_dest_check(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.2.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    web = ec2.create_security_group(GroupName="web", Description="w", VpcId=vpc["VpcId"])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni, Groups=[web["GroupId"]])
    ec2.modify_network_interface_attribute(NetworkInterfaceId=eni,
                                           SourceDestCheck={"Value": False})
    groups = ec2.describe_network_interface_attribute(NetworkInterfaceId=eni,
                                                      Attribute="groupSet")["Groups"]
    assert groups == [{"GroupId": web["GroupId"], "GroupName": "web"}]
    check = ec2.describe_network_interface_attribute(NetworkInterfaceId=eni,
                                                     Attribute="sourceDestCheck")
    assert check["SourceDestCheck"] == {"Value": False}
    assert error_of(ec2.delete_security_group, GroupId=web["GroupId"])[0] == "DependencyViolation"
    assert error_of(ec2.modify_network_interface_attribute, NetworkInterfaceId=eni,
                    Groups=["sg-0123456789abcdef0"])[0] == "InvalidGroup.NotFound"


def test_secondary_private_addresses(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.3.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet, SecondaryPrivateIpAddressCount=1)[
        "NetworkInterface"]
    assert len(eni["PrivateIpAddresses"]) == 2
    eni_id = eni["NetworkInterfaceId"]
    assigned = ec2.assign_private_ip_addresses(NetworkInterfaceId=eni_id,
                                               PrivateIpAddresses=["10.0.3.100"])
    assert assigned["AssignedPrivateIpAddresses"] == [{"PrivateIpAddress": "10.0.3.100"}]
    ec2.unassign_private_ip_addresses(NetworkInterfaceId=eni_id, PrivateIpAddresses=["10.0.3.100"])
    found = ec2.describe_network_interfaces(NetworkInterfaceIds=[eni_id])["NetworkInterfaces"][0]
    assert "10.0.3.100" not in [a["PrivateIpAddress"] for a in found["PrivateIpAddresses"]]
    assert error_of(ec2.unassign_private_ip_addresses, NetworkInterfaceId=eni_id,
                    PrivateIpAddresses=[eni["PrivateIpAddress"]])[0] == "InvalidParameterValue"


def test_attaching_to_an_instance_waits_for_instances(ec2, vpc):
    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.4.0/24")["Subnet"]["SubnetId"]
    eni = ec2.create_network_interface(SubnetId=subnet)["NetworkInterface"]["NetworkInterfaceId"]
    code, _, message = error_of(ec2.attach_network_interface, NetworkInterfaceId=eni,
                                InstanceId="i-0123456789abcdef0", DeviceIndex=1)
    assert (code, message) == ("InvalidInstanceID.NotFound",
                               "The instance ID 'i-0123456789abcdef0' does not exist")
    assert error_of(ec2.detach_network_interface,
                    AttachmentId="eni-attach-0123456789abcdef0")[0] == "InvalidAttachmentID.NotFound"
    assert error_of(ec2.delete_network_interface,
                    NetworkInterfaceId="eni-0123456789abcdef0")[0] == \
        "InvalidNetworkInterfaceID.NotFound"


def test_concurrent_interfaces_never_share_an_address(cloudlet, ec2, vpc):
    from concurrent.futures import ThreadPoolExecutor

    subnet = ec2.create_subnet(VpcId=vpc["VpcId"], CidrBlock="10.0.9.0/28")["Subnet"]["SubnetId"]
    clients = [cloudlet.client("ec2") for _ in range(4)]

    def make(i):
        return clients[i % 4].create_network_interface(SubnetId=subnet)["NetworkInterface"][
            "PrivateIpAddress"]

    with ThreadPoolExecutor(4) as pool:
        addresses = list(pool.map(make, range(11)))  # a /28 has 11 usable addresses
    assert len(set(addresses)) == 11
    assert error_of(ec2.create_network_interface, SubnetId=subnet)[0] == \
        "InsufficientFreeAddressesInSubnet"
    assert ec2.describe_subnets(SubnetIds=[subnet])["Subnets"][0]["AvailableIpAddressCount"] == 0
