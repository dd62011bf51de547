"""Requests signed with S3's SigV2: in the Authorization header (`AWS AKID:signature`,
`header`) or in the query, as a presigned URL (`query`). Both verifiers have the signature
`schemes.VERIFIERS` expects; the service is always S3.

The signature may cover a virtual-hosted request's bucket-qualified resource or the path
as sent (with or without the trailing slash AWS gives a bare bucket): each is tried.
"""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

from cloudlet.auth import checks, sigv2
from cloudlet.auth.authenticated import Authenticated
from cloudlet.auth.credentials import CredentialStore
from cloudlet.auth.errors import auth_error, s3_error
from cloudlet.protocols.base import HttpRequest


def header(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime,
    defer_body: bool = False,
) -> Authenticated:
    parsed = sigv2.parse_authorization(request.headers.get("authorization"))
    if parsed is None:
        raise auth_error("s3", "unsupported")
    access_key, provided = parsed
    amz_date = request.headers.get("x-amz-date")
    date = request.headers.get("date")
    shown = amz_date or date
    try:
        request_time = email.utils.parsedate_to_datetime(shown).astimezone(UTC)
    except (TypeError, ValueError):
        raise s3_error(
            "AccessDenied", "AWS authentication requires a valid Date or x-amz-date header",
            status=403,
        ) from None
    checks.check_skew("s3", request_time, now, shown)
    credential = checks.lookup_credential(
        store, "s3", access_key, request.headers.get("x-amz-security-token"), now,
        request.origin,
    )
    dates = ["", date or ""] if amz_date else [date or ""]
    _verify(
        request, access_key, provided, credential.secret_access_key, dates,
        sigv2.amz_headers(request.headers.raw),
        request.headers.get("content-md5") or "", request.headers.get("content-type") or "",
    )
    if not defer_body:
        checks.verify_body_checksums(request, request.body)
    return Authenticated(credential, None, "s3", "sigv2-header", request.body)


def query(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime,
    defer_body: bool = False,
) -> Authenticated:
    params = checks.query_params(request)
    access_key, provided = params.get("AWSAccessKeyId"), params.get("Signature")
    expires_text = params.get("Expires")
    if not access_key or provided is None or expires_text is None:
        raise auth_error("s3", "malformed_query")
    try:
        expires = datetime.fromtimestamp(int(expires_text), UTC)
    except (ValueError, OverflowError, OSError):
        raise auth_error("s3", "malformed_query", "Invalid date (should be seconds since epoch): "
                         + expires_text) from None
    if now > expires:
        raise auth_error("s3", "expired", fields={
            "Expires": checks.iso(expires), "ServerTime": checks.iso(now),
        })
    token = params.get("x-amz-security-token") or request.headers.get("x-amz-security-token")
    credential = checks.lookup_credential(store, "s3", access_key, token, now, request.origin)
    _verify(
        request, access_key, provided, credential.secret_access_key, [expires_text],
        sigv2.amz_headers(request.headers.raw, params),
        request.headers.get("content-md5") or params.get("content-md5") or "",
        request.headers.get("content-type") or params.get("content-type") or "",
    )
    if not defer_body:
        checks.verify_body_checksums(request, request.body)
    return Authenticated(credential, None, "s3", "sigv2-query", request.body)


def _host_bucket(host: str) -> str | None:
    """The bucket of a virtual-hosted-style Host (`bucket.s3.example.com`), if any."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    for marker in (".s3.", ".s3-"):
        index = name.find(marker)
        if index > 0:
            return name[:index]
    return None


def _resources(request: HttpRequest) -> list[str]:
    """The canonicalized resources a client may have signed: bucket-qualified for a
    virtual-hosted request, and with the trailing slash AWS gives a bare bucket."""
    paths = [request.path]
    if request.path.count("/") == 1 and len(request.path) > 1:
        paths.append(request.path + "/")
    resources = [sigv2.canonical_resource(path, request.query) for path in paths]
    bucket = _host_bucket(request.host)
    if bucket:
        resources.insert(0, sigv2.canonical_resource(request.path, request.query, bucket))
    return resources


def _verify(
    request: HttpRequest, access_key: str, provided: str, secret: str,
    dates: list[str], amz: dict[str, list[str]], content_md5: str, content_type: str,
) -> None:
    first = None
    for date in dates:
        for resource in _resources(request):
            sts = sigv2.string_to_sign(
                request.method, content_md5, content_type, date, amz, resource
            )
            first = first or sts
            if sigv2.matches(sigv2.signature(secret, sts), provided):
                return
    raise checks.mismatch("s3", access_key, provided, first or "", None)
