"""Which scheme signed a request, and the one table from scheme to verifier.

    authenticate(request, service, store)       # -> Authenticated, or raises ServiceError
    scheme_of(request, service)                 # -> a key of VERIFIERS, or raises
    scope_of(request)                           # -> (access key, date, region, service)

`scheme_of` picks the scheme from the request, in this order:

    Authorization: AWS4-HMAC-SHA256 ...     sigv4-header   (every service)
    Authorization: AWS AKID:sig             sigv2-header   (S3)
    ?X-Amz-Algorithm=...&X-Amz-Signature=   sigv4-query    (presigned, every service)
    ?AWSAccessKeyId=...&Signature=...       sigv2-query    (presigned, S3)
    POST multipart/form-data with a policy  post-policy    (S3 browser uploads)
    nothing                                 anonymous      (S3; other services refuse)

and `VERIFIERS` maps each to the function that verifies it, as botocore's
`AUTH_TYPE_MAPS` maps auth types to signers. Every verifier takes
`(request, service, store, now, defer_body)` and returns an `Authenticated`.
"""

from __future__ import annotations

from datetime import UTC, datetime

from cloudlet.auth import checks, post_policy, sigv2, sigv2_verifier, sigv4, sigv4_verifier
from cloudlet.auth.authenticated import Authenticated, Verifier
from cloudlet.auth.credentials import CredentialStore
from cloudlet.auth.errors import auth_error, s3_error
from cloudlet.protocols.base import HttpRequest


def anonymous(request: HttpRequest, service: str, store: CredentialStore, now: datetime,
              defer_body: bool = False) -> Authenticated:
    """No signature at all: S3 judges the request by bucket policies and ACLs."""
    return Authenticated(None, None, None, "anonymous", request.body)


VERIFIERS: dict[str, Verifier] = {
    "sigv4-header": sigv4_verifier.header,
    "sigv4-query": sigv4_verifier.query,
    "sigv2-header": sigv2_verifier.header,
    "sigv2-query": sigv2_verifier.query,
    "post-policy": post_policy.verify,
    "anonymous": anonymous,
}


def authenticate(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime | None = None,
    *, defer_body: bool = False,
) -> Authenticated:
    """Verify `request` for `service`. With `defer_body`, an aws-chunked body is not read:
    the result carries a `decoder` to stream it through (S3 uploads to disk); a plain body
    is not read either, and its digests are left to the consumer (`payload_sha256`)."""
    now = now or datetime.now(UTC)
    return VERIFIERS[scheme_of(request, service)](request, service, store, now, defer_body)


def scheme_of(request: HttpRequest, service: str) -> str:
    """The scheme `request` claims (a key of `VERIFIERS`); refused when it claims two, or
    one the service does not take."""
    s3 = service == "s3"
    authorization = request.headers.get("authorization")
    query = request.query
    if authorization:
        if s3 and _has_query_auth(query):
            raise s3_error(
                "InvalidArgument",
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, "
                "Signature query string parameter or the Authorization header should be specified",
                fields={"ArgumentName": "Authorization", "ArgumentValue": authorization},
            )
        if authorization.startswith(sigv4.ALGORITHM + " "):
            return "sigv4-header"
        if s3 and authorization.startswith("AWS "):
            return "sigv2-header"
        raise auth_error(service, "unsupported")
    if query and ("X-Amz-Signature=" in query or "X-Amz-Credential=" in query):
        return "sigv4-query"
    if s3 and "AWSAccessKeyId=" in query and "Signature=" in query:
        return "sigv2-query"
    if s3 and request.method == "POST" and request.content_type == "multipart/form-data":
        return "post-policy"
    if s3:
        return "anonymous"
    raise auth_error(service, "missing")


def _has_query_auth(query: str) -> bool:
    return bool(query) and (
        "X-Amz-Signature=" in query or ("AWSAccessKeyId=" in query and "Signature=" in query)
    )


# -- routing help -----------------------------------------------------------------------

def scope_of(request: HttpRequest) -> tuple[str, str | None, str | None, str | None] | None:
    """(access key, date, region, signing name) the request claims, without verifying it."""
    authorization = request.headers.get("authorization")
    if authorization:
        if authorization.startswith(sigv4.ALGORITHM):
            start = authorization.find("Credential=")
            if start < 0:
                return None
            start += len("Credential=")
            end = len(authorization)
            for stop in (",", " "):
                found = authorization.find(stop, start)
                if found >= 0:
                    end = min(end, found)
            return _scope_tuple(authorization[start:end])
        parsed = sigv2.parse_authorization(authorization)
        return (parsed[0], None, None, "s3") if parsed else None
    query = request.query
    if "X-Amz-Credential=" in query:
        return _scope_tuple(checks.query_params(request).get("X-Amz-Credential", ""))
    if "AWSAccessKeyId=" in query and "Signature=" in query and "SignatureVersion=" not in query:
        return (checks.query_params(request).get("AWSAccessKeyId", ""), None, None, "s3")
    return None


def _scope_tuple(credential: str):
    parts = credential.split("/")
    if len(parts) < 5:
        return None
    return parts[0], parts[1], parts[2], parts[3]
