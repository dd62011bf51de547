"""GetFunction's Code.Location: a URL that downloads the zip with plain HTTP.

    {endpoint}/_cloudlet/lambda/code/<sha256 hex>.zip?Expires=<epoch>&Signature=<hmac>

Signed with a key kept in the data directory (so URLs stay valid across a restart) and
valid for 10 minutes of the service clock, like AWS's presigned S3 URL: without the
signature GetFunction handed out, or after it expires, the download is refused. `code_route()` is
the handler of the provider's route under /_cloudlet/lambda/code/.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
from urllib.parse import parse_qs

from cloudlet import clock
from cloudlet.tls import write_private

CODE_URL_SECONDS = 600
CODE_PATH = "/_cloudlet/lambda/code/"


class CodeUrlOperations:
    def _load_url_key(self) -> bytes:
        path = self.codes.root / "url.key"
        if not path.exists():
            part = path.with_name(f"url.key.{secrets.token_hex(4)}")
            write_private(part, secrets.token_bytes(32))
            os.replace(part, path)
        return path.read_bytes()

    def _signature(self, hex_digest: str, expires: int) -> str:
        return hmac.new(self._url_key, f"{hex_digest}:{expires}".encode(),
                        hashlib.sha256).hexdigest()

    def code_url(self, hex_digest: str) -> str:
        """A URL that downloads the zip with plain HTTP for 10 minutes, like AWS's
        presigned S3 URL."""
        expires = int(clock.timestamp()) + CODE_URL_SECONDS
        base = self.endpoint or "http://127.0.0.1:4566"
        return (f"{base}{CODE_PATH}{hex_digest}.zip?Expires={expires}"
                f"&Signature={self._signature(hex_digest, expires)}")

    def code_route(self, request) -> tuple[int, dict[str, str], bytes]:
        """GET /_cloudlet/lambda/code/<sha256>.zip?Expires=..&Signature=..: the zip."""
        if request.method not in ("GET", "HEAD"):
            return _xml_error(405, "MethodNotAllowed", "GET")
        hex_digest = request.path[len(CODE_PATH):].removesuffix(".zip")
        query = parse_qs(request.query)
        try:
            expires = int(query.get("Expires", ["0"])[0])
        except ValueError:
            expires = 0
        signature = query.get("Signature", [""])[0]
        if not re.fullmatch(r"[0-9a-f]{64}", hex_digest) or not hmac.compare_digest(
                signature.encode("utf-8", "surrogateescape"),
                self._signature(hex_digest, expires).encode()):
            return _xml_error(403, "AccessDenied", "Access Denied")
        if clock.timestamp() > expires:
            return _xml_error(403, "AccessDenied", "Request has expired")
        data = self.codes.read_zip(hex_digest)
        if data is None:
            return _xml_error(404, "NoSuchKey", "The specified key does not exist.")
        return 200, {"Content-Type": "application/zip"}, b"" if request.method == "HEAD" else data



def _xml_error(status: int, code: str, message: str) -> tuple[int, dict[str, str], bytes]:
    body = (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message></Error>")
    return status, {"Content-Type": "application/xml"}, body.encode()
