"""Request authentication: who signed this request, and is the signature right?

    auth = authenticate(request, "s3", store)       # -> Authenticated, or raises ServiceError
    scope_of(request)                               # -> (access key, date, region, service)

`authenticate` picks the scheme from the request, in this order:

    Authorization: AWS4-HMAC-SHA256 ...     sigv4-header   (every service)
    Authorization: AWS AKID:sig             sigv2-header   (S3)
    ?X-Amz-Algorithm=...&X-Amz-Signature=   sigv4-query    (presigned, every service)
    ?AWSAccessKeyId=...&Signature=...       sigv2-query    (presigned, S3)
    POST multipart/form-data with a policy  post-policy    (S3 browser uploads)
    nothing                                 anonymous      (S3; other services refuse)

and returns the credential, the signing scope, and the body with any aws-chunked
encoding removed (chunk signatures and checksum trailers verified). Failures are the
`ServiceError` the target service would answer (`errors.auth_error`). A signed POST
upload's policy (expiration, conditions, fields it covers) is checked here too, once its
signature holds (`check_post_policy`).
"""

from __future__ import annotations

import email.utils
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import unquote

from cloudlet import clock
from cloudlet.auth import checksums, sigv2, sigv4, streaming
from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.auth.errors import auth_error, family, hex_bytes, s3_error
from cloudlet.auth.post_policy import PostForm, check_post_policy, decode_policy, form_of
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.hosts import bucket_from_host

__all__ = [
    "Authenticated", "Credential", "CredentialStore", "PostForm", "authenticate",
    "check_post_policy", "decode_policy", "scope_of",
]

MAX_SKEW = timedelta(minutes=15)
_STREAMING = (
    sigv4.STREAMING_PAYLOAD, sigv4.STREAMING_PAYLOAD_TRAILER, sigv4.STREAMING_UNSIGNED_TRAILER,
)


@dataclass
class Authenticated:
    credential: Credential | None  # None: anonymous
    region: str | None
    service: str | None  # the signing name from the scope
    method: str  # sigv4-header | sigv4-query | sigv2-query | sigv2-header | post-policy | anonymous
    body: bytes  # the decoded payload (aws-chunked removed)
    trailers: dict[str, str] = field(default_factory=dict)
    post_form: PostForm | None = None  # a POST upload's fields and file
    # With authenticate(..., defer_body=True) and an aws-chunked body: the decoder, ready
    # for the body's bytes (`feed`, then `finish`); `body` is then empty.
    decoder: streaming.AwsChunkedDecoder | None = None
    # With defer_body=True and a plain body: the signed payload hash (hex) the consumer must
    # check while streaming, None when unsigned. Content-MD5 and x-amz-checksum-* headers
    # are then the consumer's to verify too.
    payload_sha256: str | None = None


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
        return _scope_tuple(_query_params(request).get("X-Amz-Credential", ""))
    if "AWSAccessKeyId=" in query and "Signature=" in query and "SignatureVersion=" not in query:
        return (_query_params(request).get("AWSAccessKeyId", ""), None, None, "s3")
    return None


def _query_params(request: HttpRequest) -> dict[str, str]:
    """The request's query parameters as signatures read them, parsed once per request."""
    params = request.memo.get("auth.query")
    if params is None:
        params = request.memo["auth.query"] = sigv2.query_params(request.query)
    return params


def _scope_tuple(credential: str):
    parts = credential.split("/")
    if len(parts) < 5:
        return None
    return parts[0], parts[1], parts[2], parts[3]


# -- the entry point --------------------------------------------------------------------

