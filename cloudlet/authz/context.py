"""The request context: AWS's global condition keys, as the policy engine reads them.

    request_context(caller, principal_tags, ctx, params, auth_method) -> {lower-cased key: value}

Values are strings or lists of strings; keys are lower-cased (condition key names are
case-insensitive; tag keys keep their case after the slash in AWS, and the engine compares
lower-cased names, so `aws:principaltag/Team` is stored as `aws:principaltag/team`).
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime
from urllib.parse import parse_qsl

from cloudlet import clock
from cloudlet.principals import Credential

PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                   "federated-user": "FederatedUser"}


def principal_arn(caller: Credential) -> str:
    """aws:PrincipalArn: a role session's is its role's ARN."""
    if caller.kind == "assumed-role" and caller.session.get("role_arn"):
        return caller.session["role_arn"]
    return caller.arn


def principal_keys(caller: Credential) -> dict[str, object]:
    """The caller's keys the engine does not derive from its Principal (which gives
    aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType, aws:userid, aws:username and
    aws:PrincipalTag/*)."""
    keys: dict[str, object] = {"aws:multifactorauthpresent": "false"}
    if caller.kind == "assumed-role":
        session = caller.session
        if session.get("source_identity"):
            keys["aws:sourceidentity"] = session["source_identity"]
        if session.get("session_name"):
            keys["sts:rolesessionname"] = session["session_name"]
    return keys


def request_keys(region: str, secure: bool, source_ip: str, auth_method: str | None,
                 service: str) -> dict[str, object]:
    current, epoch = _times(int(clock.timestamp()))
    keys: dict[str, object] = {
        "aws:currenttime": current,
        "aws:epochtime": epoch,
        "aws:securetransport": "true" if secure else "false",
        "aws:sourceip": source_ip,
        "aws:requestedregion": region,
    }
    if service == "s3" and auth_method:
        keys["s3:signatureversion"] = "AWS" if auth_method.startswith("sigv2") \
            else "AWS4-HMAC-SHA256"
        keys["s3:authtype"] = {"sigv4-query": "REST-QUERY-STRING", "sigv2-query": "REST-QUERY-STRING",
                               "post-policy": "POST"}.get(auth_method, "REST-HEADER")
    return keys


@functools.lru_cache(maxsize=4)
def _times(epoch: int) -> tuple[str, str]:
    moment = datetime.fromtimestamp(epoch, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ"), str(epoch)


def request_tags(params: dict) -> dict[str, str]:
    """The tags a request asks to set: Tags as a list of {Key, Value} or a map, EC2's
    TagSpecifications, S3's `Tagging` (a query string or a TagSet)."""
    tags: dict[str, str] = {}
    for member in ("Tags", "tags", "TagList"):
        tags.update(_tag_pairs(params.get(member)))
    for spec in params.get("TagSpecifications") or []:
        if isinstance(spec, dict):
            tags.update(_tag_pairs(spec.get("Tags")))
    tagging = params.get("Tagging")
    if isinstance(tagging, str):
        tags.update(parse_qsl(tagging, keep_blank_values=True))
    elif isinstance(tagging, dict):
        tags.update(_tag_pairs(tagging.get("TagSet")))
    return tags


def _tag_pairs(value) -> dict[str, str]:
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(value, list):
        return {str(t.get("Key")): str(t.get("Value", "")) for t in value
                if isinstance(t, dict) and t.get("Key") is not None}
    return {}


def tag_keys(params: dict) -> dict[str, object]:
    """aws:RequestTag/* and aws:TagKeys (the keys set, or, for an untag, the keys removed)."""
    tags = request_tags(params)
    keys: dict[str, object] = {f"aws:requesttag/{k.lower()}": v for k, v in tags.items()}
    removed = params.get("TagKeys") or params.get("tagKeys")
    if tags:
        keys["aws:tagkeys"] = list(tags)
    elif isinstance(removed, list) and removed:
        keys["aws:tagkeys"] = [str(k) for k in removed]
    return keys


def resource_tag_keys(tags: dict[str, str]) -> dict[str, object]:
    return {f"aws:resourcetag/{k.lower()}": v for k, v in tags.items()}
