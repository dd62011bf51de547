"""IAM managed policies (customer-managed versions, the AWS-managed catalog), attachments,
inline policies and permissions boundaries through boto3 and the AWS CLI."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid

from harness import error_of, unique

CATALOG = [
    "AdministratorAccess", "PowerUserAccess", "ReadOnlyAccess", "IAMFullAccess",
    "AmazonS3FullAccess", "AmazonS3ReadOnlyAccess", "AWSLambda_FullAccess",
    "service-role/AWSLambdaBasicExecutionRole", "service-role/AWSLambdaVPCAccessExecutionRole",
    "AmazonEC2FullAccess", "AmazonEC2ReadOnlyAccess", "AmazonRDSFullAccess",
    "AmazonRDSReadOnlyAccess", "CloudWatchFullAccess", "CloudWatchReadOnlyAccess",
    "CloudWatchLogsFullAccess", "CloudWatchAgentServerPolicy", "AmazonSSMManagedInstanceCore",
]
ADMIN = "arn:aws:iam::aws:policy/AdministratorAccess"


def document(action: str = "s3:GetObject") -> dict:
    return {"Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]}


def test_customer_managed_policy_versions(iam):
    name = unique("pol")
    policy = iam.create_policy(PolicyName=name, Path="/app/", Description="mine",
                               PolicyDocument=json.dumps(document()))["Policy"]
    arn = policy["Arn"]
    assert arn == f"arn:aws:iam::000000000000:policy/app/{name}"
    assert re.fullmatch(r"ANPA[A-Z0-9]{16}", policy["PolicyId"])
    assert (policy["DefaultVersionId"], policy["AttachmentCount"]) == ("v1", 0)
    code, status, message = error_of(iam.create_policy, PolicyName=name,
                                     PolicyDocument=json.dumps(document()))
    assert (code, status) == ("EntityAlreadyExists", 409)
    assert message == f"A policy called {name} already exists. Duplicate names are not allowed."

    for n in range(2, 6):
        version = iam.create_policy_version(PolicyArn=arn,
                                            PolicyDocument=json.dumps(document(f"s3:Op{n}")),
                                            SetAsDefault=(n == 3))["PolicyVersion"]
        assert version["VersionId"] == f"v{n}"
    code, status, message = error_of(iam.create_policy_version, PolicyArn=arn,
                                     PolicyDocument=json.dumps(document()))
    assert (code, status) == ("LimitExceeded", 409)
    assert message.startswith("A managed policy can have up to 5 versions.")

    assert iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"] == "v3"
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    assert [v["VersionId"] for v in versions] == ["v5", "v4", "v3", "v2", "v1"]
    assert [v["IsDefaultVersion"] for v in versions] == [False, False, True, False, False]
    got = iam.get_policy_version(PolicyArn=arn, VersionId="v3")["PolicyVersion"]
    assert got["Document"] == document("s3:Op3")

    code, status, message = error_of(iam.delete_policy_version, PolicyArn=arn, VersionId="v3")
    assert (code, status, message) == ("DeleteConflict", 409,
                                       "Cannot delete the default version of a policy.")
    iam.set_default_policy_version(PolicyArn=arn, VersionId="v5")
    iam.delete_policy_version(PolicyArn=arn, VersionId="v3")
    assert error_of(iam.get_policy_version, PolicyArn=arn, VersionId="v3")[0] == "NoSuchEntity"
    v6 = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(document()))
    assert v6["PolicyVersion"]["VersionId"] == "v6"

    assert error_of(iam.delete_policy, PolicyArn=arn)[0] == "DeleteConflict"
    for v in ("v1", "v2", "v4", "v6"):
        iam.delete_policy_version(PolicyArn=arn, VersionId=v)
    iam.delete_policy(PolicyArn=arn)
    code, status, message = error_of(iam.get_policy, PolicyArn=arn)
    assert (code, status, message) == ("NoSuchEntity", 404,
                                       f"Policy {arn} does not exist or is not attachable.")


def test_attachments_and_entities_for_policy(iam):
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "lambda.amazonaws.com"}}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    arn = iam.create_policy(PolicyName=unique("p"), PolicyDocument=json.dumps(document()))["Policy"]["Arn"]
    iam.attach_user_policy(UserName=user, PolicyArn=arn)
    iam.attach_group_policy(GroupName=group, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    iam.attach_role_policy(RoleName=role, PolicyArn=arn)  # attaching twice is one attachment
    assert iam.get_policy(PolicyArn=arn)["Policy"]["AttachmentCount"] == 3
    assert [p["PolicyArn"] for p in iam.list_attached_user_policies(UserName=user)["AttachedPolicies"]] == [arn]
    assert [p["PolicyArn"] for p in iam.list_attached_group_policies(GroupName=group)["AttachedPolicies"]] == [arn]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]] == [arn]

    entities = iam.list_entities_for_policy(PolicyArn=arn)
    assert [u["UserName"] for u in entities["PolicyUsers"]] == [user]
    assert [g["GroupName"] for g in entities["PolicyGroups"]] == [group]
    assert [r["RoleName"] for r in entities["PolicyRoles"]] == [role]
    only_roles = iam.list_entities_for_policy(PolicyArn=arn, EntityFilter="Role")
    assert only_roles["PolicyUsers"] == [] and len(only_roles["PolicyRoles"]) == 1

    code, status, message = error_of(iam.delete_policy, PolicyArn=arn)
    assert (code, status, message) == ("DeleteConflict", 409,
                                       "Cannot delete a policy attached to entities.")
    iam.detach_user_policy(UserName=user, PolicyArn=arn)
    code, status, _ = error_of(iam.detach_user_policy, UserName=user, PolicyArn=arn)
    assert (code, status) == ("NoSuchEntity", 404)
    missing = "arn:aws:iam::000000000000:policy/does-not-exist"
    code, _, message = error_of(iam.attach_user_policy, UserName=user, PolicyArn=missing)
    assert (code, message) == ("NoSuchEntity", f"Policy {missing} does not exist or is not attachable.")


def test_aws_managed_catalog_has_real_documents(iam):
    for name in CATALOG:
        arn = f"arn:aws:iam::aws:policy/{name}"
        policy = iam.get_policy(PolicyArn=arn)["Policy"]
        assert policy["Arn"] == arn and policy["PolicyName"] == name.rsplit("/", 1)[-1]
        assert policy["Path"] == ("/service-role/" if name.startswith("service-role/") else "/")
        version = iam.get_policy_version(PolicyArn=arn, VersionId=policy["DefaultVersionId"])
        doc = version["PolicyVersion"]["Document"]
        assert doc["Version"] == "2012-10-17" and doc["Statement"]
    admin = iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")["PolicyVersion"]["Document"]
    assert admin["Statement"] == [{"Effect": "Allow", "Action": "*", "Resource": "*"}]
    logs = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole")
    doc = iam.get_policy_version(PolicyArn=logs["Policy"]["Arn"],
                                 VersionId=logs["Policy"]["DefaultVersionId"])["PolicyVersion"]["Document"]
    actions = {a for st in doc["Statement"] for a in st["Action"]}
    assert {"logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"} <= actions
    readonly = iam.get_policy(PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")["Policy"]
    versions = iam.list_policy_versions(PolicyArn=readonly["Arn"])["Versions"]
    assert [v["VersionId"] for v in versions] == [readonly["DefaultVersionId"]]
    assert error_of(iam.get_policy, PolicyArn="arn:aws:iam::aws:policy/NotARealPolicy")[0] == "NoSuchEntity"
    assert error_of(iam.delete_policy, PolicyArn=ADMIN)[1] == 400


def test_policy_documents_are_url_encoded_on_the_wire(iam):
    raw = {}

    def keep(http_response, **kwargs):
        raw["body"] = http_response.content.decode()

    iam.meta.events.register("after-call.iam.GetPolicyVersion", keep)
    iam.get_policy_version(PolicyArn=ADMIN, VersionId="v1")
    encoded = re.search(r"<Document>(.*)</Document>", raw["body"], re.S).group(1)
    assert encoded.startswith("%7B")
    assert json.loads(urllib.parse.unquote(encoded))["Statement"][0]["Action"] == "*"


def test_list_policies_scopes_and_pagination(iam):
    local = iam.create_policy(PolicyName=unique("scoped"), PolicyDocument=json.dumps(document()))["Policy"]
    aws_names = []
    for page in iam.get_paginator("list_policies").paginate(Scope="AWS",
                                                            PaginationConfig={"PageSize": 500}):
        aws_names += [p["PolicyName"] for p in page["Policies"]]
    assert {"AdministratorAccess", "ReadOnlyAccess", "AmazonSSMManagedInstanceCore"} <= set(aws_names)
    assert local["PolicyName"] not in aws_names
    first = iam.list_policies(Scope="AWS", MaxItems=10)
    assert first["IsTruncated"] and len(first["Policies"]) == 10
    second = iam.list_policies(Scope="AWS", MaxItems=10, Marker=first["Marker"])
    assert not {p["Arn"] for p in first["Policies"]} & {p["Arn"] for p in second["Policies"]}

    local_arns = [p["Arn"] for p in iam.list_policies(Scope="Local", MaxItems=1000)["Policies"]]
    assert local["Arn"] in local_arns and ADMIN not in local_arns

    user = unique("attached")
    iam.create_user(UserName=user)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/AmazonEC2ReadOnlyAccess")
    attached = iam.list_policies(Scope="AWS", OnlyAttached=True)["Policies"]
    ec2 = [p for p in attached if p["PolicyName"] == "AmazonEC2ReadOnlyAccess"]
    assert ec2 and ec2[0]["AttachmentCount"] >= 1
    assert all(p["AttachmentCount"] >= 1 for p in attached)


def test_inline_policies_on_users_groups_and_roles(iam):
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    cases = [("user", "UserName", user), ("group", "GroupName", group), ("role", "RoleName", role)]
    for kind, member, name in cases:
        put = getattr(iam, f"put_{kind}_policy")
        put(**{member: name}, PolicyName="b", PolicyDocument=json.dumps(document()))
        put(**{member: name}, PolicyName="a", PolicyDocument=json.dumps(document("s3:PutObject")))
        got = getattr(iam, f"get_{kind}_policy")(**{member: name}, PolicyName="a")
        assert got[member] == name and got["PolicyDocument"] == document("s3:PutObject")
        assert getattr(iam, f"list_{kind}_policies")(**{member: name})["PolicyNames"] == ["a", "b"]
        page = getattr(iam, f"list_{kind}_policies")(**{member: name}, MaxItems=1)
        assert page["PolicyNames"] == ["a"] and page["IsTruncated"]
        getattr(iam, f"delete_{kind}_policy")(**{member: name}, PolicyName="a")
        code, status, message = error_of(getattr(iam, f"get_{kind}_policy"),
                                         **{member: name}, PolicyName="a")
        assert (code, status, message) == ("NoSuchEntity", 404,
                                           f"The {kind} policy with name a cannot be found.")


def test_malformed_policy_documents(iam):
    user = unique("m")
    iam.create_user(UserName=user)
    cases = [
        "{not json",
        json.dumps({"Version": "2012-10-17", "Statement": [{"Action": "s3:*", "Resource": "*"}]}),
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                            "Resource": "*", "Principal": "*"}]}),
        json.dumps({"Version": "2099-01-01", "Statement": [{"Effect": "Allow", "Action": "s3:*",
                                                            "Resource": "*"}]}),
    ]
    for text in cases:
        code, status, _ = error_of(iam.put_user_policy, UserName=user, PolicyName="p",
                                   PolicyDocument=text)
        assert (code, status) == ("MalformedPolicyDocument", 400), text
        assert error_of(iam.create_policy, PolicyName=unique("m"), PolicyDocument=text)[0] == (
            "MalformedPolicyDocument")
    assert iam.list_user_policies(UserName=user)["PolicyNames"] == []


def test_inline_policy_size_limit(iam):
    user = unique("big")
    iam.create_user(UserName=user)
    actions = [f"s3:Action{n:04d}" for n in range(150)]
    big = json.dumps({"Version": "2012-10-17",
                      "Statement": [{"Effect": "Allow", "Action": actions, "Resource": "*"}]})
    code, status, message = error_of(iam.put_user_policy, UserName=user, PolicyName="big",
                                     PolicyDocument=big)
    assert (code, status) == ("LimitExceeded", 409)
    assert message == f"Maximum policy size of 2048 bytes exceeded for user {user}"


def test_user_permissions_boundary(iam):
    user = unique("bounded")
    boundary = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
    iam.create_user(UserName=user, PermissionsBoundary=boundary)
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"] == {
        "PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": boundary}
    local = iam.create_policy(PolicyName=unique("b"), PolicyDocument=json.dumps(document()))["Policy"]
    iam.put_user_permissions_boundary(UserName=user, PermissionsBoundary=local["Arn"])
    assert iam.get_policy(PolicyArn=local["Arn"])["Policy"]["PermissionsBoundaryUsageCount"] == 1
    assert iam.get_user(UserName=user)["User"]["PermissionsBoundary"]["PermissionsBoundaryArn"] == local["Arn"]
    assert error_of(iam.delete_policy, PolicyArn=local["Arn"])[0] == "DeleteConflict"
    iam.delete_user_permissions_boundary(UserName=user)
    assert "PermissionsBoundary" not in iam.get_user(UserName=user)["User"]
    iam.delete_policy(PolicyArn=local["Arn"])


def test_aws_cli_get_policy_version_decodes_document(cloudlet):
    out = json.loads(cloudlet.aws("iam", "get-policy-version", "--policy-arn", ADMIN,
                                  "--version-id", "v1", "--output", "json").stdout)
    assert out["PolicyVersion"]["Document"]["Statement"][0]["Action"] == "*"


def test_account_authorization_details_and_summary(cloudlet):
    account = str(uuid.uuid4().int)[:12]  # a fresh account: only what this test creates
    iam = cloudlet.client("iam", aws_access_key_id=account)
    user, group, role = unique("u"), unique("g"), unique("r")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=json.dumps(document()))
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                      "Principal": {"Service": "ec2.amazonaws.com"}}]}
    iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))
    iam.attach_role_policy(RoleName=role, PolicyArn=ADMIN)
    local = iam.create_policy(PolicyName=unique("p"), PolicyDocument=json.dumps(document()))["Policy"]

    details = iam.get_account_authorization_details()
    [u] = details["UserDetailList"]
    assert u["UserName"] == user and u["GroupList"] == [group]
    assert u["UserPolicyList"] == [{"PolicyName": "inline", "PolicyDocument": document()}]
    [r] = details["RoleDetailList"]
    assert r["AttachedManagedPolicies"] == [{"PolicyName": "AdministratorAccess", "PolicyArn": ADMIN}]
    assert r["AssumeRolePolicyDocument"] == trust
    assert sorted(p["Arn"] for p in details["Policies"]) == sorted([ADMIN, local["Arn"]])
    assert all(p["PolicyVersionList"] for p in details["Policies"])
    only_roles = iam.get_account_authorization_details(Filter=["Role"])
    assert only_roles["UserDetailList"] == [] and len(only_roles["RoleDetailList"]) == 1
    first = iam.get_account_authorization_details(MaxItems=2)
    assert first["IsTruncated"]
    rest = iam.get_account_authorization_details(Marker=first["Marker"])
    total = sum(len(page[k]) for page in (first, rest)
                for k in ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies"))
    assert total == 5

    summary = iam.get_account_summary()["SummaryMap"]
    assert (summary["Users"], summary["Groups"], summary["Roles"], summary["Policies"]) == (1, 1, 1, 1)
    assert summary["AccessKeysPerUserQuota"] == 2 and summary["VersionsPerPolicyQuota"] == 5


def test_policy_tags(iam):
    arn = iam.create_policy(PolicyName=unique("tagged"), PolicyDocument=json.dumps(document()),
                            Tags=[{"Key": "team", "Value": "web"}])["Policy"]["Arn"]
    assert iam.get_policy(PolicyArn=arn)["Policy"]["Tags"] == [{"Key": "team", "Value": "web"}]
    iam.tag_policy(PolicyArn=arn, Tags=[{"Key": "cost", "Value": "1"}])
    iam.untag_policy(PolicyArn=arn, TagKeys=["team"])
    assert iam.list_policy_tags(PolicyArn=arn)["Tags"] == [{"Key": "cost", "Value": "1"}]
    assert error_of(iam.tag_policy, PolicyArn=ADMIN,
                    Tags=[{"Key": "a", "Value": "b"}])[0] == "InvalidInput"
    too_many = [{"Key": f"k{n}", "Value": "v"} for n in range(50)]
    code, status, _ = error_of(iam.tag_policy, PolicyArn=arn, Tags=too_many)
    assert (code, status) == ("LimitExceeded", 409)
