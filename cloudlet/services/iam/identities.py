"""Users, groups, roles, instance profiles and their tags.

The helpers at the top (ids, ARNs, pagination, name patterns) are shared with policies.py.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import re
import secrets
import string
import urllib.parse

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    NoSuchEntity,
    UnmodifiableEntity,
    ValidationError,
)
from cloudlet.services.iam.store import IamStore

_ID_CHARS = string.ascii_uppercase + string.digits
MAX_TAGS = 50
GROUPS_PER_USER = 10


# -- shared helpers -------------------------------------------------------------------------

def new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ID_CHARS) for _ in range(16))


def stable_id(prefix: str, seed: str) -> str:
    digest = hashlib.sha256(seed.encode()).digest()
    return prefix + "".join(_ID_CHARS[b % len(_ID_CHARS)] for b in digest[:16])


def now() -> float:
    return float(int(clock.timestamp()))


def when(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


def arn(account: str, kind: str, path: str, name: str) -> str:
    return f"arn:aws:iam::{account}:{kind}{path}{name}"


def encode_document(text: str) -> str:
    """Policy documents travel URL-encoded in IAM's responses, as AWS sends them."""
    return urllib.parse.quote(text, safe="")


def paginate(items: list, params: dict, key: str) -> dict:
    """`Marker`/`MaxItems` pagination: the marker is the opaque position of the next item."""
    start = 0
    if params.get("Marker"):
        try:
            start = int(base64.urlsafe_b64decode(params["Marker"].encode()).decode())
        except (ValueError, UnicodeDecodeError):
            raise InvalidInput("Invalid Marker.") from None
    limit = params.get("MaxItems") or 100
    page = items[start:start + limit]
    result = {key: page, "IsTruncated": start + limit < len(items)}
    if result["IsTruncated"]:
        result["Marker"] = base64.urlsafe_b64encode(str(start + limit).encode()).decode()
    return result


def tag_list(rows) -> list[dict]:
    return [{"Key": r["key"], "Value": r["value"]} for r in rows]


def check_tags(existing: int, tags: list[dict]) -> None:
    keys = [t["Key"].lower() for t in tags]
    if len(set(keys)) != len(keys):
        raise InvalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
    if existing + len(tags) > MAX_TAGS:
        raise LimitExceeded(f"The number of tags has reached the maximum limit of {MAX_TAGS}.")


# The model's patterns for IAM names and paths (validate.py does not read `pattern`).
NAME_PATTERN = r"[\w+=,.@-]+"
PATH_PATTERN = r"(\u002F)|(\u002F[\u0021-\u007E]+\u002F)"


def check_pattern(member: str, value: str, pattern: str) -> None:
    if value is not None and not re.fullmatch(pattern, value):
        name = member[:1].lower() + member[1:]
        raise ValidationError(
            f"1 validation error detected: Value '{value}' at '{name}' failed to satisfy "
            f"constraint: Member must satisfy regular expression pattern: {pattern}")


