"""The checks every signature scheme shares: the clock, the key, the words of a mismatch.

    lookup_credential(store, service, key, token, now, origin)
                                                        the key's owner, its session token
                                                        matched and not expired; from the
                                                        cloud, never a default root key
    check_skew(service, request_time, now, shown)       at most 15 minutes off the server
    mismatch(service, key, provided, sts, creq)         "The request signature we
                                                        calculated does not match ..."
    verify_body_checksums(request, body)                S3's Content-MD5, x-amz-checksum-*
    query_params(request)                               the query as signatures read it

Failures are the `ServiceError` the target service would answer (`errors.auth_error`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cloudlet import clock
from cloudlet.auth import checksums, sigv2, sigv4
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.auth.errors import auth_error, family, hex_bytes
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest

MAX_SKEW = timedelta(minutes=15)


def query_params(request: HttpRequest) -> dict[str, str]:
    """The request's query parameters as signatures read them, parsed once per request."""
    params = request.memo.get("auth.query")
    if params is None:
        params = request.memo["auth.query"] = sigv2.query_params(request.query)
    return params


def malformed(service: str, error: Exception, query: bool = False) -> ServiceError:
    kind = "malformed_query" if query and family(service) == "s3" else "malformed"
    message = str(error)
    if family(service) == "s3" and not query:
        message = f"The authorization header is malformed; {message}"
    return auth_error(service, kind, message if family(service) in ("s3", "query", "json") else None)


def basic(when: datetime) -> str:
    return sigv4.format_timestamp(when)


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def check_skew(service: str, request_time: datetime, now: datetime, shown: str) -> None:
    if abs(request_time - now) <= MAX_SKEW:
        return
    if family(service) == "s3":
        raise auth_error(service, "skewed", fields={
            "RequestTime": shown, "ServerTime": iso(now), "MaxAllowedSkewMilliseconds": "900000",
        })
    if request_time < now:
        message = (f"Signature expired: {basic(request_time)} is now earlier than "
                   f"{basic(now - MAX_SKEW)} ({basic(now)} - 15 min.)")
        raise auth_error(service, "skewed", worded(service, message))
    message = (f"Signature not yet current: {basic(request_time)} is still later than "
               f"{basic(now + MAX_SKEW)} ({basic(now)} + 15 min.)")
    raise auth_error(service, "not_yet_valid", worded(service, message))


def worded(service: str, message: str) -> str | None:
    """Query and JSON services explain time failures; S3 and EC2 keep their fixed words."""
    return message if family(service) in ("query", "json") else None


def lookup_credential(
    store: CredentialStore, service: str, access_key: str, token: str | None, now: datetime,
    origin: str = "host",
) -> Credential:
    credential = store.lookup(access_key, origin)
    if credential is None:
        raise auth_error(service, "unknown_key", fields={"AWSAccessKeyId": access_key})
    if credential.session_token is not None and token != credential.session_token:
        raise auth_error(service, "invalid_token", fields={"Token-0": token or ""})
    # Sessions age on the service clock (tests move it forward); signatures on `now`.
    if credential.expiration is not None and credential.expiration <= max(now, clock.now()):
        raise auth_error(service, "expired_token", fields={"Token-0": token or ""})
    return credential


def mismatch(service: str, access_key: str, provided: str, sts: str, creq: str | None) -> ServiceError:
    fields = {
        "AWSAccessKeyId": access_key,
        "StringToSign": sts,
        "SignatureProvided": provided,
        "StringToSignBytes": hex_bytes(sts),
    }
    if creq is not None:
        fields["CanonicalRequest"] = creq
        fields["CanonicalRequestBytes"] = hex_bytes(creq)
    return auth_error(service, "mismatch", fields=fields)


def verify_body_checksums(request: HttpRequest, body: bytes) -> None:
    """S3 checks `x-amz-checksum-*` and Content-MD5 headers against the payload, except
    where the header describes another object (CompleteMultipartUpload, copies)."""
    if request.method == "POST" and "uploadId=" in request.query:
        return
    if "x-amz-copy-source" in request.headers:
        return
    checksums.verify_headers(request.headers, body)
