"""IAM roles and instance profiles through boto3 and the AWS CLI: trust policies,
MaxSessionDuration, paths, tags, permissions boundaries, AWS's errors, pagination."""

from __future__ import annotations

import json
import re
import uuid

from botocore.config import Config
from harness import error_of, unique
from terraform import Terraform, provider_block

TRUST = {"Version": "2012-10-17",
         "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole"}]}
POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})


def test_role_lifecycle(iam):
    name = unique("app")
    role = iam.create_role(RoleName=name, Path="/service/", AssumeRolePolicyDocument=json.dumps(TRUST),
                           Description="the app", MaxSessionDuration=7200,
                           Tags=[{"Key": "env", "Value": "dev"}])["Role"]
    assert re.fullmatch(r"AROA[A-Z0-9]{16}", role["RoleId"])
    assert role["Arn"] == f"arn:aws:iam::000000000000:role/service/{name}"
    assert role["AssumeRolePolicyDocument"] == TRUST  # botocore decodes the URL-encoded JSON
    assert role["MaxSessionDuration"] == 7200

    got = iam.get_role(RoleName=name)["Role"]
    assert got["Description"] == "the app"
    assert got["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert got["RoleLastUsed"] == {}

    iam.update_role(RoleName=name, Description="renamed", MaxSessionDuration=43200)
    got = iam.get_role(RoleName=name)["Role"]
    assert (got["Description"], got["MaxSessionDuration"]) == ("renamed", 43200)

    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::000000000000:root"},
                            "Action": "sts:AssumeRole",
                            "Condition": {"StringEquals": {"sts:ExternalId": "xyz"}}}]}
    iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust))
    assert iam.get_role(RoleName=name)["Role"]["AssumeRolePolicyDocument"] == trust

    iam.tag_role(RoleName=name, Tags=[{"Key": "owner", "Value": "me"}])
    iam.untag_role(RoleName=name, TagKeys=["env"])
    assert iam.list_role_tags(RoleName=name)["Tags"] == [{"Key": "owner", "Value": "me"}]
    assert name in [r["RoleName"] for r in iam.list_roles(PathPrefix="/service/")["Roles"]]

    iam.delete_role(RoleName=name)
    code, status, message = error_of(iam.get_role, RoleName=name)
    assert (code, status, message) == ("NoSuchEntity", 404,
                                       f"The role with name {name} cannot be found.")


def test_role_errors(cloudlet, iam):
    unchecked = cloudlet.client("iam", config=Config(parameter_validation=False,
                                                     retries={"max_attempts": 1}))
    name = unique("dup")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    code, status, message = error_of(iam.create_role, RoleName=name,
                                     AssumeRolePolicyDocument=json.dumps(TRUST))
    assert (code, status, message) == ("EntityAlreadyExists", 409,
                                       f"Role with name {name} already exists.")
    for duration in (3599, 43201):
        code, _, message = error_of(unchecked.create_role, RoleName=unique("d"),
                                    AssumeRolePolicyDocument=json.dumps(TRUST),
                                    MaxSessionDuration=duration)
        assert code == "ValidationError"
        assert "maxSessionDuration" in message
    assert error_of(unchecked.update_role, RoleName=name,
                    MaxSessionDuration=50000)[0] == "ValidationError"
    assert error_of(iam.create_role, RoleName="bad name",
                    AssumeRolePolicyDocument=json.dumps(TRUST))[0] == "ValidationError"


