"""IAM users and groups through boto3 and the AWS CLI: lifecycle, memberships, tags,
AWS's errors, Marker/MaxItems pagination."""

from __future__ import annotations

import json
import re
import uuid

import pytest
from harness import error_of, unique

POLICY = json.dumps({"Version": "2012-10-17",
                     "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})


def test_user_lifecycle(iam):
    name = unique("alice")
    user = iam.create_user(UserName=name, Path="/eng/", Tags=[{"Key": "team", "Value": "web"}])["User"]
    assert re.fullmatch(r"AIDA[A-Z0-9]{16}", user["UserId"])
    assert user["Arn"] == f"arn:aws:iam::000000000000:user/eng/{name}"
    assert user["Path"] == "/eng/"
    assert user["CreateDate"].year >= 2024
    got = iam.get_user(UserName=name)["User"]
    assert got["UserId"] == user["UserId"]
    assert got["Tags"] == [{"Key": "team", "Value": "web"}]

    iam.tag_user(UserName=name, Tags=[{"Key": "team", "Value": "api"}, {"Key": "cost", "Value": "7"}])
    tags = {t["Key"]: t["Value"] for t in iam.list_user_tags(UserName=name)["Tags"]}
    assert tags == {"team": "api", "cost": "7"}
    iam.untag_user(UserName=name, TagKeys=["cost"])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "team", "Value": "api"}]

    listed = iam.list_users(PathPrefix="/eng/")["Users"]
    assert name in [u["UserName"] for u in listed]
    assert name not in [u["UserName"] for u in iam.list_users(PathPrefix="/ops/")["Users"]]

    renamed = unique("alicia")
    iam.update_user(UserName=name, NewUserName=renamed, NewPath="/ops/")
    moved = iam.get_user(UserName=renamed)["User"]
    assert moved["Arn"] == f"arn:aws:iam::000000000000:user/ops/{renamed}"
    assert moved["UserId"] == user["UserId"]
    assert moved["Tags"] == [{"Key": "team", "Value": "api"}]

    iam.delete_user(UserName=renamed)
    code, status, message = error_of(iam.get_user, UserName=renamed)
    assert (code, status) == ("NoSuchEntity", 404)
    assert message == f"The user with name {renamed} cannot be found."


def test_user_names_are_unique_regardless_of_case(iam):
    name = unique("bob")
    iam.create_user(UserName=name)
    code, status, message = error_of(iam.create_user, UserName=name.upper())
    assert (code, status) == ("EntityAlreadyExists", 409)
    assert message == f"User with name {name.upper()} already exists."
    assert iam.get_user(UserName=name.upper())["User"]["UserName"] == name


@pytest.mark.parametrize("bad", ["has space", "semi;colon", "slash/name"])
def test_invalid_user_name_is_validation_error(iam, bad):
    code, status, message = error_of(iam.create_user, UserName=bad)
    assert (code, status) == ("ValidationError", 400)
    assert "Member must satisfy regular expression pattern: [\\w+=,.@-]+" in message


def test_too_long_user_name_is_validation_error(iam):
    code, status, message = error_of(iam.create_user, UserName="u" * 65)
    assert code == "ValidationError"
    assert "length less than or equal to 64" in message


def test_missing_entities_are_no_such_entity(iam):
    ghost = unique("ghost")
    assert error_of(iam.delete_user, UserName=ghost)[0] == "NoSuchEntity"
    code, status, message = error_of(iam.get_group, GroupName=ghost)
    assert (code, status, message) == (
        "NoSuchEntity", 404, f"The group with name {ghost} cannot be found.")


def test_group_membership(iam):
    group, user = unique("devs"), unique("carol")
    created = iam.create_group(GroupName=group, Path="/teams/")["Group"]
    assert re.fullmatch(r"AGPA[A-Z0-9]{16}", created["GroupId"])
    assert created["Arn"] == f"arn:aws:iam::000000000000:group/teams/{group}"
    assert error_of(iam.create_group, GroupName=group)[0] == "EntityAlreadyExists"
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)

    got = iam.get_group(GroupName=group)
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert [g["GroupName"] for g in iam.list_groups_for_user(UserName=user)["Groups"]] == [group]
    assert group in [g["GroupName"] for g in iam.list_groups(PathPrefix="/teams/")["Groups"]]

    code, status, message = error_of(iam.delete_group, GroupName=group)
    assert (code, status) == ("DeleteConflict", 409)
    assert message == "Cannot delete entity, must remove users from group first."
    assert error_of(iam.delete_user, UserName=user)[0] == "DeleteConflict"

    iam.remove_user_from_group(GroupName=group, UserName=user)
    assert iam.get_group(GroupName=group)["Users"] == []
    iam.remove_user_from_group(GroupName=group, UserName=user)  # no longer a member: no error
    assert error_of(iam.remove_user_from_group, GroupName=group,
                    UserName=unique("ghost"))[0] == "NoSuchEntity"
    iam.delete_group(GroupName=group)
    iam.delete_user(UserName=user)
    assert error_of(iam.get_group, GroupName=group)[0] == "NoSuchEntity"


