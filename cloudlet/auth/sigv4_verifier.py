"""Requests signed with SigV4: in the Authorization header (`header`) or in the query, as
a presigned URL (`query`). Both verifiers have the signature `schemes.VERIFIERS` expects.

Each checks, in AWS's order: the form of the claim, the scope's date against the request's,
the clock (or a presigned URL's expiry), the key and its session token, then the signature
(`sigv4.compute`: canonical request, string to sign, signature). A header-signed S3
request's payload is the signed hash, `UNSIGNED-PAYLOAD`, or aws-chunked (`streaming`),
whose chunk signatures chain from the request's. Every other service signs the body itself,
as AWS's do: the canonical request carries the body's SHA-256 whatever
`x-amz-content-sha256` claims, so a request signed as `UNSIGNED-PAYLOAD` (or with another
body's hash) gets the service's signature mismatch, and a captured signature cannot carry
another body.
"""

from __future__ import annotations

import email.utils
import hashlib
from datetime import datetime, timedelta

from cloudlet.auth import checks, sigv4, streaming
from cloudlet.auth.authenticated import Authenticated
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.auth.errors import auth_error, family, s3_error
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest

_STREAMING = (
    sigv4.STREAMING_PAYLOAD, sigv4.STREAMING_PAYLOAD_TRAILER, sigv4.STREAMING_UNSIGNED_TRAILER,
)


def header(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime,
    defer_body: bool = False,
) -> Authenticated:
    s3 = service == "s3"
    authorization = request.headers.get("authorization")
    timestamp = _timestamp(request, service)
    try:
        parts = sigv4.parse_authorization(authorization, timestamp)
        request_time = sigv4.parse_timestamp(timestamp)
    except sigv4.Malformed as e:
        raise checks.malformed(service, e) from None
    _check_scope_date(service, parts, query=False)
    checks.check_skew(service, request_time, now, timestamp)
    token = request.headers.get("x-amz-security-token")
    credential = checks.lookup_credential(store, service, parts.access_key, token, now,
                                          request.origin)

    content_sha = request.headers.get("x-amz-content-sha256") if s3 else None
    body = request.body
    if content_sha is None:  # outside S3 the header is a header: the body is always hashed
        payload_hash = hashlib.sha256(body).hexdigest() if body else sigv4.EMPTY_SHA256
    else:
        payload_hash = content_sha = content_sha.strip()
        if not (content_sha in _STREAMING or content_sha == sigv4.UNSIGNED_PAYLOAD
                or sigv4.is_sha256_hex(content_sha)):
            raise _bad_content_sha()

    attempt = _verify(request, service, parts, payload_hash, credential.secret_access_key, False)
    trailers: dict[str, str] = {}
    if content_sha in _STREAMING:
        decoder = _chunked_decoder(request, parts, credential, content_sha, attempt)
        if defer_body:
            return Authenticated(credential, parts.region, parts.service, "sigv4-header", b"",
                                 decoder=decoder)
        body = decoder.feed(body)
        trailers = decoder.finish()
    elif defer_body:
        signed = content_sha if content_sha not in (None, sigv4.UNSIGNED_PAYLOAD) else None
        return Authenticated(credential, parts.region, parts.service, "sigv4-header", b"",
                             payload_sha256=signed)
    elif content_sha is not None and content_sha != sigv4.UNSIGNED_PAYLOAD:
        computed = hashlib.sha256(body).hexdigest()
        if computed != content_sha.lower():
            raise s3_error(
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed.",
                fields={"ClientComputedContentSHA256": content_sha,
                        "S3ComputedContentSHA256": computed},
            )
    if s3:
        checks.verify_body_checksums(request, body)
    return Authenticated(
        credential, parts.region, parts.service, "sigv4-header", body, trailers
    )


def query(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime,
    defer_body: bool = False,
) -> Authenticated:
    s3 = service == "s3"
    params = checks.query_params(request)
    try:
        parts = sigv4.parse_presigned(params)
        request_time = sigv4.parse_timestamp(parts.timestamp)
    except sigv4.Malformed as e:
        raise checks.malformed(service, e, query=True) from None
    _check_scope_date(service, parts, query=True)
    if parts.expires is None:
        if s3:
            raise checks.malformed(service, sigv4.Malformed(
                "X-Amz-Expires must be provided for query-string authentication."), query=True)
        checks.check_skew(service, request_time, now, parts.timestamp)
    else:
        _check_expiry(service, request_time, parts, now)
    token = params.get("X-Amz-Security-Token") or request.headers.get("x-amz-security-token")
    credential = checks.lookup_credential(store, service, parts.access_key, token, now,
                                          request.origin)
    if s3:
        payload_hash = params.get("X-Amz-Content-Sha256") or sigv4.UNSIGNED_PAYLOAD
    else:
        payload_hash = hashlib.sha256(request.body).hexdigest()
    _verify(request, service, parts, payload_hash, credential.secret_access_key, True)
    if s3 and not defer_body:
        checks.verify_body_checksums(request, request.body)
    return Authenticated(credential, parts.region, parts.service, "sigv4-query", request.body)


