"""AWS Signature Version 4, server side.

The steps keep the names of AWS's document: `canonical_request` -> `string_to_sign` ->
`signature`, with the signing key derived by `signing_key(secret, date, region, service)`
and cached, since every request of a client reuses it for a day.

`SigV4Parts` is what a request claims: who, when, which scope, which headers, which
signature; `parse_authorization` reads it from the Authorization header and
`parse_presigned` from the query (a presigned URL). `canonical_request` rebuilds
the canonical request from the HTTP request as the server received it:

- the path as sent for S3; every other service normalizes it (dot segments, empty
  segments) and URI-encodes it a second time, as clients sign the encoded path;
- the query re-encoded pair by pair, sorted (`X-Amz-Signature` left out);
- the signed headers, lowercased, trimmed, repeated values joined with commas;
- the payload hash the caller chose (`x-amz-content-sha256`, `UNSIGNED-PAYLOAD`, or the
  SHA-256 of the body).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from urllib.parse import quote, unquote_to_bytes

ALGORITHM = "AWS4-HMAC-SHA256"
TERMINATOR = "aws4_request"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_PAYLOAD = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_PAYLOAD_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
MAX_EXPIRES = 604800

_PLAIN = re.compile(r"[A-Za-z0-9\-_.~]*\Z")
_HEX64 = re.compile(r"[0-9a-fA-F]{64}\Z")


class Malformed(ValueError):
    """The request's signature information cannot be read; the message says why."""


@dataclass(frozen=True, slots=True)
class SigV4Parts:
    access_key: str
    date: str  # YYYYMMDD, from the credential scope
    region: str
    service: str
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str = ""  # YYYYMMDDTHHMMSSZ; for header auth, filled from X-Amz-Date / Date
    expires: int | None = None  # presigned only

    @property
    def scope(self) -> str:
        return f"{self.date}/{self.region}/{self.service}/{TERMINATOR}"


# -- reading what the request claims -------------------------------------------------

def split_credential(credential: str) -> tuple[str, str, str, str]:
    """`AKID/20150830/us-east-1/service/aws4_request` -> (AKID, date, region, service)."""
    parts = credential.split("/")
    if len(parts) != 5 or not parts[0]:
        raise Malformed(
            "the Credential is mal-formed; expecting "
            "\"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\"."
        )
    if parts[4] != TERMINATOR:
        raise Malformed(
            f"Credential should be scoped with a valid terminator: 'aws4_request', not '{parts[4]}'."
        )
    return parts[0], parts[1], parts[2], parts[3]


