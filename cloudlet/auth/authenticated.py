"""What authentication answers (`Authenticated`), and what every verifier is (`Verifier`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from cloudlet.auth.credentials import Credential, CredentialStore
from cloudlet.auth.streaming import AwsChunkedDecoder
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.postform import PostForm


@dataclass
class Authenticated:
    credential: Credential | None  # None: anonymous
    region: str | None
    service: str | None  # the signing name from the scope
    method: str  # the scheme: a key of schemes.VERIFIERS (sigv4-header, ..., anonymous)
    body: bytes  # the decoded payload (aws-chunked removed)
    trailers: dict[str, str] = field(default_factory=dict)
    post_form: PostForm | None = None  # a POST upload's fields and file
    # With authenticate(..., defer_body=True) and an aws-chunked body: the decoder, ready
    # for the body's bytes (`feed`, then `finish`); `body` is then empty.
    decoder: AwsChunkedDecoder | None = None
    # With defer_body=True and a plain body: the signed payload hash (hex) the consumer must
    # check while streaming, None when unsigned. Content-MD5 and x-amz-checksum-* headers
    # are then the consumer's to verify too.
    payload_sha256: str | None = None


# (request, service, store, now, defer_body) -> Authenticated, or raises the ServiceError
# the target service would answer.
Verifier = Callable[[HttpRequest, str, CredentialStore, datetime, bool], Authenticated]
