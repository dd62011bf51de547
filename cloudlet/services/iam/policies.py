"""Managed policies (customer-managed with versions, and the AWS-managed catalog), their
attachments, inline policies and permissions boundaries."""

from __future__ import annotations

import json
import re

from cloudlet.policy import document as policy_document
from cloudlet.services.base import RequestContext
from cloudlet.services.iam import managed
from cloudlet.services.iam.credentials import KEYS_PER_USER
from cloudlet.services.iam.errors import (
    DeleteConflict,
    EntityAlreadyExists,
    InvalidInput,
    LimitExceeded,
    MalformedPolicyDocument,
    NoSuchEntity,
)
from cloudlet.services.iam.identities import (
    GROUPS_PER_USER,
    NAME_PATTERN,
    IamBase,
    check_pattern,
    check_tags,
    encode_document,
    now,
    paginate,
    stable_id,
    tag_list,
    when,
)
from cloudlet.services.iam.store import IamStore

MAX_VERSIONS = 5
MANAGED_POLICIES_PER_ENTITY = 10
_POLICY_ARN = re.compile(r"arn:aws:iam::(\d{12}|aws):policy(/(?:.*/)?)([^/]+)\Z")
_IAM_PRINCIPAL = re.compile(r"arn:aws:iam::(\d{12}):(user|role)/(?:.*/)?([^/]+)\Z")
_ENTITY = {"user": ("UserName", "_user"), "group": ("GroupName", "_group"),
           "role": ("RoleName", "_role")}


def _aws_principals(document: dict) -> list[str]:
    """The `AWS` principals a policy names (a trust policy's users, roles, accounts)."""
    statements = document.get("Statement")
    found = []
    for st in statements if isinstance(statements, list) else [statements]:
        principal = st.get("Principal") if isinstance(st, dict) else None
        if isinstance(principal, dict):
            values = principal.get("AWS")
            found += [values] if isinstance(values, str) else list(values or [])
    return found