def test_malformed_trust_policy(iam):
    no_principal = {"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}
    code, status, _ = error_of(iam.create_role, RoleName=unique("m"),
                               AssumeRolePolicyDocument=json.dumps(no_principal))
    assert (code, status) == ("MalformedPolicyDocument", 400)
    name = unique("m")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    assert error_of(iam.update_assume_role_policy, RoleName=name,
                    PolicyDocument="{not json")[0] == "MalformedPolicyDocument"


def test_trust_policy_must_name_principals_that_exist(iam):
    ghost = f"arn:aws:iam::000000000000:user/{unique('ghost')}"
    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": {"AWS": [ghost]},
                            "Action": "sts:AssumeRole"}]}
    code, status, message = error_of(iam.create_role, RoleName=unique("t"),
                                     AssumeRolePolicyDocument=json.dumps(trust))
    assert (code, status) == ("MalformedPolicyDocument", 400)
    assert message == f'Invalid principal in policy: "AWS":"{ghost}"'
    user = iam.create_user(UserName=ghost.rsplit("/", 1)[1])["User"]
    role = iam.create_role(RoleName=unique("t"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]["AWS"] == [user["Arn"]]


def test_role_with_policies_cannot_be_deleted(iam):
    name = unique("busy")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName=name, PolicyName="s3", PolicyDocument=POLICY)
    assert error_of(iam.delete_role, RoleName=name)[2] == (
        "Cannot delete entity, must delete policies first.")
    iam.delete_role_policy(RoleName=name, PolicyName="s3")
    arn = "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole"
    iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    code, status, message = error_of(iam.delete_role, RoleName=name)
    assert (code, status, message) == ("DeleteConflict", 409,
                                       "Cannot delete entity, must detach all policies first.")
    iam.detach_role_policy(RoleName=name, PolicyArn=arn)
    iam.delete_role(RoleName=name)


def test_instance_profiles_hold_one_role(iam):
    profile, role, other = unique("ip"), unique("r"), unique("r")
    for r in (role, other):
        iam.create_role(RoleName=r, AssumeRolePolicyDocument=json.dumps(TRUST))
    created = iam.create_instance_profile(InstanceProfileName=profile, Path="/web/")["InstanceProfile"]
    assert re.fullmatch(r"AIPA[A-Z0-9]{16}", created["InstanceProfileId"])
    assert created["Arn"] == f"arn:aws:iam::000000000000:instance-profile/web/{profile}"
    assert created["Roles"] == []
    assert error_of(iam.create_instance_profile, InstanceProfileName=profile)[0] == (
        "EntityAlreadyExists")

    iam.add_role_to_instance_profile(InstanceProfileName=profile, RoleName=role)
    got = iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"]
    assert [r["RoleName"] for r in got["Roles"]] == [role]
    code, status, message = error_of(iam.add_role_to_instance_profile,
                                     InstanceProfileName=profile, RoleName=other)
    assert (code, status, message) == ("LimitExceeded", 409,
                                       "Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
    listed = iam.list_instance_profiles_for_role(RoleName=role)["InstanceProfiles"]
    assert [p["InstanceProfileName"] for p in listed] == [profile]

    assert error_of(iam.delete_role, RoleName=role)[2] == (
        "Cannot delete entity, must remove roles from instance profile first.")
    assert error_of(iam.delete_instance_profile, InstanceProfileName=profile)[0] == "DeleteConflict"
    iam.remove_role_from_instance_profile(InstanceProfileName=profile, RoleName=role)
    iam.delete_instance_profile(InstanceProfileName=profile)
    iam.delete_role(RoleName=role)
    code, status, message = error_of(iam.get_instance_profile, InstanceProfileName=profile)
    assert (code, status, message) == ("NoSuchEntity", 404, f"Instance Profile {profile} cannot be found.")


def test_role_permissions_boundary(iam):
    name = unique("bounded")
    boundary = "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess"
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST),
                    PermissionsBoundary=boundary)
    assert iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    iam.put_role_permissions_boundary(RoleName=name,
                                      PermissionsBoundary="arn:aws:iam::aws:policy/PowerUserAccess")
    got = iam.get_role(RoleName=name)["Role"]["PermissionsBoundary"]["PermissionsBoundaryArn"]
    assert got == "arn:aws:iam::aws:policy/PowerUserAccess"
    iam.delete_role_permissions_boundary(RoleName=name)
    assert "PermissionsBoundary" not in iam.get_role(RoleName=name)["Role"]
    assert error_of(iam.put_role_permissions_boundary, RoleName=name,
                    PermissionsBoundary="arn:aws:iam::aws:policy/NoSuchPolicyHere")[0] == "NoSuchEntity"


