"""IMDS's HTTP protocol, one request at a time, over an instance's tree (metadata_tree.py).

    handler = MetadataHandler(find, tokens)   # find(source address) -> InstanceFacts | None
    handler(Request("GET", "/latest/meta-data/", headers, peer="10.0.1.5")) -> Response

What AWS's IMDS does, and so this does:
- `PUT /latest/api/token` with `X-aws-ec2-metadata-token-ttl-seconds: 1..21600` answers a
  session token (IMDSv2) and the TTL in the same header; a missing or bad TTL is a 400, a
  request with `X-Forwarded-For` a 403 (it came through a proxy). The answer carries the
  instance's `HttpPutResponseHopLimit` as `Response.ttl`: the server sends it with that IP
  TTL, so it dies that many hops away (a container behind the instance, with the default 1).
- A GET with `X-aws-ec2-metadata-token` must carry a valid, unexpired token of this
  instance (401 otherwise, whatever `HttpTokens` says); without one it is IMDSv1, a 401
  when `HttpTokens` is `required`. A valid token's remaining seconds come back in
  `X-Aws-Ec2-Metadata-Token-Ttl-Seconds`.
- `HttpEndpoint: disabled`, or an address that is no instance's: 403 to everything.
- Other methods: 405. What is not in the tree: 404. Error bodies are AWS's small HTML page.

Tokens are HMAC-signed (a key per Cloudlet process), bound to the instance and expire on
the service clock: nothing is stored, and a restart invalidates them (clients take a new
one on the 401, as botocore and cloud-init do).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import secrets
import struct
from collections.abc import Callable
from dataclasses import dataclass, field

from cloudlet import clock
from cloudlet.services.ec2.compute.metadata_tree import InstanceFacts, resolve, versions

log = logging.getLogger("cloudlet.ec2.imds")

TOKEN_PATHS = ("/latest/api/token", "/latest/api/token/")
TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
TOKEN_HEADER = "x-aws-ec2-metadata-token"
MAX_TOKEN_TTL = 21600
DEFAULT_HOP_LIMIT = 1
REASONS = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 413: "Request Entity Too Large",
           500: "Internal Server Error"}


@dataclass
class Request:
    method: str
    target: str                       # the path, with its query if any
    headers: dict[str, str]           # names lower-cased
    peer: str                         # the source address

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    ttl: int | None = None            # the IP TTL for this answer (and the rest of the connection)


def error_page(status: int) -> Response:
    title = f"{status} - {REASONS.get(status, 'Error')}"
    body = ('<?xml version="1.0" encoding="iso-8859-1"?>\n'
            '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"\n'
            '\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">\n'
            '<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">\n'
            f' <head>\n  <title>{title}</title>\n </head>\n'
            f' <body>\n  <h1>{title}</h1>\n </body>\n</html>\n')
    return Response(status, body.encode(), _headers("text/html"))


def _headers(content_type: str, extra: tuple[tuple[str, str], ...] = ()) -> list:
    return [("Content-Type", content_type), ("Accept-Ranges", "none"), ("Server", "EC2ws"),
            *extra]


class Tokens:
    """IMDSv2 tokens: base64 of (version, expiry in ms, nonce, HMAC over them and the
    instance id)."""

    _LAYOUT = struct.Struct(">BQ16s")
    _MAC = 16

    def __init__(self, key: bytes | None = None):
        self._key = key or secrets.token_bytes(32)

    def issue(self, instance_id: str, ttl: int) -> str:
        expires = int((clock.timestamp() + ttl) * 1000)
        payload = self._LAYOUT.pack(1, expires, secrets.token_bytes(16))
        return base64.b64encode(payload + self._mac(payload, instance_id)).decode()

    def remaining(self, token: str, instance_id: str) -> int | None:
        """Whole seconds left on a valid token of this instance, or None."""
        try:
            raw = base64.b64decode(token.strip(), validate=True)
        except (binascii.Error, ValueError):
            return None
        if len(raw) != self._LAYOUT.size + self._MAC:
            return None
        payload, mac = raw[:self._LAYOUT.size], raw[self._LAYOUT.size:]
        if not hmac.compare_digest(mac, self._mac(payload, instance_id)):
            return None
        version, expires, _ = self._LAYOUT.unpack(payload)
        left = expires / 1000 - clock.timestamp()
        return int(left) if version == 1 and left > 0 else None

    def _mac(self, payload: bytes, instance_id: str) -> bytes:
        return hmac.new(self._key, payload + instance_id.encode(), hashlib.sha256).digest()[
            :self._MAC]


class MetadataHandler:
    def __init__(self, find: Callable[[str], InstanceFacts | None], tokens: Tokens):
        self.find, self.tokens = find, tokens

    def __call__(self, request: Request) -> Response:
        try:
            return self.respond(request)
        except Exception:
            log.exception("IMDS %s %s from %s", request.method, request.target, request.peer)
            return error_page(500)

    def respond(self, request: Request) -> Response:
        facts = self.find(request.peer)
        if facts is None or facts.options.get("HttpEndpoint", "enabled") == "disabled":
            return error_page(403)
        if request.path in TOKEN_PATHS:
            return self.token(request, facts) if request.method == "PUT" else error_page(405)
        if request.method not in ("GET", "HEAD"):
            return error_page(405)
        extra: tuple[tuple[str, str], ...] = ()
        token = request.headers.get(TOKEN_HEADER)
        if token is not None:
            left = self.tokens.remaining(token, facts.id)
            if left is None:
                return error_page(401)
            extra = (("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", str(left)),)
        elif facts.options.get("HttpTokens") == "required":
            return error_page(401)
        body = resolve(versions(facts), request.path)
        if body is None:
            return error_page(404)
        kind = "application/octet-stream" if _is_user_data(request.path) else "text/plain"
        return Response(200, body, _headers(kind, extra))

    def token(self, request: Request, facts: InstanceFacts) -> Response:
        if "x-forwarded-for" in request.headers:
            return error_page(403)
        raw = (request.headers.get(TTL_HEADER) or "").strip()
        if not (raw.isascii() and raw.isdigit() and len(raw) <= 5) or not (
                1 <= int(raw) <= MAX_TOKEN_TTL):
            return error_page(400)
        ttl = int(raw)
        hops = facts.options.get("HttpPutResponseHopLimit") or DEFAULT_HOP_LIMIT
        return Response(200, self.tokens.issue(facts.id, ttl).encode(),
                        _headers("text/plain", (("X-Aws-Ec2-Metadata-Token-Ttl-Seconds",
                                                 str(ttl)),)),
                        ttl=max(1, min(int(hops), 64)))


def _is_user_data(path: str) -> bool:
    parts = [p for p in path.split("/") if p]
    return len(parts) == 2 and parts[1] == "user-data"