def _timestamp(request: HttpRequest, service: str) -> str:
    amz_date = request.headers.get("x-amz-date")
    if amz_date:
        return amz_date.strip()
    date = request.headers.get("date")
    if date:
        try:
            return checks.basic(email.utils.parsedate_to_datetime(date))
        except (TypeError, ValueError):
            pass
    raise checks.malformed(service, ValueError("Authorization requires a valid X-Amz-Date or Date header."))


def _check_scope_date(service: str, parts: sigv4.SigV4Parts, query: bool) -> None:
    if parts.date == parts.timestamp[:8]:
        return
    if family(service) == "s3":
        kind = "malformed_query" if query else "malformed"
        prefix = "" if query else "The authorization header is malformed; "
        raise auth_error(
            service, kind, f"{prefix}Invalid credential date. Date is not the same as X-Amz-Date."
        )
    raise auth_error(service, "mismatch", checks.worded(
        service,
        f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        f"from HTTP: '{parts.date}' != '{parts.timestamp[:8]}', from '{parts.timestamp}'.",
    ))


def _check_expiry(service: str, request_time: datetime, parts: sigv4.SigV4Parts, now: datetime) -> None:
    if request_time - now > checks.MAX_SKEW:
        raise auth_error(service, "not_yet_valid", checks.worded(
            service, f"Signature not yet current: {parts.timestamp} is still later than "
                     f"{checks.basic(now + checks.MAX_SKEW)} ({checks.basic(now)} + 15 min.)"))
    expiry = request_time + timedelta(seconds=parts.expires)
    if now > expiry:
        raise auth_error(
            service, "expired",
            checks.worded(service, f"Signature expired: {checks.basic(expiry)} is now earlier than {checks.basic(now)}"),
            fields={"X-Amz-Expires": str(parts.expires), "Expires": checks.iso(expiry),
                    "ServerTime": checks.iso(now)},
        )


def _bad_content_sha() -> ServiceError:
    return s3_error(
        "InvalidArgument",
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER "
        "or a valid sha256 value.",
        fields={"ArgumentName": "x-amz-content-sha256"},
    )


def _verify(
    request: HttpRequest, service: str, parts: sigv4.SigV4Parts, payload_hash: str,
    secret: str, presigned: bool,
) -> sigv4.Attempt:
    s3 = service == "s3"
    paths = [request.path, *sigv4.s3_path_variants(request.path)] if s3 else [request.path]
    first = None
    for path in paths:
        attempt = sigv4.compute(
            request.method, path, request.query, request.headers.raw, parts, payload_hash,
            secret, s3=s3, presigned=presigned,
        )
        if sigv4.matches(attempt.signature, parts.signature):
            return attempt
        first = first or attempt
    raise checks.mismatch(
        service, parts.access_key, parts.signature, first.string_to_sign, first.canonical_request
    )


def _chunked_decoder(
    request: HttpRequest, parts: sigv4.SigV4Parts, credential: Credential,
    content_sha: str, attempt: sigv4.Attempt,
) -> streaming.AwsChunkedDecoder:
    signer = None
    if content_sha != sigv4.STREAMING_UNSIGNED_TRAILER:
        key = sigv4.signing_key(credential.secret_access_key, parts.date, parts.region, parts.service)
        signer = streaming.ChunkSigner(key, parts.timestamp, parts.scope, attempt.signature)
    decoded_length = request.headers.get("x-amz-decoded-content-length")
    try:
        length = int(decoded_length) if decoded_length is not None else None
    except ValueError:
        raise s3_error(
            "InvalidArgument", "x-amz-decoded-content-length is not a number."
        ) from None
    trailer = request.headers.get("x-amz-trailer") or ""
    return streaming.AwsChunkedDecoder(
        signer=signer, decoded_length=length, trailer_names=trailer.split(","),
    )