def test_list_roles_paginates(iam):
    path = f"/{unique('page')}/"
    names = sorted(unique("r") for _ in range(3))
    for name in names:
        iam.create_role(RoleName=name, Path=path, AssumeRolePolicyDocument=json.dumps(TRUST))
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=path,
                                                     PaginationConfig={"PageSize": 1})
    assert [r["RoleName"] for page in pages for r in page["Roles"]] == names
    first = iam.list_roles(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] and first["Marker"]


def test_aws_cli_get_role_shows_decoded_trust_policy(cloudlet, iam):
    name = unique("cli")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    out = json.loads(cloudlet.aws("iam", "get-role", "--role-name", name, "--output", "json").stdout)
    assert out["Role"]["AssumeRolePolicyDocument"] == TRUST


def test_service_linked_roles(cloudlet):
    account = "6" + str(uuid.uuid4().int)[:11]
    iam = cloudlet.client("iam", aws_access_key_id=account)
    role = iam.create_service_linked_role(AWSServiceName="rds.amazonaws.com")["Role"]
    assert role["RoleName"] == "AWSServiceRoleForRDS"
    assert role["Path"] == "/aws-service-role/rds.amazonaws.com/"
    assert role["Arn"] == (f"arn:aws:iam::{account}:role/aws-service-role/rds.amazonaws.com/"
                           "AWSServiceRoleForRDS")
    assert role["AssumeRolePolicyDocument"]["Statement"][0]["Principal"] == {
        "Service": ["rds.amazonaws.com"]}
    attached = iam.list_attached_role_policies(RoleName="AWSServiceRoleForRDS")["AttachedPolicies"]
    assert attached == [{"PolicyName": "AmazonRDSServiceRolePolicy",
                         "PolicyArn": "arn:aws:iam::aws:policy/aws-service-role/AmazonRDSServiceRolePolicy"}]
    assert error_of(iam.create_service_linked_role,
                    AWSServiceName="rds.amazonaws.com")[0] == "InvalidInput"

    code, status, message = error_of(iam.delete_role, RoleName="AWSServiceRoleForRDS")
    assert (code, status) == ("UnmodifiableEntity", 400)
    assert message == ("Cannot perform the operation on the protected role 'AWSServiceRoleForRDS'"
                       " - this role is only modifiable by AWS")
    assert error_of(iam.put_role_policy, RoleName="AWSServiceRoleForRDS", PolicyName="x",
                    PolicyDocument=POLICY)[0] == "UnmodifiableEntity"
    assert error_of(iam.detach_role_policy, RoleName="AWSServiceRoleForRDS",
                    PolicyArn=attached[0]["PolicyArn"])[0] == "UnmodifiableEntity"

    scaling = iam.create_service_linked_role(AWSServiceName="autoscaling.amazonaws.com",
                                             CustomSuffix="web")["Role"]
    assert scaling["RoleName"] == "AWSServiceRoleForAutoScaling_web"
    task = iam.delete_service_linked_role(RoleName="AWSServiceRoleForRDS")["DeletionTaskId"]
    assert iam.get_service_linked_role_deletion_status(DeletionTaskId=task)["Status"] == "SUCCEEDED"
    assert error_of(iam.get_role, RoleName="AWSServiceRoleForRDS")[0] == "NoSuchEntity"


