"""Security groups and their rules: defaults, authorize/revoke, rule ids, references to
other groups and prefix lists, and AWS's duplicate, limit and not-found errors."""

from __future__ import annotations

from harness import error_of

ALL_OUT = [{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}], "Ipv6Ranges": [],
            "PrefixListIds": [], "UserIdGroupPairs": []}]


def https(cidr="0.0.0.0/0", **extra):
    return {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": cidr, **extra}]}


def group(ec2, vpc, name="web"):
    return ec2.create_security_group(GroupName=name, Description=f"{name} tier",
                                     VpcId=vpc["VpcId"])["GroupId"]


def test_a_new_group_has_no_inbound_and_one_all_outbound_rule(ec2, vpc):
    made = ec2.create_security_group(GroupName="web", Description="web tier", VpcId=vpc["VpcId"],
                                     TagSpecifications=[{"ResourceType": "security-group",
                                                         "Tags": [{"Key": "team", "Value": "a"}]}])
    assert made["GroupId"].startswith("sg-") and made["Tags"] == [{"Key": "team", "Value": "a"}]
    found = ec2.describe_security_groups(GroupIds=[made["GroupId"]])["SecurityGroups"][0]
    assert found["IpPermissions"] == [] and found["IpPermissionsEgress"] == ALL_OUT
    assert (found["GroupName"], found["Description"], found["VpcId"]) == (
        "web", "web tier", vpc["VpcId"])
    rules = ec2.describe_security_group_rules(
        Filters=[{"Name": "group-id", "Values": [made["GroupId"]]}])["SecurityGroupRules"]
    assert len(rules) == 1 and rules[0]["IsEgress"] is True
    assert rules[0]["SecurityGroupRuleId"].startswith("sgr-")
    assert (rules[0]["IpProtocol"], rules[0]["FromPort"], rules[0]["ToPort"],
            rules[0]["CidrIpv4"]) == ("-1", -1, -1, "0.0.0.0/0")


def test_revoking_the_default_egress_rule_as_terraform_does(ec2, vpc):
    sg = group(ec2, vpc)
    ec2.revoke_security_group_egress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "-1", "FromPort": 0, "ToPort": 0, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    found = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]
    assert found["IpPermissionsEgress"] == []
    assert error_of(ec2.revoke_security_group_egress, GroupId=sg, IpPermissions=[
        {"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])[0] == \
        "InvalidPermission.NotFound"


def test_authorize_and_revoke_ingress(ec2, vpc):
    sg = group(ec2, vpc)
    answer = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        https(Description="from anywhere"),
        {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22, "IpRanges": [{"CidrIp": "10.0.0.0/8"}],
         "Ipv6Ranges": [{"CidrIpv6": "2001:db8::/32"}]}])
    assert answer["Return"] is True and len(answer["SecurityGroupRules"]) == 3
    found = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    assert {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
            "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "from anywhere"}],
            "Ipv6Ranges": [], "PrefixListIds": [], "UserIdGroupPairs": []} in found
    ssh = next(p for p in found if p["FromPort"] == 22)
    assert ssh["Ipv6Ranges"] == [{"CidrIpv6": "2001:db8::/32"}]
    by_port = ec2.describe_security_groups(Filters=[
        {"Name": "ip-permission.from-port", "Values": ["443"]},
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]}])["SecurityGroups"]
    assert [g["GroupId"] for g in by_port] == [sg]
    ec2.revoke_security_group_ingress(GroupId=sg, IpPermissions=[https()])
    found = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissions"]
    assert [p["FromPort"] for p in found] == [22]
    rule_id = answer["SecurityGroupRules"][1]["SecurityGroupRuleId"]
    ec2.revoke_security_group_ingress(GroupId=sg, SecurityGroupRuleIds=[rule_id])
    assert len(ec2.describe_security_group_rules(Filters=[
        {"Name": "group-id", "Values": [sg]}])["SecurityGroupRules"]) == 2


def test_a_duplicate_rule(ec2, vpc):
    sg = group(ec2, vpc)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[https()])
    code, status, message = error_of(ec2.authorize_security_group_ingress, GroupId=sg,
                                     IpPermissions=[https(Description="again")])
    assert (code, status) == ("InvalidPermission.Duplicate", 400)
    assert message == ('the specified rule "peer: 0.0.0.0/0, TCP, from port: 443, to port: 443, '
                       'ALLOW" already exists')