class IamBase:
    """What every IAM operation family reads: the store and entity lookups with AWS's
    NoSuchEntity messages."""

    iam: IamStore

    def _user(self, account: str, name: str):
        row = self.iam.entity("user", account, name)
        if row is None:
            raise NoSuchEntity(f"The user with name {name} cannot be found.")
        return row

    def _group(self, account: str, name: str):
        row = self.iam.entity("group", account, name)
        if row is None:
            raise NoSuchEntity(f"The group with name {name} cannot be found.")
        return row

    def _role(self, account: str, name: str):
        row = self.iam.entity("role", account, name)
        if row is None:
            raise NoSuchEntity(f"The role with name {name} cannot be found.")
        return row

    def _modifiable_role(self, account: str, name: str):
        """The role, unless an AWS service owns it (a service-linked role)."""
        row = self._role(account, name)
        if row["path"].startswith("/aws-service-role/"):
            raise UnmodifiableEntity(f"Cannot perform the operation on the protected role "
                                     f"'{row['name']}' - this role is only modifiable by AWS")
        return row

    def _instance_profile(self, account: str, name: str):
        row = self.iam.entity("instance-profile", account, name)
        if row is None:
            raise NoSuchEntity(f"Instance Profile {name} cannot be found.")
        return row

    def mfa_devices_of(self, account_id: str, user_name: str) -> list[str]:
        """Overridden by MfaOperations: the serial numbers of the user's MFA devices."""
        return []

    def _check_password(self, account: str, password: str) -> None:
        """Overridden by AccountOperations, which knows the account's password policy."""

    def _unique_id(self, prefix: str) -> str:
        while True:
            candidate = new_id(prefix)
            if not self.iam.id_exists(candidate):
                return candidate

    def _boundary(self, row) -> dict | None:
        if not row["boundary"]:
            return None
        return {"PermissionsBoundaryType": "Policy", "PermissionsBoundaryArn": row["boundary"]}

    # -- shapes -----------------------------------------------------------------------------

    def _user_shape(self, row, *, full: bool = False) -> dict:
        account = row["account"]
        shape = {"Path": row["path"], "UserName": row["name"], "UserId": row["id"],
                 "Arn": arn(account, "user", row["path"], row["name"]),
                 "CreateDate": when(row["created"])}
        if full:
            if self._boundary(row):
                shape["PermissionsBoundary"] = self._boundary(row)
            tags = tag_list(self.iam.tags(account, "user", row["name"]))
            if tags:
                shape["Tags"] = tags
        return shape

    def _group_shape(self, row) -> dict:
        return {"Path": row["path"], "GroupName": row["name"], "GroupId": row["id"],
                "Arn": arn(row["account"], "group", row["path"], row["name"]),
                "CreateDate": when(row["created"])}

    def _role_shape(self, row, *, full: bool = False) -> dict:
        account = row["account"]
        shape = {"Path": row["path"], "RoleName": row["name"], "RoleId": row["id"],
                 "Arn": arn(account, "role", row["path"], row["name"]),
                 "CreateDate": when(row["created"]),
                 "AssumeRolePolicyDocument": encode_document(row["trust_policy"]),
                 "MaxSessionDuration": row["max_session_duration"]}
        if row["description"] is not None:
            shape["Description"] = row["description"]
        if full:
            if self._boundary(row):
                shape["PermissionsBoundary"] = self._boundary(row)
            tags = tag_list(self.iam.tags(account, "role", row["name"]))
            if tags:
                shape["Tags"] = tags
            last = {}
            if row["last_used"] is not None:
                last = {"LastUsedDate": when(row["last_used"]), "Region": row["last_used_region"]}
            shape["RoleLastUsed"] = last
        return shape

    def profile_shape(self, row) -> dict:
        account = row["account"]
        roles = []
        if row["role_name"]:
            role = self.iam.entity("role", account, row["role_name"])
            if role is not None:
                roles.append(self._role_shape(role))
        shape = {"Path": row["path"], "InstanceProfileName": row["name"],
                 "InstanceProfileId": row["id"],
                 "Arn": arn(account, "instance-profile", row["path"], row["name"]),
                 "CreateDate": when(row["created"]), "Roles": roles}
        tags = tag_list(self.iam.tags(account, "instance-profile", row["name"]))
        if tags:
            shape["Tags"] = tags
        return shape

    # -- tags, shared by users, roles and instance profiles ---------------------------------

    def _tag(self, account: str, kind: str, name: str, tags: list[dict]) -> None:
        existing = {r["key"].lower() for r in self.iam.tags(account, kind, name)}
        check_tags(len(existing - {t["Key"].lower() for t in tags}), tags)
        with self.iam.transaction() as conn:
            IamStore.put_tags(conn, account, kind, name, tags)

    def _untag(self, account: str, kind: str, name: str, keys: list[str]) -> None:
        with self.iam.transaction() as conn:
            IamStore.delete_tags(conn, account, kind, name, keys)

    def _entity_row(self, conn, table: str, row: dict, exists_message: str) -> None:
        try:
            IamStore.insert(conn, table, row)
        except Exception as e:  # sqlite3.IntegrityError: the name is taken
            if "UNIQUE" in str(e):
                raise EntityAlreadyExists(exists_message) from None
            raise