class PolicyOperations(IamBase):
    def _check_trust_policy(self, text: str) -> None:
        policy_document.validate_trust_policy(text)
        for arn in _aws_principals(json.loads(text)):
            match = _IAM_PRINCIPAL.match(arn)
            if match and self.iam.entity(match.group(2), match.group(1), match.group(3)) is None:
                raise MalformedPolicyDocument(f'Invalid principal in policy: "AWS":"{arn}"')

    # -- finding a managed policy -----------------------------------------------------------

    def _managed(self, account: str, arn: str) -> dict:
        """The managed policy at `arn` as a row-like dict, AWS-managed or the account's own."""
        match = _POLICY_ARN.match(arn)
        if match and match.group(1) == "aws":
            policy = managed.get(arn)
            if policy is not None:
                return {"aws": True, "arn": policy.arn, "name": policy.name,
                        "id": stable_id("ANPA", policy.arn), "path": policy.path,
                        "description": None, "created": policy.created.timestamp(),
                        "updated": policy.updated.timestamp(),
                        "default_version": policy.default_version, "policy": policy}
        elif match and match.group(1) == account:
            row = self.iam.policy(account, arn)
            if row is not None:
                return {"aws": False, **dict(row)}
        raise NoSuchEntity(f"Policy {arn} does not exist or is not attachable.")

    def _policy_shape(self, account: str, policy: dict, counts=None, boundaries=None,
                      *, full: bool = False) -> dict:
        counts = self.iam.attachment_counts(account) if counts is None else counts
        boundaries = self.iam.boundary_counts(account) if boundaries is None else boundaries
        shape = {"PolicyName": policy["name"], "PolicyId": policy["id"], "Arn": policy["arn"],
                 "Path": policy["path"], "DefaultVersionId": policy["default_version"],
                 "AttachmentCount": counts.get(policy["arn"], 0),
                 "PermissionsBoundaryUsageCount": boundaries.get(policy["arn"], 0),
                 "IsAttachable": True, "CreateDate": when(policy["created"]),
                 "UpdateDate": when(policy["updated"])}
        if full and policy["description"]:
            shape["Description"] = policy["description"]
        if full and not policy["aws"]:
            tags = tag_list(self.iam.tags(account, "policy", policy["arn"]))
            if tags:
                shape["Tags"] = tags
        return shape

    def _require_boundary_policy(self, account: str, arn: str) -> None:
        self._managed(account, arn)

    # -- customer-managed policies ----------------------------------------------------------

    def create_policy(self, ctx: RequestContext, params: dict) -> dict:
        account, name = ctx.account_id, params["PolicyName"]
        check_pattern("PolicyName", name, NAME_PATTERN)
        path = params.get("Path") or "/"
        check_pattern("Path", path, r"((/[A-Za-z0-9\.,\+@=_-]+)*)/")
        text = params["PolicyDocument"]
        policy_document.validate_managed_policy(text)
        tags = params.get("Tags") or []
        check_tags(0, tags)
        arn = f"arn:aws:iam::{account}:policy{path}{name}"
        created = now()
        with self.iam.transaction() as conn:
            if conn.execute("SELECT 1 FROM iam_policies WHERE account=? AND name=?",
                            (account, name)).fetchone():
                raise EntityAlreadyExists(
                    f"A policy called {name} already exists. Duplicate names are not allowed.")
            IamStore.insert(conn, "iam_policies", {
                "account": account, "arn": arn, "name": name, "id": self._unique_id("ANPA"),
                "path": path, "description": params.get("Description"), "created": created,
                "updated": created, "default_version": "v1", "next_version": 2})
            IamStore.insert(conn, "iam_policy_versions", {
                "account": account, "arn": arn, "version": "v1", "document": text,
                "created": created})
            IamStore.put_tags(conn, account, "policy", arn, tags)
        shape = self._policy_shape(account, self._managed(account, arn), full=True)
        shape.pop("Description", None)
        return {"Policy": shape}

    def get_policy(self, ctx: RequestContext, params: dict) -> dict:
        policy = self._managed(ctx.account_id, params["PolicyArn"])
        return {"Policy": self._policy_shape(ctx.account_id, policy, full=True)}

    def list_policies(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        scope = params.get("Scope") or "All"
        prefix = params.get("PathPrefix") or "/"
        counts = self.iam.attachment_counts(account)
        boundaries = self.iam.boundary_counts(account)
        policies = []
        if scope in ("All", "AWS"):
            policies += [self._managed(account, arn) for arn, p in managed.catalog().items()
                         if p.path.startswith(prefix)
                         and (not params.get("OnlyAttached") or counts.get(arn))]
        if scope in ("All", "Local"):
            policies += [{"aws": False, **dict(r)} for r in self.iam.policies(account)
                         if r["path"].startswith(prefix)]
        if params.get("OnlyAttached"):
            policies = [p for p in policies if counts.get(p["arn"])]
        usage = params.get("PolicyUsageFilter")
        if usage == "PermissionsBoundary":
            policies = [p for p in policies if boundaries.get(p["arn"])]
        elif usage == "PermissionsPolicy":
            policies = [p for p in policies if counts.get(p["arn"])]
        shapes = [self._policy_shape(account, p, counts, boundaries) for p in policies]
        return paginate(shapes, params, "Policies")

    def _local_policy(self, account: str, arn: str) -> dict:
        policy = self._managed(account, arn)
        if policy["aws"]:
            raise InvalidInput(f"ARN {arn} is not valid: AWS-managed policies cannot be modified.")
        return policy

    def delete_policy(self, ctx: RequestContext, params: dict) -> dict:
        account, arn = ctx.account_id, params["PolicyArn"]
        self._local_policy(account, arn)
        if self.iam.attachments_of(account, arn):
            raise DeleteConflict("Cannot delete a policy attached to entities.")
        if self.iam.boundary_counts(account).get(arn):
            raise DeleteConflict("Cannot delete a policy used as a permissions boundary.")
        if len(self.iam.policy_versions(account, arn)) > 1:
            raise DeleteConflict(
                "This policy has more than one version. Before you delete a policy, you must "
                "delete the policy's versions. The default version is deleted with the policy.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_policy_versions WHERE account=? AND arn=?", (account, arn))
            conn.execute("DELETE FROM iam_policies WHERE account=? AND arn=?", (account, arn))
            IamStore.delete_tags(conn, account, "policy", arn)
        return {}

    def tag_policy(self, ctx: RequestContext, params: dict) -> dict:
        arn = self._local_policy(ctx.account_id, params["PolicyArn"])["arn"]
        self._tag(ctx.account_id, "policy", arn, params["Tags"])
        return {}

    def untag_policy(self, ctx: RequestContext, params: dict) -> dict:
        arn = self._local_policy(ctx.account_id, params["PolicyArn"])["arn"]
        self._untag(ctx.account_id, "policy", arn, params["TagKeys"])
        return {}

    def list_policy_tags(self, ctx: RequestContext, params: dict) -> dict:
        arn = self._local_policy(ctx.account_id, params["PolicyArn"])["arn"]
        return paginate(tag_list(self.iam.tags(ctx.account_id, "policy", arn)), params, "Tags")

    # -- versions ---------------------------------------------------------------------------

    def _version_shape(self, policy: dict, version: dict, *, document: bool = True) -> dict:
        shape = {"VersionId": version["version"],
                 "IsDefaultVersion": version["version"] == policy["default_version"],
                 "CreateDate": when(version["created"])}
        if document:
            shape["Document"] = encode_document(version["document"])
        return shape

    def _versions(self, account: str, policy: dict) -> list[dict]:
        if policy["aws"]:
            p = policy["policy"]
            return [{"version": p.default_version, "document": p.document,
                     "created": p.version_created.timestamp()}]
        return [dict(r) for r in self.iam.policy_versions(account, policy["arn"])]

    def create_policy_version(self, ctx: RequestContext, params: dict) -> dict:
        account, arn = ctx.account_id, params["PolicyArn"]
        policy = self._local_policy(account, arn)
        text = params["PolicyDocument"]
        policy_document.validate_managed_policy(text)
        created = now()
        with self.iam.transaction() as conn:
            count = conn.execute("SELECT count(*) FROM iam_policy_versions WHERE account=? "
                                 "AND arn=?", (account, arn)).fetchone()[0]
            if count >= MAX_VERSIONS:
                raise LimitExceeded(
                    f"A managed policy can have up to {MAX_VERSIONS} versions. Before you create "
                    "a new version, you must delete an existing version.")
            number = conn.execute("SELECT next_version FROM iam_policies WHERE account=? AND arn=?",
                                  (account, arn)).fetchone()[0]
            version = f"v{number}"
            IamStore.insert(conn, "iam_policy_versions", {
                "account": account, "arn": arn, "version": version, "document": text,
                "created": created})
            default = version if params.get("SetAsDefault") else policy["default_version"]
            conn.execute("UPDATE iam_policies SET next_version=?, default_version=?, updated=? "
                         "WHERE account=? AND arn=?", (number + 1, default, created, account, arn))
        policy = self._managed(account, arn)
        row = dict(self.iam.policy_version(account, arn, version))
        return {"PolicyVersion": self._version_shape(policy, row, document=False)}

    def _version(self, account: str, policy: dict, version_id: str) -> dict:
        for version in self._versions(account, policy):
            if version["version"] == version_id:
                return version
        raise NoSuchEntity(f"Policy {policy['arn']} version {version_id} does not exist or is "
                           "not attachable.")

    def get_policy_version(self, ctx: RequestContext, params: dict) -> dict:
        policy = self._managed(ctx.account_id, params["PolicyArn"])
        version = self._version(ctx.account_id, policy, params["VersionId"])
        return {"PolicyVersion": self._version_shape(policy, version)}

    def list_policy_versions(self, ctx: RequestContext, params: dict) -> dict:
        policy = self._managed(ctx.account_id, params["PolicyArn"])
        versions = [self._version_shape(policy, v, document=False)
                    for v in self._versions(ctx.account_id, policy)]
        return paginate(versions, params, "Versions")

    def set_default_policy_version(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        policy = self._local_policy(account, params["PolicyArn"])
        version = self._version(account, policy, params["VersionId"])
        with self.iam.transaction() as conn:
            conn.execute("UPDATE iam_policies SET default_version=?, updated=? "
                         "WHERE account=? AND arn=?",
                         (version["version"], now(), account, policy["arn"]))
        return {}

    def delete_policy_version(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        policy = self._local_policy(account, params["PolicyArn"])
        version = self._version(account, policy, params["VersionId"])
        if version["version"] == policy["default_version"]:
            raise DeleteConflict("Cannot delete the default version of a policy.")
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_policy_versions WHERE account=? AND arn=? AND version=?",
                         (account, policy["arn"], version["version"]))
        return {}

    # -- attachments ------------------------------------------------------------------------

    def _entity_name(self, ctx: RequestContext, kind: str, params: dict) -> str:
        member, finder = _ENTITY[kind]
        return getattr(self, finder)(ctx.account_id, params[member])["name"]

    def _changeable_name(self, ctx: RequestContext, kind: str, params: dict) -> str:
        """The entity's name for an operation that changes its policies: service-linked
        roles refuse."""
        if kind == "role":
            return self._modifiable_role(ctx.account_id, params["RoleName"])["name"]
        return self._entity_name(ctx, kind, params)

    def _attach(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        account = ctx.account_id
        name = self._changeable_name(ctx, kind, params)
        arn = self._managed(account, params["PolicyArn"])["arn"]
        with self.iam.transaction() as conn:
            attached = [r[0] for r in conn.execute(
                "SELECT policy_arn FROM iam_attachments WHERE account=? AND entity_type=? "
                "AND entity_name=?", (account, kind, name))]
            if arn in attached:
                return {}
            if len(attached) >= MANAGED_POLICIES_PER_ENTITY:
                raise LimitExceeded(f"Cannot exceed quota for PoliciesPer{kind.title()}: "
                                    f"{MANAGED_POLICIES_PER_ENTITY}")
            IamStore.insert(conn, "iam_attachments", {"account": account, "policy_arn": arn,
                                                      "entity_type": kind, "entity_name": name})
        return {}

    def _detach(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        account = ctx.account_id
        name = self._changeable_name(ctx, kind, params)
        arn = params["PolicyArn"]
        with self.iam.transaction() as conn:
            gone = conn.execute("DELETE FROM iam_attachments WHERE account=? AND policy_arn=? "
                                "AND entity_type=? AND entity_name=?",
                                (account, arn, kind, name)).rowcount
        if not gone:
            raise NoSuchEntity(f"Policy {arn} was not found.")
        return {}

    def _list_attached(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        account = ctx.account_id
        name = self._entity_name(ctx, kind, params)
        prefix = params.get("PathPrefix") or "/"
        policies = [self._managed(account, arn) for arn in self.iam.attached(account, kind, name)]
        shapes = [{"PolicyName": p["name"], "PolicyArn": p["arn"]}
                  for p in policies if p["path"].startswith(prefix)]
        return paginate(shapes, params, "AttachedPolicies")

    def attach_user_policy(self, ctx, params):
        return self._attach(ctx, "user", params)

    def attach_group_policy(self, ctx, params):
        return self._attach(ctx, "group", params)

    def attach_role_policy(self, ctx, params):
        return self._attach(ctx, "role", params)

    def detach_user_policy(self, ctx, params):
        return self._detach(ctx, "user", params)

    def detach_group_policy(self, ctx, params):
        return self._detach(ctx, "group", params)

    def detach_role_policy(self, ctx, params):
        return self._detach(ctx, "role", params)

    def list_attached_user_policies(self, ctx, params):
        return self._list_attached(ctx, "user", params)

    def list_attached_group_policies(self, ctx, params):
        return self._list_attached(ctx, "group", params)

    def list_attached_role_policies(self, ctx, params):
        return self._list_attached(ctx, "role", params)

    def list_entities_for_policy(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        arn = self._managed(account, params["PolicyArn"])["arn"]
        wanted = params.get("EntityFilter")
        prefix = params.get("PathPrefix") or "/"
        found = {"PolicyGroups": [], "PolicyUsers": [], "PolicyRoles": []}
        for row in self.iam.attachments_of(account, arn):
            kind, name = row["entity_type"], row["entity_name"]
            if wanted and wanted != "LocalManagedPolicy" and wanted.lower() != kind:
                continue
            entity = self.iam.entity(kind, account, name)
            if entity is None or not entity["path"].startswith(prefix):
                continue
            key = {"user": "PolicyUsers", "group": "PolicyGroups", "role": "PolicyRoles"}[kind]
            found[key].append({f"{kind.title()}Name": entity["name"],
                               f"{kind.title()}Id": entity["id"]})
        everything = [(key, item) for key, items in found.items() for item in items]
        page = paginate(everything, params, "Entities")
        entities = page.pop("Entities")
        result = {key: [item for k, item in entities if k == key] for key in found}
        return {**result, **page}

    # -- inline policies --------------------------------------------------------------------

    def _put_inline(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        account = ctx.account_id
        name = self._changeable_name(ctx, kind, params)
        policy_name, text = params["PolicyName"], params["PolicyDocument"]
        check_pattern("PolicyName", policy_name, NAME_PATTERN)
        policy_document.validate_identity_policy(text)
        others = [r["document"] for r in self.iam.inline_policies(account, kind, name)
                  if r["name"].lower() != policy_name.lower()]
        policy_document.check_inline_size("".join([*others, text]), kind, name)
        with self.iam.transaction() as conn:
            conn.execute("INSERT INTO iam_inline_policies (account, entity_type, entity_name, name, "
                         "document) VALUES (?, ?, ?, ?, ?) ON CONFLICT (account, entity_type, "
                         "entity_name, name) DO UPDATE SET document=excluded.document",
                         (account, kind, name, policy_name, text))
        return {}

    def _inline(self, ctx: RequestContext, kind: str, params: dict):
        name = self._entity_name(ctx, kind, params)
        row = self.iam.inline_policy(ctx.account_id, kind, name, params["PolicyName"])
        if row is None:
            raise NoSuchEntity(f"The {kind} policy with name {params['PolicyName']} cannot be found.")
        return name, row

    def _get_inline(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        name, row = self._inline(ctx, kind, params)
        member = _ENTITY[kind][0]
        return {member: name, "PolicyName": row["name"],
                "PolicyDocument": encode_document(row["document"])}

    def _delete_inline(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        name, row = self._inline(ctx, kind, params)
        with self.iam.transaction() as conn:
            conn.execute("DELETE FROM iam_inline_policies WHERE account=? AND entity_type=? "
                         "AND entity_name=? AND name=?", (ctx.account_id, kind, name, row["name"]))
        return {}

    def _list_inline(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        name = self._entity_name(ctx, kind, params)
        names = [r["name"] for r in self.iam.inline_policies(ctx.account_id, kind, name)]
        return paginate(names, params, "PolicyNames")

    def put_user_policy(self, ctx, params):
        return self._put_inline(ctx, "user", params)

    def put_group_policy(self, ctx, params):
        return self._put_inline(ctx, "group", params)

    def put_role_policy(self, ctx, params):
        return self._put_inline(ctx, "role", params)

    def get_user_policy(self, ctx, params):
        return self._get_inline(ctx, "user", params)

    def get_group_policy(self, ctx, params):
        return self._get_inline(ctx, "group", params)

    def get_role_policy(self, ctx, params):
        return self._get_inline(ctx, "role", params)

    def delete_user_policy(self, ctx, params):
        return self._delete_inline(ctx, "user", params)

    def delete_group_policy(self, ctx, params):
        return self._delete_inline(ctx, "group", params)

    def delete_role_policy(self, ctx, params):
        return self._delete_inline(ctx, "role", params)

    def list_user_policies(self, ctx, params):
        return self._list_inline(ctx, "user", params)

    def list_group_policies(self, ctx, params):
        return self._list_inline(ctx, "group", params)

    def list_role_policies(self, ctx, params):
        return self._list_inline(ctx, "role", params)

    # -- permissions boundaries -------------------------------------------------------------

    def _put_boundary(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        account = ctx.account_id
        name = self._entity_name(ctx, kind, params)
        arn = self._managed(account, params["PermissionsBoundary"])["arn"]
        with self.iam.transaction() as conn:
            conn.execute(f"UPDATE iam_{kind}s SET boundary=? WHERE account=? AND name=?",
                         (arn, account, name))
        return {}

    def _delete_boundary(self, ctx: RequestContext, kind: str, params: dict) -> dict:
        account = ctx.account_id
        name = self._entity_name(ctx, kind, params)
        with self.iam.transaction() as conn:
            conn.execute(f"UPDATE iam_{kind}s SET boundary=NULL WHERE account=? AND name=?",
                         (account, name))
        return {}

    def put_user_permissions_boundary(self, ctx, params):
        return self._put_boundary(ctx, "user", params)

    def put_role_permissions_boundary(self, ctx, params):
        return self._put_boundary(ctx, "role", params)

    def delete_user_permissions_boundary(self, ctx, params):
        return self._delete_boundary(ctx, "user", params)

    def delete_role_permissions_boundary(self, ctx, params):
        return self._delete_boundary(ctx, "role", params)

    # -- the account as a whole -------------------------------------------------------------

    def get_account_summary(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        count = self.iam.count
        policies = self.iam.policies(account)
        versions = count("iam_policy_versions", account)
        summary = {
            "Users": count("iam_users", account), "UsersQuota": 5000,
            "Groups": count("iam_groups", account), "GroupsQuota": 300,
            "Roles": count("iam_roles", account), "RolesQuota": 1000,
            "InstanceProfiles": count("iam_instance_profiles", account),
            "InstanceProfilesQuota": 1000,
            "Policies": len(policies), "PoliciesQuota": 1500,
            "PolicyVersionsInUse": versions, "PolicyVersionsInUseQuota": 10000,
            "VersionsPerPolicyQuota": MAX_VERSIONS,
            "PolicySizeQuota": policy_document.MANAGED_LIMIT,
            "UserPolicySizeQuota": policy_document.INLINE_LIMITS["user"],
            "GroupPolicySizeQuota": policy_document.INLINE_LIMITS["group"],
            "RolePolicySizeQuota": policy_document.INLINE_LIMITS["role"],
            "AssumeRolePolicySizeQuota": policy_document.TRUST_LIMIT,
            "AccessKeysPerUserQuota": KEYS_PER_USER, "GroupsPerUserQuota": GROUPS_PER_USER,
            "AttachedPoliciesPerUserQuota": MANAGED_POLICIES_PER_ENTITY,
            "AttachedPoliciesPerGroupQuota": MANAGED_POLICIES_PER_ENTITY,
            "AttachedPoliciesPerRoleQuota": MANAGED_POLICIES_PER_ENTITY,
            "ServerCertificates": 0, "ServerCertificatesQuota": 20,
            "SigningCertificatesPerUserQuota": 2, "MFADevices": 0, "MFADevicesInUse": 0,
            "AccountMFAEnabled": 0, "AccountAccessKeysPresent": 0,
            "AccountPasswordPresent": 0, "AccountSigningCertificatesPresent": 0,
            "GlobalEndpointTokenVersion": 1,
        }
        return {"SummaryMap": summary}

    def _attached_shapes(self, account: str, kind: str, name: str) -> list[dict]:
        found = []
        for arn in self.iam.attached(account, kind, name):
            try:
                found.append({"PolicyName": self._managed(account, arn)["name"], "PolicyArn": arn})
            except NoSuchEntity:
                continue
        return found

    def _inline_shapes(self, account: str, kind: str, name: str) -> list[dict]:
        return [{"PolicyName": r["name"], "PolicyDocument": encode_document(r["document"])}
                for r in self.iam.inline_policies(account, kind, name)]

    def get_account_authorization_details(self, ctx: RequestContext, params: dict) -> dict:
        account = ctx.account_id
        wanted = set(params.get("Filter") or
                     ["User", "Role", "Group", "LocalManagedPolicy", "AWSManagedPolicy"])
        items: list[tuple[str, dict]] = []
        if "User" in wanted:
            for row in self.iam.entities("user", account):
                shape = self._user_shape(row, full=True)
                shape["UserPolicyList"] = self._inline_shapes(account, "user", row["name"])
                shape["GroupList"] = self.iam.group_names_of(account, row["name"])
                shape["AttachedManagedPolicies"] = self._attached_shapes(account, "user", row["name"])
                items.append(("UserDetailList", shape))
        if "Group" in wanted:
            for row in self.iam.entities("group", account):
                shape = self._group_shape(row)
                shape["GroupPolicyList"] = self._inline_shapes(account, "group", row["name"])
                shape["AttachedManagedPolicies"] = self._attached_shapes(account, "group", row["name"])
                items.append(("GroupDetailList", shape))
        if "Role" in wanted:
            for row in self.iam.entities("role", account):
                shape = self._role_shape(row, full=True)
                shape.pop("Description", None)
                shape.pop("MaxSessionDuration", None)
                shape["InstanceProfileList"] = [self.profile_shape(p) for p in
                                                self.iam.profiles_of_role(account, row["name"])]
                shape["RolePolicyList"] = self._inline_shapes(account, "role", row["name"])
                shape["AttachedManagedPolicies"] = self._attached_shapes(account, "role", row["name"])
                items.append(("RoleDetailList", shape))
        counts = self.iam.attachment_counts(account)
        boundaries = self.iam.boundary_counts(account)
        policies = []
        if "AWSManagedPolicy" in wanted:  # AWS's own policies appear once the account uses them
            used = sorted(set(counts) | set(boundaries))
            policies += [self._managed(account, arn) for arn in used
                         if arn.startswith("arn:aws:iam::aws:policy/") and managed.get(arn)]
        if "LocalManagedPolicy" in wanted:
            policies += [{"aws": False, **dict(r)} for r in self.iam.policies(account)]
        for policy in policies:
            shape = self._policy_shape(account, policy, counts, boundaries, full=True)
            shape.pop("Tags", None)
            shape["PolicyVersionList"] = [self._version_shape(policy, v)
                                          for v in self._versions(account, policy)]
            items.append(("Policies", shape))
        page = paginate(items, params, "Items")
        chosen = page.pop("Items")
        lists = ("UserDetailList", "GroupDetailList", "RoleDetailList", "Policies")
        return {**{key: [item for k, item in chosen if k == key] for key in lists}, **page}
