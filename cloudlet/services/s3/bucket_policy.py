"""Bucket policies: Get/Put/Delete/GetBucketPolicyStatus, what makes a policy public, and
judging a request against the policy.

`bucket_policy_allows(ctx, action, resource_arn, context)` answers "allowed",
"explicitDeny" or "implicitDeny" from the bucket's policy alone, taken as a resource
policy. The core's bucket lookup calls `policy_allows(ctx, record, action, key)` for
anonymous and cross-account requests: only the policy can let those in, and Block Public
Access's RestrictPublicBuckets shuts out everyone but AWS principals of the owner's
account while the policy is public.
"""

from __future__ import annotations

import json

from cloudlet.errors import ServiceError
from cloudlet.policy import document
from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal
from cloudlet.policy.evaluate import evaluate as policy_evaluate
from cloudlet.policy.matching import match_arn
from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors

MAX_POLICY_BYTES = 20 * 1024
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTHENTICATED_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
# What a bucket ACL's permission grants, in IAM actions (AWS's "ACL permission mapping").
ACL_ACTIONS = {
    "READ": ("s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"),
    "WRITE": ("s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"),
    "READ_ACP": ("s3:GetBucketAcl",),
    "WRITE_ACP": ("s3:PutBucketAcl",),
}

# Condition keys whose fixed values make a "*" principal non-public (AWS's "The meaning
# of public" in the Block Public Access guide).
RESTRICTING_KEYS = {
    "aws:sourcearn", "aws:sourcevpc", "aws:sourcevpce", "aws:sourceaccount", "aws:sourceowner",
    "aws:principalorgid", "aws:principalaccount", "aws:principalarn", "aws:userid",
    "aws:sourceorgid", "aws:sourceorgpaths", "aws:principalorgpaths",
    "s3:x-amz-server-side-encryption-aws-kms-key-id", "s3:datasetaccesspoint",
}


def check_policy(text: str, bucket: str) -> document.PolicyDocument:
    """Validate a bucket policy as AWS does: IAM's grammar, a principal in every
    statement, only s3 actions, and resources in this bucket."""
    if not text.strip().startswith("{"):
        raise errors.PolicyNotJson()
    if len(text.encode()) > MAX_POLICY_BYTES:
        raise errors.PolicyTooLarge()
    try:
        json.loads(text)
    except ValueError:
        raise errors.PolicyNotJson() from None
    try:
        doc = document.validate_resource_policy(text)
    except ServiceError as error:
        raise errors.MalformedPolicy(error.message) from None
    for st in doc.statements:
        for action in (st.actions or ()) + (st.not_actions or ()):
            if action != "*" and not action.lower().startswith("s3:"):
                raise errors.PolicyInvalidAction()
        for resource in (st.resources or ()) + (st.not_resources or ()):
            if not _in_bucket(resource, bucket):
                raise errors.PolicyInvalidResource()
        if st.resources is None and st.not_resources is None:
            raise errors.PolicyMissingResource()
    return doc


def _in_bucket(resource: str, bucket: str) -> bool:
    if resource == "*":
        return True
    prefix = "arn:aws:s3:::"
    if not resource.startswith(prefix):
        return False
    name = resource[len(prefix):].split("/", 1)[0]
    return match_arn(f"{prefix}{name}", f"{prefix}{bucket}")


def is_public(doc: document.PolicyDocument) -> bool:
    for st in doc.statements:
        if st.effect != "Allow":
            continue
        if st.not_principals is not None or _wildcard_principal(st.principals or {}):
            keys = {key.lower() for block in st.conditions.values() for key in block}
            if not keys & RESTRICTING_KEYS and not _fixed_source_ip(st.conditions):
                return True
    return False


def _wildcard_principal(principals: dict) -> bool:
    return "*" in principals or "*" in principals.get("AWS", ()) or \
        "*" in principals.get("CanonicalUser", ())


def _fixed_source_ip(conditions: dict) -> bool:
    for operator, block in conditions.items():
        for key, values in block.items():
            if key.lower() == "aws:sourceip" and "Not" not in operator and all(
                    not v.endswith("/0") for v in values):
                return True
    return False


def principal_of(ctx: RequestContext) -> Principal:
    caller = ctx.caller
    if caller is None:
        return Principal(arn="*", account="", type="Anonymous")
    kind = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
            "federated-user": "FederatedUser"}.get(caller.kind, "User")
    return Principal(arn=caller.arn, account=caller.account_id, type=kind,
                     user_id=caller.user_id or "", username=caller.name or "",
                     is_root=caller.is_root, role_arn=caller.session.get("role_arn", ""))


ALLOW_ALL = Policy("identity-aside", '{"Version": "2012-10-17", "Statement": '
                   '[{"Effect": "Allow", "Action": "*", "Resource": "*"}]}')