def parse_authorization(value: str, timestamp: str = "") -> SigV4Parts:
    """Read `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise Malformed(f"Unsupported algorithm {algorithm}")
    fields = {}
    for item in rest.split(","):
        key, sep, val = item.strip().partition("=")
        if sep:
            fields[key] = val
    for required in ("Credential", "SignedHeaders", "Signature"):
        if required not in fields:
            raise Malformed(f"Authorization header requires '{required}' parameter.")
    access_key, date, region, service = split_credential(fields["Credential"])
    return SigV4Parts(
        access_key, date, region, service,
        tuple(fields["SignedHeaders"].split(";")), fields["Signature"], timestamp,
    )


def parse_presigned(params: dict[str, str]) -> SigV4Parts:
    """Read the X-Amz-* parameters of a presigned URL (values already percent-decoded)."""
    for required in ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date",
                     "X-Amz-SignedHeaders", "X-Amz-Signature"):
        if required not in params:
            raise Malformed(
                "Query-string authentication version 4 requires the X-Amz-Algorithm, "
                "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, "
                "and X-Amz-Expires parameters."
            )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise Malformed("X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\"")
    expires = None
    if "X-Amz-Expires" in params:
        try:
            expires = int(params["X-Amz-Expires"])
        except ValueError:
            raise Malformed("X-Amz-Expires should be a number") from None
        if expires < 0:
            raise Malformed("X-Amz-Expires must be non-negative")
        if expires > MAX_EXPIRES:
            raise Malformed("X-Amz-Expires must be less than a week (in seconds) that is 604800")
    access_key, date, region, service = split_credential(params["X-Amz-Credential"])
    return SigV4Parts(
        access_key, date, region, service,
        tuple(params["X-Amz-SignedHeaders"].split(";")), params["X-Amz-Signature"],
        timestamp=params["X-Amz-Date"], expires=expires,
    )


def parse_timestamp(value: str) -> datetime:
    """`20150830T123600Z` -> an aware datetime; Malformed when it is not that form."""
    if len(value) != 16 or value[8] != "T" or value[15] != "Z":
        raise Malformed(f"Invalid X-Amz-Date: {value}")
    try:
        return datetime(
            int(value[0:4]), int(value[4:6]), int(value[6:8]),
            int(value[9:11]), int(value[11:13]), int(value[13:15]), tzinfo=UTC,
        )
    except ValueError:
        raise Malformed(f"Invalid X-Amz-Date: {value}") from None


def format_timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


# -- the canonical request ------------------------------------------------------------

def raw_bytes(text: str) -> bytes:
    """The bytes of a path or query as received. The gateway decodes them as latin-1, so
    that is undone; text with wider characters (a test's UTF-8) is encoded as UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogatepass")


def normalize_path(path: str) -> str:
    """Remove dot segments and empty segments, keeping a trailing slash."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normalized = "/" + "/".join(segments)
    if path.endswith(("/", "/.", "/..")) and normalized != "/":
        normalized += "/"
    return normalized


def canonical_uri(path: str, s3: bool) -> str:
    if s3:
        return path or "/"
    return quote(raw_bytes(normalize_path(path)), safe="/~")


def _canonical_component(text: str) -> str:
    return text if _PLAIN.match(text) else quote(unquote_to_bytes(raw_bytes(text)), safe="-_.~")


def canonical_query_string(query: str, presigned: bool = False) -> str:
    if not query:
        return ""
    pairs = []
    for item in query.split("&"):
        if not item:
            continue
        key, _, value = item.partition("=")
        key = _canonical_component(key)
        if presigned and key == "X-Amz-Signature":
            continue
        pairs.append((key, _canonical_component(value)))
    pairs.sort()
    return "&".join(f"{k}={v}" for k, v in pairs)


def header_values(raw: list[tuple[str, str]], names: tuple[str, ...]) -> dict[str, list[str]]:
    """The raw values of the headers named in `names` (lowercase), in the order received."""
    wanted = set(names)
    values: dict[str, list[str]] = {}
    for name, value in raw:
        lower = name.lower()
        if lower in wanted:
            values.setdefault(lower, []).append(value)
    return values


def canonical_headers(raw: list[tuple[str, str]], signed: tuple[str, ...]) -> str:
    values = header_values(raw, signed)
    lines = []
    for name in signed:
        joined = ",".join(" ".join(v.split()) for v in values.get(name, ()))
        lines.append(f"{name}:{joined}\n")
    return "".join(lines)


def canonical_request(
    method: str, uri: str, query: str, headers: str, signed_headers: str, payload_hash: str
) -> str:
    return f"{method}\n{uri}\n{query}\n{headers}\n{signed_headers}\n{payload_hash}"


def string_to_sign(timestamp: str, scope: str, canonical: str) -> str:
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{scope}\n{digest}"


@lru_cache(maxsize=4096)
def signing_key(secret: str, date: str, region: str, service: str) -> bytes:
    key = hmac.digest(f"AWS4{secret}".encode("utf-8", "surrogatepass"),
                      date.encode("utf-8", "surrogatepass"), "sha256")
    key = hmac.digest(key, region.encode("utf-8", "surrogatepass"), "sha256")
    key = hmac.digest(key, service.encode("utf-8", "surrogatepass"), "sha256")
    return hmac.digest(key, TERMINATOR.encode(), "sha256")


def signature(key: bytes, text: str) -> str:
    return hmac.new(key, text.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def matches(expected: str, provided: str) -> bool:
    return hmac.compare_digest(expected.encode(), provided.encode("utf-8", "surrogatepass"))


def is_sha256_hex(value: str) -> bool:
    return bool(_HEX64.match(value))


# -- one request ----------------------------------------------------------------------

@dataclass(slots=True)
class Attempt:
    """One computation of the expected signature, kept for the error a mismatch reports."""

    canonical_request: str
    string_to_sign: str
    signature: str


def compute(
    method: str, path: str, query: str, raw_headers: list[tuple[str, str]],
    parts: SigV4Parts, payload_hash: str, secret: str, *, s3: bool, presigned: bool,
) -> Attempt:
    creq = canonical_request(
        method,
        canonical_uri(path, s3),
        canonical_query_string(query, presigned),
        canonical_headers(raw_headers, parts.signed_headers),
        ";".join(parts.signed_headers),
        payload_hash,
    )
    sts = string_to_sign(parts.timestamp, parts.scope, creq)
    key = signing_key(secret, parts.date, parts.region, parts.service)
    return Attempt(creq, sts, signature(key, sts))


def s3_path_variants(path: str) -> list[str]:
    """Other spellings of an S3 path a client may have signed: its canonical encoding."""
    canonical = quote(unquote_to_bytes(raw_bytes(path)), safe="/-_.~")
    return [canonical] if canonical != path else []