def authenticate(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime | None = None,
    *, defer_body: bool = False,
) -> Authenticated:
    """Verify `request` for `service`. With `defer_body`, an aws-chunked body is not read:
    the result carries a `decoder` to stream it through (S3 uploads to disk); a plain body
    is not read either, and its digests are left to the consumer (`payload_sha256`)."""
    now = now or datetime.now(UTC)
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
            return _sigv4_header(request, service, store, now, authorization, defer_body)
        if s3 and authorization.startswith("AWS "):
            return _sigv2_header(request, store, now, authorization, defer_body)
        raise auth_error(service, "unsupported")
    if query and ("X-Amz-Signature=" in query or "X-Amz-Credential=" in query):
        return _sigv4_query(request, service, store, now, defer_body)
    if s3 and "AWSAccessKeyId=" in query and "Signature=" in query:
        return _sigv2_query(request, store, now, defer_body)
    if s3 and request.method == "POST" and request.content_type == "multipart/form-data":
        return _post_policy(request, store, now)
    if s3:
        return Authenticated(None, None, None, "anonymous", request.body)
    raise auth_error(service, "missing")


def _has_query_auth(query: str) -> bool:
    return bool(query) and (
        "X-Amz-Signature=" in query or ("AWSAccessKeyId=" in query and "Signature=" in query)
    )


# -- shared checks ----------------------------------------------------------------------

def _malformed(service: str, error: Exception, query: bool = False) -> ServiceError:
    kind = "malformed_query" if query and family(service) == "s3" else "malformed"
    message = str(error)
    if family(service) == "s3" and not query:
        message = f"The authorization header is malformed; {message}"
    return auth_error(service, kind, message if family(service) in ("s3", "query", "json") else None)


def _basic(when: datetime) -> str:
    return sigv4.format_timestamp(when)


def _iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_skew(service: str, request_time: datetime, now: datetime, shown: str) -> None:
    if abs(request_time - now) <= MAX_SKEW:
        return
    if family(service) == "s3":
        raise auth_error(service, "skewed", fields={
            "RequestTime": shown, "ServerTime": _iso(now), "MaxAllowedSkewMilliseconds": "900000",
        })
    if request_time < now:
        message = (f"Signature expired: {_basic(request_time)} is now earlier than "
                   f"{_basic(now - MAX_SKEW)} ({_basic(now)} - 15 min.)")
        raise auth_error(service, "skewed", _worded(service, message))
    message = (f"Signature not yet current: {_basic(request_time)} is still later than "
               f"{_basic(now + MAX_SKEW)} ({_basic(now)} + 15 min.)")
    raise auth_error(service, "not_yet_valid", _worded(service, message))


def _worded(service: str, message: str) -> str | None:
    """Query and JSON services explain time failures; S3 and EC2 keep their fixed words."""
    return message if family(service) in ("query", "json") else None


def _check_scope_date(service: str, parts: sigv4.SigV4Parts, query: bool) -> None:
    if parts.date == parts.timestamp[:8]:
        return
    if family(service) == "s3":
        kind = "malformed_query" if query else "malformed"
        prefix = "" if query else "The authorization header is malformed; "
        raise auth_error(
            service, kind, f"{prefix}Invalid credential date. Date is not the same as X-Amz-Date."
        )
    raise auth_error(service, "mismatch", _worded(
        service,
        f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date "
        f"from HTTP: '{parts.date}' != '{parts.timestamp[:8]}', from '{parts.timestamp}'.",
    ))


def _credential(
    store: CredentialStore, service: str, access_key: str, token: str | None, now: datetime
) -> Credential:
    credential = store.lookup(access_key)
    if credential is None:
        raise auth_error(service, "unknown_key", fields={"AWSAccessKeyId": access_key})
    if credential.session_token is not None and token != credential.session_token:
        raise auth_error(service, "invalid_token", fields={"Token-0": token or ""})
    # Sessions age on the service clock (tests move it forward); signatures on `now`.
    if credential.expiration is not None and credential.expiration <= max(now, clock.now()):
        raise auth_error(service, "expired_token", fields={"Token-0": token or ""})
    return credential


def _mismatch(service: str, access_key: str, provided: str, sts: str, creq: str | None) -> ServiceError:
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