def test_group_with_policies_cannot_be_deleted(iam):
    group = unique("ops")
    iam.create_group(GroupName=group)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=POLICY)
    assert error_of(iam.delete_group, GroupName=group)[2] == (
        "Cannot delete entity, must delete policies first.")
    iam.delete_group_policy(GroupName=group, PolicyName="read")
    iam.attach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    assert error_of(iam.delete_group, GroupName=group)[2] == (
        "Cannot delete entity, must detach all policies first.")
    iam.detach_group_policy(GroupName=group, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.delete_group(GroupName=group)


def test_delete_user_conflicts_name_what_is_left(iam):
    user, group = unique("dave"), unique("grp")
    iam.create_user(UserName=user)
    iam.create_group(GroupName=group)
    key = iam.create_access_key(UserName=user)["AccessKey"]["AccessKeyId"]
    iam.create_login_profile(UserName=user, Password="Sup3r-secret!")
    iam.put_user_policy(UserName=user, PolicyName="inline", PolicyDocument=POLICY)
    iam.attach_user_policy(UserName=user, PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")
    iam.add_user_to_group(GroupName=group, UserName=user)

    steps = [
        ("Cannot delete entity, must delete access keys first.",
         lambda: iam.delete_access_key(UserName=user, AccessKeyId=key)),
        ("Cannot delete entity, must delete login profile first.",
         lambda: iam.delete_login_profile(UserName=user)),
        ("Cannot delete entity, must delete policies first.",
         lambda: iam.delete_user_policy(UserName=user, PolicyName="inline")),
        ("Cannot delete entity, must detach all policies first.",
         lambda: iam.detach_user_policy(UserName=user,
                                        PolicyArn="arn:aws:iam::aws:policy/ReadOnlyAccess")),
        ("Cannot delete entity, must remove users from group first.",
         lambda: iam.remove_user_from_group(GroupName=group, UserName=user)),
    ]
    for message, fix in steps:
        code, status, got = error_of(iam.delete_user, UserName=user)
        assert (code, status, got) == ("DeleteConflict", 409, message)
        fix()
    iam.delete_user(UserName=user)
    assert error_of(iam.get_user, UserName=user)[0] == "NoSuchEntity"


def test_login_profile(iam):
    user = unique("erin")
    iam.create_user(UserName=user)
    profile = iam.create_login_profile(UserName=user, Password="Sup3r-secret!",
                                       PasswordResetRequired=True)["LoginProfile"]
    assert profile["UserName"] == user and profile["PasswordResetRequired"] is True
    assert error_of(iam.create_login_profile, UserName=user, Password="x-Y-z-123456")[0] == (
        "EntityAlreadyExists")
    iam.update_login_profile(UserName=user, PasswordResetRequired=False)
    assert iam.get_login_profile(UserName=user)["LoginProfile"]["PasswordResetRequired"] is False
    iam.delete_login_profile(UserName=user)
    assert error_of(iam.get_login_profile, UserName=user)[0] == "NoSuchEntity"


def test_list_users_paginates_with_marker(iam):
    path = f"/{unique('page')}/"
    names = sorted(unique("u") for _ in range(5))
    for name in names:
        iam.create_user(UserName=name, Path=path)
    first = iam.list_users(PathPrefix=path, MaxItems=2)
    assert first["IsTruncated"] is True and len(first["Users"]) == 2
    seen = [u["UserName"] for u in first["Users"]]
    marker = first["Marker"]
    while marker:
        page = iam.list_users(PathPrefix=path, MaxItems=2, Marker=marker)
        seen += [u["UserName"] for u in page["Users"]]
        marker = page.get("Marker") if page["IsTruncated"] else None
    assert seen == names
    last = iam.list_users(PathPrefix=path, MaxItems=10)
    assert last["IsTruncated"] is False and "Marker" not in last
    paged = iam.get_paginator("list_users").paginate(PathPrefix=path,
                                                     PaginationConfig={"PageSize": 3})
    assert [u["UserName"] for page in paged for u in page["Users"]] == names


def test_aws_cli_create_user_and_list_groups(cloudlet):
    name = unique("cli")
    out = json.loads(cloudlet.aws("iam", "create-user", "--user-name", name, "--path", "/cli/",
                                  "--output", "json").stdout)
    assert out["User"]["Arn"] == f"arn:aws:iam::000000000000:user/cli/{name}"
    listed = json.loads(cloudlet.aws("iam", "list-users", "--path-prefix", "/cli/",
                                     "--output", "json").stdout)
    assert name in [u["UserName"] for u in listed["Users"]]


def test_tag_keys_are_case_insensitive_on_iam_resources(iam):
    name = unique("tagged")
    iam.create_user(UserName=name, Tags=[{"Key": "Department", "Value": "finance"}])
    iam.tag_user(UserName=name, Tags=[{"Key": "department", "Value": "hr"}])
    assert iam.list_user_tags(UserName=name)["Tags"] == [{"Key": "department", "Value": "hr"}]
    code, _, _ = error_of(iam.tag_user, UserName=name,
                          Tags=[{"Key": "a", "Value": "1"}, {"Key": "A", "Value": "2"}])
    assert code == "InvalidInput"
    iam.untag_user(UserName=name, TagKeys=["DEPARTMENT"])
    assert iam.list_user_tags(UserName=name)["Tags"] == []


def test_a_user_joins_at_most_ten_groups(iam):
    user = unique("joiner")
    iam.create_user(UserName=user)
    groups = [unique("g") for _ in range(11)]
    for group in groups:
        iam.create_group(GroupName=group)
    for group in groups[:10]:
        iam.add_user_to_group(GroupName=group, UserName=user)
    iam.add_user_to_group(GroupName=groups[0], UserName=user)  # already a member: no change
    code, status, message = error_of(iam.add_user_to_group, GroupName=groups[10], UserName=user)
    assert (code, status, message) == ("LimitExceeded", 409,
                                       "Cannot exceed quota for GroupsPerUser: 10")
    assert len(iam.list_groups_for_user(UserName=user)["Groups"]) == 10


def fresh_account_client(cloudlet):
    account = "5" + str(uuid.uuid4().int)[:11]
    return cloudlet.client("iam", aws_access_key_id=account), account


def test_password_policy_governs_login_profiles(cloudlet):
    iam, account = fresh_account_client(cloudlet)
    code, status, message = error_of(iam.get_account_password_policy)
    assert (code, status) == ("NoSuchEntity", 404)
    assert message == f"The Password Policy with domain name {account} cannot be found."
    iam.update_account_password_policy(MinimumPasswordLength=12, RequireSymbols=True,
                                       RequireNumbers=True, MaxPasswordAge=90)
    policy = iam.get_account_password_policy()["PasswordPolicy"]
    assert policy["MinimumPasswordLength"] == 12 and policy["RequireSymbols"] is True
    assert policy["RequireUppercaseCharacters"] is False
    assert (policy["ExpirePasswords"], policy["MaxPasswordAge"]) == (True, 90)

    user = unique("ivy")
    iam.create_user(UserName=user)
    code, status, message = error_of(iam.create_login_profile, UserName=user, Password="short1!")
    assert (code, status) == ("PasswordPolicyViolation", 400)
    assert "minimum length of 12" in message
    assert error_of(iam.create_login_profile, UserName=user,
                    Password="longenoughbutnosymbol1")[0] == "PasswordPolicyViolation"
    iam.create_login_profile(UserName=user, Password="long-enough-and-1!")
    assert error_of(iam.update_login_profile, UserName=user,
                    Password="nonumbers-at-all!")[0] == "PasswordPolicyViolation"

    iam.delete_account_password_policy()
    assert error_of(iam.get_account_password_policy)[0] == "NoSuchEntity"
    iam.update_login_profile(UserName=user, Password="anything-goes-now")


def test_account_alias_is_unique_across_accounts(cloudlet):
    iam, _ = fresh_account_client(cloudlet)
    other, _ = fresh_account_client(cloudlet)
    alias = f"acme-{uuid.uuid4().hex[:12]}"
    assert iam.list_account_aliases()["AccountAliases"] == []
    iam.create_account_alias(AccountAlias=alias)
    assert iam.list_account_aliases()["AccountAliases"] == [alias]
    code, status, _ = error_of(other.create_account_alias, AccountAlias=alias)
    assert (code, status) == ("EntityAlreadyExists", 409)
    assert error_of(iam.create_account_alias, AccountAlias=alias + "-2")[0] == "LimitExceeded"
    assert error_of(iam.create_account_alias, AccountAlias="Bad_Alias")[0] == "ValidationError"
    iam.delete_account_alias(AccountAlias=alias)
    assert error_of(iam.delete_account_alias, AccountAlias=alias)[0] == "NoSuchEntity"
    other.create_account_alias(AccountAlias=alias)


def test_rename_group_keeps_members_and_policies(iam):
    group, user = unique("old"), unique("member")
    iam.create_group(GroupName=group)
    iam.create_user(UserName=user)
    iam.add_user_to_group(GroupName=group, UserName=user)
    iam.put_group_policy(GroupName=group, PolicyName="read", PolicyDocument=POLICY)
    renamed = unique("new")
    iam.update_group(GroupName=group, NewGroupName=renamed, NewPath="/moved/")
    got = iam.get_group(GroupName=renamed)
    assert got["Group"]["Arn"] == f"arn:aws:iam::000000000000:group/moved/{renamed}"
    assert [u["UserName"] for u in got["Users"]] == [user]
    assert iam.list_group_policies(GroupName=renamed)["PolicyNames"] == ["read"]
    assert error_of(iam.get_group, GroupName=group)[0] == "NoSuchEntity"