def test_group_references_and_unknown_groups(ec2, vpc):
    alb, app = group(ec2, vpc, "alb"), group(ec2, vpc, "app")
    answer = ec2.authorize_security_group_ingress(GroupId=app, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8080, "ToPort": 8080,
         "UserIdGroupPairs": [{"GroupId": alb}]}])
    rule = answer["SecurityGroupRules"][0]
    assert rule["ReferencedGroupInfo"]["GroupId"] == alb
    pairs = ec2.describe_security_groups(GroupIds=[app])["SecurityGroups"][0]["IpPermissions"][0]
    assert pairs["UserIdGroupPairs"][0]["GroupId"] == alb
    code, _, message = error_of(ec2.authorize_security_group_ingress, GroupId=app, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 2,
         "UserIdGroupPairs": [{"GroupId": "sg-0123456789abcdef0"}]}])
    assert (code, message) == ("InvalidGroup.NotFound",
                               "The security group 'sg-0123456789abcdef0' does not exist")
    code, _, message = error_of(ec2.delete_security_group, GroupId=alb)
    assert (code, message) == ("DependencyViolation", f"resource {alb} has a dependent object")
    ec2.revoke_security_group_ingress(GroupId=app, SecurityGroupRuleIds=[
        rule["SecurityGroupRuleId"]])
    ec2.delete_security_group(GroupId=alb)


def test_prefix_list_sources(ec2, vpc):
    sg = group(ec2, vpc)
    s3 = ec2.describe_prefix_lists(Filters=[{"Name": "prefix-list-name",
                                             "Values": ["com.amazonaws.us-east-1.s3"]}])
    prefix_list = s3["PrefixLists"][0]["PrefixListId"]
    assert prefix_list == "pl-63a5400a"
    ec2.authorize_security_group_egress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
         "PrefixListIds": [{"PrefixListId": prefix_list}]}])
    egress = ec2.describe_security_groups(GroupIds=[sg])["SecurityGroups"][0]["IpPermissionsEgress"]
    assert any(p["PrefixListIds"] == [{"PrefixListId": prefix_list}] for p in egress)
    assert error_of(ec2.authorize_security_group_egress, GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 1, "ToPort": 1,
         "PrefixListIds": [{"PrefixListId": "pl-00000000"}]}])[0] == "InvalidPrefixListID.NotFound"


def test_the_rules_limit(ec2, vpc):
    sg = group(ec2, vpc)
    ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": port, "ToPort": port,
         "IpRanges": [{"CidrIp": "10.0.0.0/8"}]} for port in range(1, 61)])
    code, _, message = error_of(ec2.authorize_security_group_ingress, GroupId=sg,
                                IpPermissions=[https()])
    assert (code, message) == ("RulesPerSecurityGroupLimitExceeded",
                               "The maximum number of rules per security group has been reached.")


def test_names_and_bad_input(ec2, vpc):
    sg = group(ec2, vpc)
    assert error_of(ec2.create_security_group, GroupName="web", Description="x",
                    VpcId=vpc["VpcId"])[0] == "InvalidGroup.Duplicate"
    assert error_of(ec2.create_security_group, GroupName="default", Description="x",
                    VpcId=vpc["VpcId"])[0] == "InvalidGroup.Reserved"
    assert error_of(ec2.describe_security_groups, GroupIds=["sg-zz"])[0] == \
        "InvalidGroupId.Malformed"
    assert error_of(ec2.authorize_security_group_ingress, GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])[0] == "InvalidParameterValue"
    assert error_of(ec2.authorize_security_group_ingress, GroupId=sg, IpPermissions=[
        https("300.0.0.0/8")])[0] == "InvalidParameterValue"
    default = ec2.describe_security_groups(Filters=[
        {"Name": "vpc-id", "Values": [vpc["VpcId"]]},
        {"Name": "group-name", "Values": ["default"]}])["SecurityGroups"][0]["GroupId"]
    assert error_of(ec2.delete_security_group, GroupId=default)[0] == "CannotDelete"


def test_modify_rules_and_descriptions(ec2, vpc):
    sg = group(ec2, vpc)
    rule = ec2.authorize_security_group_ingress(GroupId=sg, IpPermissions=[https()])[
        "SecurityGroupRules"][0]["SecurityGroupRuleId"]
    ec2.modify_security_group_rules(GroupId=sg, SecurityGroupRules=[{
        "SecurityGroupRuleId": rule, "SecurityGroupRule": {
            "IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443, "CidrIpv4": "10.0.0.0/16",
            "Description": "internal"}}])
    found = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule])["SecurityGroupRules"][0]
    assert (found["FromPort"], found["CidrIpv4"], found["Description"]) == (
        8443, "10.0.0.0/16", "internal")
    ec2.update_security_group_rule_descriptions_ingress(GroupId=sg, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 8443, "ToPort": 8443,
         "IpRanges": [{"CidrIp": "10.0.0.0/16", "Description": "renamed"}]}])
    found = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule])["SecurityGroupRules"][0]
    assert found["Description"] == "renamed"
    assert error_of(ec2.describe_security_group_rules,
                    SecurityGroupRuleIds=["sgr-0123456789abcdef0"])[0] == \
        "InvalidSecurityGroupRuleId.NotFound"