def _verify_body_checksums(request: HttpRequest, body: bytes) -> None:
    """S3 checks `x-amz-checksum-*` and Content-MD5 headers against the payload, except
    where the header describes another object (CompleteMultipartUpload, copies)."""
    if request.method == "POST" and "uploadId=" in request.query:
        return
    if "x-amz-copy-source" in request.headers:
        return
    checksums.verify_headers(request.headers, body)


# -- SigV4 ------------------------------------------------------------------------------

def _sigv4_timestamp(request: HttpRequest, service: str) -> str:
    amz_date = request.headers.get("x-amz-date")
    if amz_date:
        return amz_date.strip()
    date = request.headers.get("date")
    if date:
        try:
            return _basic(email.utils.parsedate_to_datetime(date))
        except (TypeError, ValueError):
            pass
    raise _malformed(service, ValueError("Authorization requires a valid X-Amz-Date or Date header."))


def _sigv4_header(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime,
    authorization: str, defer_body: bool = False,
) -> Authenticated:
    s3 = service == "s3"
    timestamp = _sigv4_timestamp(request, service)
    try:
        parts = sigv4.parse_authorization(authorization, timestamp)
        request_time = sigv4.parse_timestamp(timestamp)
    except sigv4.Malformed as e:
        raise _malformed(service, e) from None
    _check_scope_date(service, parts, query=False)
    _check_skew(service, request_time, now, timestamp)
    token = request.headers.get("x-amz-security-token")
    credential = _credential(store, service, parts.access_key, token, now)

    content_sha = request.headers.get("x-amz-content-sha256")
    body = request.body
    if content_sha is None:
        payload_hash = hashlib.sha256(body).hexdigest() if body else sigv4.EMPTY_SHA256
    else:
        payload_hash = content_sha = content_sha.strip()
        if not (content_sha in _STREAMING or content_sha == sigv4.UNSIGNED_PAYLOAD
                or sigv4.is_sha256_hex(content_sha)):
            raise _bad_content_sha(service)

    attempt = _verify_v4(request, service, parts, payload_hash, credential.secret_access_key, False)
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
            if s3:
                raise s3_error(
                    "XAmzContentSHA256Mismatch",
                    "The provided 'x-amz-content-sha256' header does not match what was computed.",
                    fields={"ClientComputedContentSHA256": content_sha,
                            "S3ComputedContentSHA256": computed},
                )
            raise auth_error(service, "mismatch")
    if s3:
        _verify_body_checksums(request, body)
    return Authenticated(
        credential, parts.region, parts.service, "sigv4-header", body, trailers
    )


def _bad_content_sha(service: str) -> ServiceError:
    if service == "s3":
        return s3_error(
            "InvalidArgument",
            "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
            "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER "
            "or a valid sha256 value.",
            fields={"ArgumentName": "x-amz-content-sha256"},
        )
    return auth_error(service, "malformed")


