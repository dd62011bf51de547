"""Instance documents as the compute family stores them (kind `instance` in ec2_resources:
DescribeInstances' Instance plus Cloudlet's `_` fields), for unit tests that run before
RunInstances exists."""

from __future__ import annotations

import base64
import copy

INSTANCE = {
    "InstanceId": "i-0123456789abcdef0",
    "ImageId": "ami-0abcdef1234567890",
    "InstanceType": "t3.micro",
    "KeyName": "my-key",
    "LaunchTime": 1735689600.0,  # 2025-01-01T00:00:00Z
    "Placement": {"AvailabilityZone": "us-east-1a", "Tenancy": "default"},
    "PrivateIpAddress": "10.0.1.5",
    "PrivateDnsName": "ip-10-0-1-5.ec2.internal",
    "PublicIpAddress": "127.100.0.7",
    "PublicDnsName": "ec2-127-100-0-7.compute-1.amazonaws.com",
    "SubnetId": "subnet-0aaaaaaaaaaaaaaaa",
    "VpcId": "vpc-0bbbbbbbbbbbbbbbb",
    "State": {"Code": 16, "Name": "running"},
    "SecurityGroups": [{"GroupName": "web", "GroupId": "sg-0ccccccccccccccc1"},
                       {"GroupName": "default", "GroupId": "sg-0ccccccccccccccc2"}],
    "NetworkInterfaces": [{
        "MacAddress": "0e:49:61:0f:c3:11",
        "NetworkInterfaceId": "eni-0ddddddddddddddd1",
        "OwnerId": "000000000000",
        "PrivateDnsName": "ip-10-0-1-5.ec2.internal",
        "PrivateIpAddress": "10.0.1.5",
        "PrivateIpAddresses": [
            {"Primary": True, "PrivateIpAddress": "10.0.1.5",
             "PrivateDnsName": "ip-10-0-1-5.ec2.internal",
             "Association": {"PublicIp": "127.100.0.7", "IpOwnerId": "amazon"}},
            {"Primary": False, "PrivateIpAddress": "10.0.1.6"}],
        "SubnetId": "subnet-0aaaaaaaaaaaaaaaa",
        "VpcId": "vpc-0bbbbbbbbbbbbbbbb",
        "Association": {"PublicIp": "127.100.0.7",
                        "PublicDnsName": "ec2-127-100-0-7.compute-1.amazonaws.com"},
        "Attachment": {"DeviceIndex": 0, "Status": "attached", "NetworkCardIndex": 0},
        "Groups": [{"GroupName": "web", "GroupId": "sg-0ccccccccccccccc1"},
                   {"GroupName": "default", "GroupId": "sg-0ccccccccccccccc2"}],
    }],
    "IamInstanceProfile": {"Arn": "arn:aws:iam::000000000000:instance-profile/app-profile",
                           "Id": "AIPAEXAMPLEPROFILE01"},
    "MetadataOptions": {"State": "applied", "HttpTokens": "optional",
                        "HttpPutResponseHopLimit": 1, "HttpEndpoint": "enabled",
                        "InstanceMetadataTags": "disabled"},
    "RootDeviceName": "/dev/xvda",
    "BlockDeviceMappings": [
        {"DeviceName": "/dev/xvda", "Ebs": {"VolumeId": "vol-01", "Status": "attached"}},
        {"DeviceName": "/dev/sdf", "Ebs": {"VolumeId": "vol-02", "Status": "attached"}}],
    "AmiLaunchIndex": 0,
    "Monitoring": {"State": "disabled"},
    "CpuOptions": {"CoreCount": 1, "ThreadsPerCore": 2},
    "_reservation_id": "r-0eeeeeeeeeeeeeeee",
    "_owner": "000000000000",
    "_user_data": base64.b64encode(b"#!/bin/sh\necho hello > /tmp/hello\n").decode(),
    "_public_keys": ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyMaterial my-key"],
}

SECOND_ENI = {
    "MacAddress": "0e:49:61:0f:c3:22",
    "NetworkInterfaceId": "eni-0ddddddddddddddd2",
    "PrivateIpAddress": "10.0.2.9",
    "PrivateIpAddresses": [{"Primary": True, "PrivateIpAddress": "10.0.2.9"}],
    "SubnetId": "subnet-0aaaaaaaaaaaaaaa2",
    "VpcId": "vpc-0bbbbbbbbbbbbbbbb",
    "Attachment": {"DeviceIndex": 1, "Status": "attached"},
    "Groups": [{"GroupId": "sg-0ccccccccccccccc1"}],
}


def instance(**changes) -> dict:
    doc = copy.deepcopy(INSTANCE)
    for key, value in changes.items():
        if value is None:
            doc.pop(key, None)
        else:
            doc[key] = value
    return doc
