"""Browser-based uploads: S3 POST with a signed policy in a multipart/form-data body.

`parse_form` splits the body into its fields and the file. The policy (a base64 JSON
document) is signed either with SigV2 (`AWSAccessKeyId`, `signature`: HMAC-SHA1 of the
base64 policy) or SigV4 (`x-amz-algorithm`, `x-amz-credential`, `x-amz-date`,
`x-amz-signature`: HMAC-SHA256 of the base64 policy with the scope's signing key).
`verify`, the post-policy scheme's verifier (`schemes.VERIFIERS`), checks that signature;
`check_post_policy` evaluates the policy's expiration and conditions against the form, and
`verify` calls it once the signature holds. The form itself is parsed in
`cloudlet.protocols.postform`.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from urllib.parse import unquote

from cloudlet import clock
from cloudlet.auth import checks, sigv2, sigv4
from cloudlet.auth.authenticated import Authenticated
from cloudlet.auth.credentials import CredentialStore
from cloudlet.auth.errors import s3_error
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.hosts import bucket_from_host
from cloudlet.protocols.postform import PostForm, form_of, parse_form

__all__ = ["PostForm", "check_post_policy", "decode_policy", "form_of", "parse_form"]

# Form fields a policy need not mention.
EXEMPT = frozenset({"x-amz-signature", "file", "policy", "awsaccesskeyid", "signature"})


def invalid_policy(message: str) -> ServiceError:
    return ServiceError(f"Invalid according to Policy: {message}", code="AccessDenied", status=403)


def decode_policy(policy_b64: str) -> dict:
    try:
        document = json.loads(base64.b64decode(policy_b64, validate=True))
    except (binascii.Error, ValueError):
        raise ServiceError(
            "Invalid Policy: Invalid JSON.", code="InvalidPolicyDocument", status=400
        ) from None
    if not isinstance(document, dict):
        raise ServiceError("Invalid Policy: Invalid JSON.", code="InvalidPolicyDocument", status=400)
    return document


def _expiration(document: dict) -> datetime:
    text = document.get("expiration")
    if not isinstance(text, str):
        raise ServiceError(
            "Invalid Policy: Policy missing expiration.", code="InvalidPolicyDocument", status=400
        )
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise ServiceError(
            f"Invalid Policy: Invalid 'expiration' value: '{text}'",
            code="InvalidPolicyDocument", status=400,
        ) from None
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def _condition_text(condition) -> str:
    return json.dumps(condition, separators=(",", ":"))


def _starts_with(value: str, prefix: str, name: str) -> bool:
    if name == "content-type" and "," in value:
        return all(part.strip().startswith(prefix) for part in value.split(","))
    return value.startswith(prefix)


def _check_condition(condition, values: dict[str, str], content_length: int) -> str | None:
    """The field name the condition covers, or raise when it fails."""
    if isinstance(condition, dict):
        if len(condition) != 1:
            raise invalid_policy(f"Policy Condition failed: {_condition_text(condition)}")
        ((name, expected),) = condition.items()
        name = name.lower()
        if values.get(name) != expected:
            raise invalid_policy(f"Policy Condition failed: {_condition_text(['eq', '$' + name, expected])}")
        return name
    if not isinstance(condition, list) or not condition:
        raise ServiceError("Invalid Policy: Invalid Condition.", code="InvalidPolicyDocument", status=400)
    operator = str(condition[0]).lower()
    if operator == "content-length-range" and len(condition) == 3:
        low, high = int(condition[1]), int(condition[2])
        if content_length < low:
            raise ServiceError(
                "Your proposed upload is smaller than the minimum allowed size",
                code="EntityTooSmall", status=400,
                fields={"ProposedSize": content_length, "MinSizeAllowed": low},
            )
        if content_length > high:
            raise ServiceError(
                "Your proposed upload exceeds the maximum allowed size",
                code="EntityTooLarge", status=400,
                fields={"ProposedSize": content_length, "MaxSizeAllowed": high},
            )
        return None
    if operator in ("eq", "starts-with") and len(condition) == 3:
        target = str(condition[1])
        name = target[1:].lower() if target.startswith("$") else target.lower()
        expected = str(condition[2])
        value = values.get(name)
        ok = value is not None and (
            value == expected if operator == "eq" else _starts_with(value, expected, name)
        )
        if not ok:
            raise invalid_policy(f"Policy Condition failed: {_condition_text(condition)}")
        return name
    raise ServiceError("Invalid Policy: Invalid Condition.", code="InvalidPolicyDocument", status=400)


def _names_bucket(condition) -> bool:
    if isinstance(condition, dict):
        return [k.lower() for k in condition] == ["bucket"]
    return isinstance(condition, list) and len(condition) == 3 and str(condition[1]).lower() == "$bucket"


def check_post_policy(
    policy_json: dict | str | bytes,
    fields: dict[str, str],
    content_length: int,
    *,
    bucket: str | None = None,
    now: datetime | None = None,
) -> None:
    """Evaluate a POST policy against the form: expiration, every condition, and that
    every field (but the exempt ones and `x-ignore-*`) is covered by a condition.

    `policy_json` is the decoded document (or its JSON text); raises `ServiceError`."""
    document = json.loads(policy_json) if isinstance(policy_json, str | bytes) else policy_json
    now = now or datetime.now(UTC)
    if _expiration(document) < now:
        raise invalid_policy("Policy expired.")
    values = {name.lower(): value for name, value in fields.items()}
    if bucket is not None:
        values.setdefault("bucket", bucket)
    covered = {"bucket"}
    for condition in document.get("conditions") or []:
        if bucket is None and _names_bucket(condition):
            continue
        name = _check_condition(condition, values, content_length)
        if name:
            covered.add(name)
    extra = [
        name for name in fields
        if name.lower() not in covered and name.lower() not in EXEMPT
        and not name.lower().startswith("x-ignore-")
    ]
    if extra:
        raise invalid_policy(f"Extra input fields: {', '.join(extra)}")


# -- the post-policy verifier (S3 browser uploads) ---------------------------------------

def verify(request: HttpRequest, service: str, store: CredentialStore, now: datetime,
           defer_body: bool = False) -> Authenticated:
    """An S3 POST upload: its policy's signature (SigV2 or SigV4), then the policy itself.
    A form without a policy is an anonymous upload."""
    form = form_of(request)
    policy = form.get("policy")
    if policy is None:
        return Authenticated(None, None, None, "anonymous", request.body, post_form=form)
    token = form.get("x-amz-security-token")
    if form.get("x-amz-signature") is not None:
        result = _verify_v4(request, store, now, form, policy, token)
        _check_policy(request, form, policy)
        return result
    access_key, provided = form.get("AWSAccessKeyId"), form.get("signature")
    if not access_key or provided is None:
        raise s3_error(
            "InvalidArgument",
            "Bucket POST must contain a field named 'AWSAccessKeyId'.  If it is specified, "
            "please check the order of the fields.",
            fields={"ArgumentName": "AWSAccessKeyId"},
        )
    credential = checks.lookup_credential(store, "s3", access_key, token, now, request.origin)
    if not sigv2.matches(sigv2.signature(credential.secret_access_key, policy), provided):
        raise checks.mismatch("s3", access_key, provided, policy, None)
    _check_policy(request, form, policy)
    return Authenticated(credential, None, "s3", "post-policy", request.body, post_form=form)


def _check_policy(request: HttpRequest, form: PostForm, policy: str) -> None:
    """A signed policy's expiration (by the service clock) and conditions, against the
    form and the bucket the POST addresses."""
    bucket = bucket_from_host(request.host)
    if bucket is None:
        bucket = unquote(request.path.lstrip("/").split("/", 1)[0])
    check_post_policy(decode_policy(policy), form.fields, len(form.content),
                      bucket=bucket or None, now=clock.now())


def _verify_v4(
    request: HttpRequest, store: CredentialStore, now: datetime, form: PostForm,
    policy: str, token: str | None,
) -> Authenticated:
    if (form.get("x-amz-algorithm") or "") != sigv4.ALGORITHM:
        raise s3_error(
            "InvalidArgument", "Bucket POST must contain a field named 'x-amz-algorithm'.",
            fields={"ArgumentName": "x-amz-algorithm"},
        )
    try:
        access_key, date, region, signing_name = sigv4.split_credential(
            unquote(form.get("x-amz-credential") or "")
        )
    except sigv4.Malformed as e:
        raise s3_error("InvalidArgument", str(e), fields={"ArgumentName": "x-amz-credential"}) from None
    credential = checks.lookup_credential(store, "s3", access_key, token, now, request.origin)
    key = sigv4.signing_key(credential.secret_access_key, date, region, signing_name)
    provided = form.get("x-amz-signature") or ""
    if not sigv4.matches(sigv4.signature(key, policy), provided):
        raise checks.mismatch("s3", access_key, provided, policy, None)
    return Authenticated(credential, region, signing_name, "post-policy", request.body, post_form=form)