def _verify_v4(
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
    raise _mismatch(
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


def _sigv4_query(
    request: HttpRequest, service: str, store: CredentialStore, now: datetime,
    defer_body: bool = False,
) -> Authenticated:
    s3 = service == "s3"
    params = _query_params(request)
    try:
        parts = sigv4.parse_presigned(params)
        request_time = sigv4.parse_timestamp(parts.timestamp)
    except sigv4.Malformed as e:
        raise _malformed(service, e, query=True) from None
    _check_scope_date(service, parts, query=True)
    if parts.expires is None:
        if s3:
            raise _malformed(service, sigv4.Malformed(
                "X-Amz-Expires must be provided for query-string authentication."), query=True)
        _check_skew(service, request_time, now, parts.timestamp)
    else:
        _check_expiry(service, request_time, parts, now)
    token = params.get("X-Amz-Security-Token") or request.headers.get("x-amz-security-token")
    credential = _credential(store, service, parts.access_key, token, now)
    if s3:
        payload_hash = params.get("X-Amz-Content-Sha256") or sigv4.UNSIGNED_PAYLOAD
    else:
        payload_hash = hashlib.sha256(request.body).hexdigest()
    _verify_v4(request, service, parts, payload_hash, credential.secret_access_key, True)
    if s3 and not defer_body:
        _verify_body_checksums(request, request.body)
    return Authenticated(credential, parts.region, parts.service, "sigv4-query", request.body)


def _check_expiry(service: str, request_time: datetime, parts: sigv4.SigV4Parts, now: datetime) -> None:
    if request_time - now > MAX_SKEW:
        raise auth_error(service, "not_yet_valid", _worded(
            service, f"Signature not yet current: {parts.timestamp} is still later than "
                     f"{_basic(now + MAX_SKEW)} ({_basic(now)} + 15 min.)"))
    expiry = request_time + timedelta(seconds=parts.expires)
    if now > expiry:
        raise auth_error(
            service, "expired",
            _worded(service, f"Signature expired: {_basic(expiry)} is now earlier than {_basic(now)}"),
            fields={"X-Amz-Expires": str(parts.expires), "Expires": _iso(expiry),
                    "ServerTime": _iso(now)},
        )


# -- SigV2 (S3) -------------------------------------------------------------------------

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


def _verify_v2(
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
    raise _mismatch("s3", access_key, provided, first or "", None)


def _sigv2_header(
    request: HttpRequest, store: CredentialStore, now: datetime, authorization: str,
    defer_body: bool = False,
) -> Authenticated:
    parsed = sigv2.parse_authorization(authorization)
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
    _check_skew("s3", request_time, now, shown)
    credential = _credential(
        store, "s3", access_key, request.headers.get("x-amz-security-token"), now
    )
    dates = ["", date or ""] if amz_date else [date or ""]
    _verify_v2(
        request, access_key, provided, credential.secret_access_key, dates,
        sigv2.amz_headers(request.headers.raw),
        request.headers.get("content-md5") or "", request.headers.get("content-type") or "",
    )
    if not defer_body:
        _verify_body_checksums(request, request.body)
    return Authenticated(credential, None, "s3", "sigv2-header", request.body)


def _sigv2_query(
    request: HttpRequest, store: CredentialStore, now: datetime, defer_body: bool = False,
) -> Authenticated:
    params = _query_params(request)
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
            "Expires": _iso(expires), "ServerTime": _iso(now),
        })
    token = params.get("x-amz-security-token") or request.headers.get("x-amz-security-token")
    credential = _credential(store, "s3", access_key, token, now)
    _verify_v2(
        request, access_key, provided, credential.secret_access_key, [expires_text],
        sigv2.amz_headers(request.headers.raw, params),
        request.headers.get("content-md5") or params.get("content-md5") or "",
        request.headers.get("content-type") or params.get("content-type") or "",
    )
    if not defer_body:
        _verify_body_checksums(request, request.body)
    return Authenticated(credential, None, "s3", "sigv2-query", request.body)


# -- POST policy (S3) -------------------------------------------------------------------

def _post_policy(request: HttpRequest, store: CredentialStore, now: datetime) -> Authenticated:
    form = form_of(request)
    policy = form.get("policy")
    if policy is None:
        return Authenticated(None, None, None, "anonymous", request.body, post_form=form)
    token = form.get("x-amz-security-token")
    if form.get("x-amz-signature") is not None:
        result = _post_policy_v4(request, store, now, form, policy, token)
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
    credential = _credential(store, "s3", access_key, token, now)
    if not sigv2.matches(sigv2.signature(credential.secret_access_key, policy), provided):
        raise _mismatch("s3", access_key, provided, policy, None)
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


def _post_policy_v4(
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
    credential = _credential(store, "s3", access_key, token, now)
    key = sigv4.signing_key(credential.secret_access_key, date, region, signing_name)
    provided = form.get("x-amz-signature") or ""
    if not sigv4.matches(sigv4.signature(key, policy), provided):
        raise _mismatch("s3", access_key, provided, policy, None)
    return Authenticated(credential, region, signing_name, "post-policy", request.body, post_form=form)