class IdentityOperations(IamBase):
    # -- users ------------------------------------------------------------------------------

    def create_user(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["UserName"]
        check_pattern("UserName", name, NAME_PATTERN)
        path = params.get("Path") or "/"
        check_pattern("Path", path, PATH_PATTERN)
        tags = params.get("Tags") or []
        check_tags(0, tags)
        boundary = params.get("PermissionsBoundary")
        if boundary:
            self._require_boundary_policy(account, boundary)
        row = {"account": account, "name": name, "id": self._unique_id("AIDA"), "path": path,
               "created": now(), "boundary": boundary}
        with self.iam.transaction() as conn:
            self._entity_row(conn, "iam_users", row, f"User with name {name} already exists.")
            IamStore.put_tags(conn, account, "user", name, tags)
        return {"User": self._user_shape(self._user(account, name), full=True)}

    def get_user(self, ctx: RequestContext, params: dict) -> dict:
        name = params.get("UserName")
        if name is None:
            caller = ctx.caller
            if caller is None or caller.kind == "root":
                return {"User": {"UserId": ctx.account_id, "Arn": f"arn:aws:iam::{ctx.account_id}:root",
                                 "Path": "/", "CreateDate": when(0)}}
            if caller.kind != "user":
                raise ValidationError("Must specify userName when calling with non-User credentials")
            name = caller.name
        return {"User": self._user_shape(self._user(ctx.account_id, name), full=True)}

    def list_users(self, ctx: RequestContext, params: dict) -> dict:
        rows = self.iam.entities("user", ctx.account_id, params.get("PathPrefix") or "/")
        return paginate([self._user_shape(r) for r in rows], params, "Users")

    def update_user(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["UserName"]
        row = self._user(account, name)
        new_name = params.get("NewUserName") or row["name"]
        new_path = params.get("NewPath") or row["path"]
        check_pattern("NewUserName", new_name, NAME_PATTERN)
        check_pattern("NewPath", new_path, PATH_PATTERN)
        if new_name.lower() != row["name"].lower() and self.iam.entity("user", account, new_name):
            raise EntityAlreadyExists(f"User with name {new_name} already exists.")
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_users SET name=?, path=? WHERE account=? AND name=?",
                         (new_name, new_path, account, row["name"]))
            self._rename(conn, account, "user", row["name"], new_name)
            for table in ("iam_group_members", "iam_access_keys", "iam_login_profiles"):
                conn.execute(f"UPDATE {table} SET user_name=? WHERE account=? AND user_name=?",
                             (new_name, account, row["name"]))
            conn.execute("UPDATE records SET value=json_set(value, '$.user', ?) WHERE "
                         "service='iam' AND account=? AND kind='mfa-device' AND "
                         "lower(json_extract(value, '$.user'))=lower(?)",
                         (new_name, account, row["name"]))
        return {}

    @staticmethod
    def _rename(conn, account: str, kind: str, old: str, new: str) -> None:
        for table in ("iam_tags", "iam_attachments", "iam_inline_policies"):
            conn.execute(f"UPDATE {table} SET entity_name=? WHERE account=? AND entity_type=? "
                         "AND entity_name=?", (new, account, kind, old))

    def delete_user(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        name = self._user(account, params["UserName"])["name"]
        if self.iam.access_keys(account, name):
            raise DeleteConflict("Cannot delete entity, must delete access keys first.")
        if self.mfa_devices_of(account, name):
            raise DeleteConflict("Cannot delete entity, must delete MFA device first.")
        if self.iam.login_profile(account, name):
            raise DeleteConflict("Cannot delete entity, must delete login profile first.")
        if self.iam.inline_policies(account, "user", name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.iam.attached(account, "user", name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        if self.iam.group_names_of(account, name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_users WHERE account=? AND name=?", (account, name))
            IamStore.delete_tags(conn, account, "user", name)
        return {}

    def tag_user(self, ctx: RequestContext, params: dict) -> dict:
        name = self._user(ctx.account_id, params["UserName"])["name"]
        self._tag(ctx.account_id, "user", name, params["Tags"])
        return {}

    def untag_user(self, ctx: RequestContext, params: dict) -> dict:
        name = self._user(ctx.account_id, params["UserName"])["name"]
        self._untag(ctx.account_id, "user", name, params["TagKeys"])
        return {}

    def list_user_tags(self, ctx: RequestContext, params: dict) -> dict:
        name = self._user(ctx.account_id, params["UserName"])["name"]
        return paginate(tag_list(self.iam.tags(ctx.account_id, "user", name)), params, "Tags")

    # -- groups -----------------------------------------------------------------------------

    def create_group(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["GroupName"]
        check_pattern("GroupName", name, NAME_PATTERN)
        path = params.get("Path") or "/"
        check_pattern("Path", path, PATH_PATTERN)
        row = {"account": account, "name": name, "id": self._unique_id("AGPA"), "path": path,
               "created": now()}
        with self.iam.transaction() as conn:
            self._entity_row(conn, "iam_groups", row, f"Group with name {name} already exists.")
        return {"Group": self._group_shape(self._group(account, name))}

    def get_group(self, ctx: RequestContext, params: dict) -> dict:
        group = self._group(ctx.account_id, params["GroupName"])
        users = [self._user_shape(r) for r in self.iam.members_of(ctx.account_id, group["name"])]
        return {"Group": self._group_shape(group), **paginate(users, params, "Users")}

    def list_groups(self, ctx: RequestContext, params: dict) -> dict:
        rows = self.iam.entities("group", ctx.account_id, params.get("PathPrefix") or "/")
        return paginate([self._group_shape(r) for r in rows], params, "Groups")

    def update_group(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        row = self._group(account, params["GroupName"])
        new_name = params.get("NewGroupName") or row["name"]
        new_path = params.get("NewPath") or row["path"]
        check_pattern("NewGroupName", new_name, NAME_PATTERN)
        check_pattern("NewPath", new_path, PATH_PATTERN)
        if new_name.lower() != row["name"].lower() and self.iam.entity("group", account, new_name):
            raise EntityAlreadyExists(f"Group with name {new_name} already exists.")
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_groups SET name=?, path=? WHERE account=? AND name=?",
                         (new_name, new_path, account, row["name"]))
            self._rename(conn, account, "group", row["name"], new_name)
            conn.execute("UPDATE iam_group_members SET group_name=? WHERE account=? AND group_name=?",
                         (new_name, account, row["name"]))
        return {}

    def delete_group(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        name = self._group(account, params["GroupName"])["name"]
        if self.iam.members_of(account, name):
            raise DeleteConflict("Cannot delete entity, must remove users from group first.")
        if self.iam.inline_policies(account, "group", name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.iam.attached(account, "group", name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_groups WHERE account=? AND name=?", (account, name))
        return {}

    def add_user_to_group(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        group = self._group(account, params["GroupName"])["name"]
        user = self._user(account, params["UserName"])["name"]
        with self.iam.transaction() as conn:
            groups = [r[0].lower() for r in conn.execute(
                "SELECT group_name FROM iam_group_members WHERE account=? AND user_name=?",
                (account, user))]
            if group.lower() in groups:
                return {}
            if len(groups) >= GROUPS_PER_USER:
                raise LimitExceeded(f"Cannot exceed quota for GroupsPerUser: {GROUPS_PER_USER}")
            conn.execute("INSERT INTO iam_group_members (account, group_name, user_name) "
                         "VALUES (?, ?, ?)", (account, group, user))
        return {}

    def remove_user_from_group(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        group = self._group(account, params["GroupName"])["name"]
        user = self._user(account, params["UserName"])["name"]
        with self.iam.transaction() as conn:  # not a member: nothing to do, and no error
            conn.execute("DELETE FROM iam_group_members WHERE account=? AND group_name=? "
                         "AND user_name=?", (account, group, user))
        return {}

    def list_groups_for_user(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        user = self._user(account, params["UserName"])["name"]
        groups = [self._group_shape(self._group(account, g))
                  for g in self.iam.group_names_of(account, user)]
        return paginate(groups, params, "Groups")

    # -- roles ------------------------------------------------------------------------------

    def create_role(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["RoleName"]
        check_pattern("RoleName", name, NAME_PATTERN)
        path = params.get("Path") or "/"
        check_pattern("Path", path, PATH_PATTERN)
        trust = params["AssumeRolePolicyDocument"]
        self._check_trust_policy(trust)
        tags = params.get("Tags") or []
        check_tags(0, tags)
        boundary = params.get("PermissionsBoundary")
        if boundary:
            self._require_boundary_policy(account, boundary)
        row = {"account": account, "name": name, "id": self._unique_id("AROA"), "path": path,
               "created": now(), "trust_policy": trust,
               "description": params.get("Description"),
               "max_session_duration": params.get("MaxSessionDuration") or 3600,
               "boundary": boundary}
        with self.iam.transaction() as conn:
            self._entity_row(conn, "iam_roles", row, f"Role with name {name} already exists.")
            IamStore.put_tags(conn, account, "role", name, tags)
        shape = self._role_shape(self._role(account, name), full=True)
        shape.pop("RoleLastUsed")
        return {"Role": shape}

    def get_role(self, ctx: RequestContext, params: dict) -> dict:
        return {"Role": self._role_shape(self._role(ctx.account_id, params["RoleName"]), full=True)}

    def list_roles(self, ctx: RequestContext, params: dict) -> dict:
        rows = self.iam.entities("role", ctx.account_id, params.get("PathPrefix") or "/")
        return paginate([self._role_shape(r) for r in rows], params, "Roles")

    def update_role(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        row = self._role(account, params["RoleName"])
        description = params.get("Description", row["description"])
        duration = params.get("MaxSessionDuration") or row["max_session_duration"]
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_roles SET description=?, max_session_duration=? "
                         "WHERE account=? AND name=?", (description, duration, account, row["name"]))
        return {}

    def update_role_description(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        row = self._role(account, params["RoleName"])
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_roles SET description=? WHERE account=? AND name=?",
                         (params["Description"], account, row["name"]))
        return {"Role": self._role_shape(self._role(account, row["name"]), full=True)}

    def update_assume_role_policy(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        row = self._modifiable_role(account, params["RoleName"])
        self._check_trust_policy(params["PolicyDocument"])
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_roles SET trust_policy=? WHERE account=? AND name=?",
                         (params["PolicyDocument"], account, row["name"]))
        return {}

    def delete_role(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        name = self._modifiable_role(account, params["RoleName"])["name"]
        if self.iam.profiles_of_role(account, name):
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        if self.iam.inline_policies(account, "role", name):
            raise DeleteConflict("Cannot delete entity, must delete policies first.")
        if self.iam.attached(account, "role", name):
            raise DeleteConflict("Cannot delete entity, must detach all policies first.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_roles WHERE account=? AND name=?", (account, name))
            IamStore.delete_tags(conn, account, "role", name)
        return {}

    def tag_role(self, ctx: RequestContext, params: dict) -> dict:
        name = self._role(ctx.account_id, params["RoleName"])["name"]
        self._tag(ctx.account_id, "role", name, params["Tags"])
        return {}

    def untag_role(self, ctx: RequestContext, params: dict) -> dict:
        name = self._role(ctx.account_id, params["RoleName"])["name"]
        self._untag(ctx.account_id, "role", name, params["TagKeys"])
        return {}

    def list_role_tags(self, ctx: RequestContext, params: dict) -> dict:
        name = self._role(ctx.account_id, params["RoleName"])["name"]
        return paginate(tag_list(self.iam.tags(ctx.account_id, "role", name)), params, "Tags")

    # -- instance profiles ------------------------------------------------------------------

    def create_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["InstanceProfileName"]
        check_pattern("InstanceProfileName", name, NAME_PATTERN)
        path = params.get("Path") or "/"
        check_pattern("Path", path, PATH_PATTERN)
        tags = params.get("Tags") or []
        check_tags(0, tags)
        row = {"account": account, "name": name, "id": self._unique_id("AIPA"), "path": path,
               "created": now(), "role_name": None}
        with self.iam.transaction() as conn:
            self._entity_row(conn, "iam_instance_profiles", row,
                             f"Instance Profile {name} already exists.")
            IamStore.put_tags(conn, account, "instance-profile", name, tags)
        return {"InstanceProfile": self.profile_shape(self._instance_profile(account, name))}

    def get_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        row = self._instance_profile(ctx.account_id, params["InstanceProfileName"])
        return {"InstanceProfile": self.profile_shape(row)}

    def list_instance_profiles(self, ctx: RequestContext, params: dict) -> dict:
        rows = self.iam.entities("instance-profile", ctx.account_id, params.get("PathPrefix") or "/")
        return paginate([self.profile_shape(r) for r in rows], params, "InstanceProfiles")

    def list_instance_profiles_for_role(self, ctx: RequestContext, params: dict) -> dict:
        role = self._role(ctx.account_id, params["RoleName"])["name"]
        rows = self.iam.profiles_of_role(ctx.account_id, role)
        return paginate([self.profile_shape(r) for r in rows], params, "InstanceProfiles")

    def add_role_to_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        profile = self._instance_profile(account, params["InstanceProfileName"])
        role = self._role(account, params["RoleName"])["name"]
        if profile["role_name"]:
            raise LimitExceeded("Cannot exceed quota for InstanceSessionsPerInstanceProfile: 1")
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_instance_profiles SET role_name=? WHERE account=? AND name=?",
                         (role, account, profile["name"]))
        return {}

    def remove_role_from_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        profile = self._instance_profile(account, params["InstanceProfileName"])
        role = self._role(account, params["RoleName"])["name"]
        if (profile["role_name"] or "").lower() != role.lower():
            raise NoSuchEntity(f"The role with name {role} cannot be found.")
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_instance_profiles SET role_name=NULL WHERE account=? AND name=?",
                         (account, profile["name"]))
        return {}

    def delete_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        profile = self._instance_profile(account, params["InstanceProfileName"])
        if profile["role_name"]:
            raise DeleteConflict("Cannot delete entity, must remove roles from instance profile first.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_instance_profiles WHERE account=? AND name=?",
                         (account, profile["name"]))
            IamStore.delete_tags(conn, account, "instance-profile", profile["name"])
        return {}

    def tag_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        name = self._instance_profile(ctx.account_id, params["InstanceProfileName"])["name"]
        self._tag(ctx.account_id, "instance-profile", name, params["Tags"])
        return {}

    def untag_instance_profile(self, ctx: RequestContext, params: dict) -> dict:
        name = self._instance_profile(ctx.account_id, params["InstanceProfileName"])["name"]
        self._untag(ctx.account_id, "instance-profile", name, params["TagKeys"])
        return {}

    def list_instance_profile_tags(self, ctx: RequestContext, params: dict) -> dict:
        name = self._instance_profile(ctx.account_id, params["InstanceProfileName"])["name"]
        rows = self.iam.tags(ctx.account_id, "instance-profile", name)
        return paginate(tag_list(rows), params, "Tags")
