"""OpenID Connect for AssumeRoleWithWebIdentity: JWTs and Cloudlet's local issuer.

    issuer = LocalIssuer(data_dir / "oidc")       # RSA key made once, kept in the data dir
    issuer.discovery(url) / issuer.jwks()         # what /_cloudlet/oidc/... serves (public)
    issuer.mint(url, sub=..., aud=..., ttl=...)   # a signed RS256 ID token
    claims = issuer.verify(token)                 # header and signature checked

`parse(token)` splits a JWT without trusting it. A URL is the local issuer's when its path
is `/_cloudlet/oidc` (`cloudlet.oidc_urls`, which IAM reads too): Cloudlet serves its keys.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from cloudlet import clock
from cloudlet.oidc_urls import LOCAL_PATH

TOKEN_PATH = LOCAL_PATH + "/token"
MAX_TTL = 365 * 86400  # seconds a minted token may live (or be expired by)


class TokenError(ValueError):
    """A token that is not a well-formed, correctly signed JWT."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as e:
        raise TokenError(str(e)) from None


def _uint(n: int) -> str:
    return b64url(n.to_bytes((n.bit_length() + 7) // 8, "big"))


@dataclass(frozen=True)
class Jwt:
    header: dict
    claims: dict
    signing_input: bytes
    signature: bytes


def parse(token: str) -> Jwt:
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise TokenError("a JWT has three parts")
    try:
        header = json.loads(unb64url(parts[0]))
        claims = json.loads(unb64url(parts[1]))
    except (ValueError, UnicodeDecodeError) as e:
        raise TokenError(str(e)) from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise TokenError("header and claims are JSON objects")
    return Jwt(header, claims, f"{parts[0]}.{parts[1]}".encode(), unb64url(parts[2]))


class LocalIssuer:
    """Cloudlet's own OIDC issuer; its RSA key is generated once and kept in `directory`."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self._key: rsa.RSAPrivateKey | None = None
        self._lock = threading.Lock()

    @property
    def key(self) -> rsa.RSAPrivateKey:
        if self._key is None:
            with self._lock:
                if self._key is None:
                    self._key = self._load_or_create()
        return self._key

    def _load_or_create(self) -> rsa.RSAPrivateKey:
        path = self.directory / "signing-key.pem"
        if not path.exists():
            self.directory.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM,
                                    serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(pem)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, path)  # the first writer wins; a racing one reads its key
            except FileExistsError:
                pass
            finally:
                tmp.unlink()
        return serialization.load_pem_private_key(path.read_bytes(), password=None)

    @property
    def kid(self) -> str:
        numbers = self.key.public_key().public_numbers()
        return hashlib.sha256(_uint(numbers.n).encode()).hexdigest()[:16]

    def jwks(self) -> dict:
        numbers = self.key.public_key().public_numbers()
        return {"keys": [{"kty": "RSA", "alg": "RS256", "use": "sig", "kid": self.kid,
                          "n": _uint(numbers.n), "e": _uint(numbers.e)}]}

    @staticmethod
    def discovery(issuer_url: str) -> dict:
        return {
            "issuer": issuer_url,
            "jwks_uri": f"{issuer_url}/jwks",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["sub", "aud", "exp", "iat", "iss", "nbf", "jti", "amr"],
        }

    def mint(self, issuer_url: str, *, sub: str, aud: str | list[str] = "sts.amazonaws.com",
             ttl: int = 3600, claims: dict | None = None) -> str:
        now = int(clock.timestamp())
        body = {"iss": issuer_url, "sub": sub, "aud": aud, "iat": now, "nbf": now,
                "exp": now + int(ttl), "jti": str(uuid.uuid4()), **(claims or {})}
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                         + b64url(json.dumps(body, separators=(",", ":")).encode()))
        signature = self.key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
        return f"{signing_input}.{b64url(signature)}"

    def verify(self, token: Jwt) -> None:
        """Raise TokenError unless `token` is RS256-signed by this issuer's key."""
        if token.header.get("alg") != "RS256":
            raise TokenError("unsupported algorithm")
        if token.header.get("kid") not in (None, self.kid):
            raise TokenError("unknown key id")
        try:
            self.key.public_key().verify(token.signature, token.signing_input,
                                         padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            raise TokenError("bad signature") from None


def serve_public(issuer: LocalIssuer, request) -> tuple[int, dict[str, str], bytes]:
    """GET under /_cloudlet/oidc, public as a real issuer's are (the issuer URL is the
    one the request reached):

    /.well-known/openid-configuration   the discovery document
    /jwks                               the public key
    """
    rest = request.path[len(LOCAL_PATH):]
    if rest == "/.well-known/openid-configuration":
        return _json(200, issuer.discovery(_issuer_url(request)))
    if rest == "/jwks":
        return _json(200, issuer.jwks())
    return _json(404, {"code": "NotFound", "message": "no such Cloudlet OIDC endpoint"})


def serve_token(issuer: LocalIssuer, request) -> tuple[int, dict[str, str], bytes]:
    """POST /_cloudlet/oidc/token {"sub", "aud", "ttl", "claims"}: a token, for `cloudlet
    oidc token`; a control call (the gateway has checked it is an account root's)."""
    if request.path != TOKEN_PATH:
        return _json(404, {"code": "NotFound", "message": "no such Cloudlet OIDC endpoint"})
    usage = ('send {"sub": "...", "aud": "..." or ["...", ...], "ttl": whole seconds (at '
             f'most {MAX_TTL}; negative: expired already), "claims": {{...}}}}')
    try:
        fields = json.loads(request.body or b"{}")  # claims may be odd (tests mint such)
        sub = fields["sub"]
        aud = fields.get("aud") or "sts.amazonaws.com"
        ttl = fields.get("ttl", 3600)
        claims = fields.get("claims") or {}
    except (ValueError, TypeError, KeyError, AttributeError, RecursionError):
        return _json(400, {"code": "ValidationError", "message": usage})
    audiences = aud if isinstance(aud, list) else [aud]
    if (not isinstance(sub, str) or not isinstance(claims, dict)
            or not all(isinstance(a, str) for a in audiences)
            or isinstance(ttl, bool) or not isinstance(ttl, int) or abs(ttl) > MAX_TTL):
        return _json(400, {"code": "ValidationError", "message": usage})
    url = _issuer_url(request)
    return _json(200, {"token": issuer.mint(url, sub=sub, aud=aud, ttl=ttl, claims=claims),
                       "issuer": url})


def _issuer_url(request) -> str:
    return f"{'https' if request.secure else 'http'}://{request.host}{LOCAL_PATH}"


def _json(status: int, body: dict) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json"}, json.dumps(body).encode()