def evaluate(doc: document.PolicyDocument, principal: Principal, owner: str, action: str,
             resource_arn: str, context: dict) -> str:
    """The policy's verdict as the resource policy of a bucket owned by `owner`, the
    caller's identity-based policies aside (taken as allowing): an explicit deny wins; an
    anonymous or cross-account caller needs a statement that allows it."""
    request = AuthzRequest(principal, action, resource_arn, context, resource_account=owner)
    identity = [] if principal.type == "Anonymous" else [ALLOW_ALL]
    return policy_evaluate(request, identity, Policy("bucket-policy", doc, "resource")).decision


def request_context(ctx: RequestContext, resource_arn: str) -> dict:
    """The global condition keys a bucket policy may test."""
    caller = ctx.caller
    context = {
        "aws:securetransport": "true" if ctx.secure_transport else "false",
        "aws:sourceip": ctx.source_ip,
        "aws:currenttime": _now_iso(),
        "aws:principaltype": "Anonymous" if caller is None else (
            "Account" if caller.is_root else "User" if caller.kind == "user" else "AssumedRole"),
    }
    if caller is not None:
        context.update({"aws:principalarn": caller.arn, "aws:principalaccount": caller.account_id,
                        "aws:userid": caller.user_id or caller.account_id,
                        "aws:username": caller.name or ""})
    return context


def _now_iso() -> str:
    from cloudlet import clock

    return clock.now().strftime("%Y-%m-%dT%H:%M:%SZ")


class BucketPolicyOperations:
    def get_bucket_policy(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:GetBucketPolicy")
        text = self.config.get(record["name"], "policy")
        if text is None:
            raise errors.NoSuchBucketPolicy(record["name"])
        return {"Policy": text}

    def put_bucket_policy(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:PutBucketPolicy")
        text = params.get("Policy") or ""
        doc = check_policy(text, record["name"])
        if is_public(doc) and self.public_access_block(record["name"])["BlockPublicPolicy"]:
            raise errors.AccessDenied()
        self.config.put(record["name"], "policy", text)
        return {}

    def delete_bucket_policy(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:DeleteBucketPolicy")
        self.config.delete(record["name"], "policy")
        return {}

    def get_bucket_policy_status(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:GetBucketPolicyStatus")
        text = self.config.get(record["name"], "policy")
        if text is None:
            raise errors.NoSuchBucketPolicy(record["name"])
        return {"PolicyStatus": {"IsPublic": is_public(document.parse(text))}}

    # -- judging requests ---------------------------------------------------------------
    def bucket_policy_allows(self, ctx: RequestContext, action: str, resource_arn: str,
                             context: dict | None = None) -> str:
        """"allowed" | "explicitDeny" | "implicitDeny" by the policy of the bucket that
        `resource_arn` names (arn:aws:s3:::bucket[/key])."""
        bucket = resource_arn.removeprefix("arn:aws:s3:::").split("/", 1)[0]
        text = self.config.get(bucket, "policy")
        if text is None:
            return "implicitDeny"
        doc = document.parse(text)
        record = self.storage.get_bucket(bucket)
        caller = ctx.caller
        outsider = caller is None or (record is not None and caller.account_id != record["account"])
        if outsider and is_public(doc) and record is not None and self.public_access_block(
                bucket)["RestrictPublicBuckets"]:
            # Only AWS service principals and the owner's account may use a public policy.
            return "implicitDeny"
        full_context = {**request_context(ctx, resource_arn), **(context or {})}
        owner = record["account"] if record is not None else ""
        return evaluate(doc, principal_of(ctx), owner, action, resource_arn, full_context)

    def policy_allows(self, ctx: RequestContext, record: dict, action: str,
                      key: str | None = None) -> bool:
        """The core's hook for anonymous and cross-account requests."""
        if not action:
            return False
        arn = f"arn:aws:s3:::{record['name']}" + (f"/{key}" if key is not None else "")
        verdict = self.bucket_policy_allows(ctx, action, arn)
        if verdict == "implicitDeny" and key is None:
            return self.bucket_acl_allows(ctx, record, action)
        return verdict == "allowed"

    def bucket_acl_allows(self, ctx: RequestContext, record: dict, action: str) -> bool:
        """A bucket ACL's grant to everyone (AllUsers) or to any AWS account
        (AuthenticatedUsers), where ACLs are enabled and Block Public Access does not
        ignore them."""
        if self.ownership(record["name"]) == "BucketOwnerEnforced":
            return False
        if self.public_access_block(record["name"])["IgnorePublicAcls"]:
            return False
        groups = {ALL_USERS} if ctx.caller is None else {ALL_USERS, AUTHENTICATED_USERS}
        for grant in self._acl_grants(record):
            if grant["Grantee"].get("URI") not in groups:
                continue
            if grant["Permission"] == "FULL_CONTROL" or action in ACL_ACTIONS.get(
                    grant["Permission"], ()):
                return True
        return False