def test_terraform_applies_iam_and_reads_it_back_without_drift(cloudlet, tmp_path):
    """Terraform's AWS provider creates roles, policies, attachments, an instance profile, a
    user with an access key and a group, then plans again: what it reads back matches."""
    tf = Terraform(tmp_path)
    prefix = unique("tf")
    (tmp_path / "main.tf").write_text(provider_block(cloudlet.endpoint, ["iam", "sts"]) + f"""
variable "prefix" {{
  default = "{prefix}"
}}
""" + '''
resource "aws_iam_role" "app" {
  name = "${var.prefix}-app"
  path = "/apps/"
  max_session_duration = 7200
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
  tags = { team = "web" }
}
resource "aws_iam_policy" "read" {
  name   = "${var.prefix}-read"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "s3:GetObject", Resource = "*" }] })
}
resource "aws_iam_role_policy_attachment" "read" {
  role       = aws_iam_role.app.name
  policy_arn = aws_iam_policy.read.arn
}
resource "aws_iam_role_policy_attachment" "logs" {
  role       = aws_iam_role.app.name
  policy_arn = "arn:aws:iam::aws:policy/CloudWatchAgentServerPolicy"
}
resource "aws_iam_role_policy" "inline" {
  role   = aws_iam_role.app.id
  name   = "inline"
  policy = jsonencode({ Version = "2012-10-17", Statement = [{ Effect = "Allow", Action = "sqs:*", Resource = "*" }] })
}
resource "aws_iam_instance_profile" "app" {
  name = "${var.prefix}-app"
  role = aws_iam_role.app.name
}
resource "aws_iam_user" "alice" {
  name = "${var.prefix}-alice"
  tags = { team = "web" }
}
resource "aws_iam_access_key" "alice" {
  user = aws_iam_user.alice.name
}
resource "aws_iam_group" "devs" {
  name = "${var.prefix}-devs"
}
resource "aws_iam_group_membership" "devs" {
  name  = "devs"
  group = aws_iam_group.devs.name
  users = [aws_iam_user.alice.name]
}
resource "aws_iam_user_policy_attachment" "ro" {
  user       = aws_iam_user.alice.name
  policy_arn = "arn:aws:iam::aws:policy/ReadOnlyAccess"
}
output "role_arn" { value = aws_iam_role.app.arn }
output "key_id" { value = aws_iam_access_key.alice.id }
''')
    tf.init()
    tf.apply()
    assert tf.output("role_arn") == f"arn:aws:iam::000000000000:role/apps/{prefix}-app"
    iam = cloudlet.client("iam")
    key_id = tf.output("key_id")
    assert iam.list_access_keys(UserName=f"{prefix}-alice")["AccessKeyMetadata"][0]["AccessKeyId"] == key_id
    attached = iam.list_attached_role_policies(RoleName=f"{prefix}-app")["AttachedPolicies"]
    assert "CloudWatchAgentServerPolicy" in [p["PolicyName"] for p in attached]
    plan = tf.run("plan", "-detailed-exitcode", "-input=false")
    assert plan.returncode == 0, plan.stdout + plan.stderr  # 0: no changes, 2: drift


def test_get_user_without_a_name_needs_user_credentials(cloudlet, iam):
    user, role = unique("caller"), unique("session")
    iam.create_user(UserName=user)
    user_arn = iam.get_user(UserName=user)["User"]["Arn"]
    key = iam.create_access_key(UserName=user)["AccessKey"]
    trust = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}
    role_arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(RoleName=role, PolicyName="read", PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "iam:GetUser", "Resource": "*"}]}))
    sts = cloudlet.client("sts", aws_access_key_id=key["AccessKeyId"],
                          aws_secret_access_key=key["SecretAccessKey"])
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="probe")["Credentials"]
    session_iam = cloudlet.client("iam", aws_access_key_id=creds["AccessKeyId"],
                                  aws_secret_access_key=creds["SecretAccessKey"],
                                  aws_session_token=creds["SessionToken"])
    code, status, message = error_of(session_iam.get_user)
    assert (code, status) == ("ValidationError", 400)
    assert message == "Must specify userName when calling with non-User credentials"
    assert session_iam.get_user(UserName=user)["User"]["Arn"] == user_arn
    assert iam.get_user()["User"]["Arn"] == "arn:aws:iam::000000000000:root"
