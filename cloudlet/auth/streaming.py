"""The aws-chunked body encoding, decoded incrementally.

S3 clients that stream an upload send `Content-Encoding: aws-chunked`:

    <hex-size>[;chunk-signature=<sig>]\\r\\n<data>\\r\\n      ... repeated
    0[;chunk-signature=<sig>]\\r\\n
    [<trailer-name>:<value>\\r\\n ... [x-amz-trailer-signature:<sig>\\r\\n]]
    \\r\\n

With `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` each chunk carries a signature that
chains from the request's (seed) signature; `ChunkSigner` verifies them, and the
trailer's. With `STREAMING-UNSIGNED-PAYLOAD-TRAILER` chunks are bare and the integrity
comes from a checksum trailer (`x-amz-checksum-crc32`, ...), which the decoder computes
over the payload and compares.

`AwsChunkedDecoder.feed(data)` returns the payload bytes decoded so far; `finish()`
checks that the stream ended where it should and returns the trailers. Payload comes out
before its chunk's signature is checked: a consumer streaming to disk must commit only
after `finish()` returns.
"""

from __future__ import annotations

import hashlib
import hmac

from cloudlet.auth import checksums
from cloudlet.auth.errors import s3_error
from cloudlet.auth.sigv4 import EMPTY_SHA256
from cloudlet.errors import ServiceError

MAX_LINE = 4096
TRAILER_SIGNATURE = "x-amz-trailer-signature"

_HEADER, _DATA, _DATA_END, _TRAILER, _DONE = range(5)


class ChunkSigner:
    """Verifies the signature chain of a signed aws-chunked body."""

    def __init__(self, key: bytes, timestamp: str, scope: str, seed_signature: str):
        self._key = key
        self._prefix = f"{timestamp}\n{scope}\n"
        self.previous = seed_signature

    def chunk_signature(self, chunk_sha256: str) -> str:
        text = (f"AWS4-HMAC-SHA256-PAYLOAD\n{self._prefix}{self.previous}\n"
                f"{EMPTY_SHA256}\n{chunk_sha256}")
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def trailer_signature(self, trailers: dict[str, str]) -> str:
        canonical = "".join(f"{name}:{trailers[name]}\n" for name in sorted(trailers))
        digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()
        text = f"AWS4-HMAC-SHA256-TRAILER\n{self._prefix}{self.previous}\n{digest}"
        return hmac.new(self._key, text.encode(), hashlib.sha256).hexdigest()

    def verify_chunk(self, chunk_sha256: str, provided: str | None) -> None:
        self._check(self.chunk_signature(chunk_sha256), provided)

    def verify_trailer(self, trailers: dict[str, str], provided: str | None) -> None:
        self._check(self.trailer_signature(trailers), provided)

    def _check(self, expected: str, provided: str | None) -> None:
        if provided is None or not hmac.compare_digest(
            expected.encode(), provided.encode("utf-8", "surrogatepass")
        ):
            raise s3_error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match the signature you "
                "provided. Check your key and signing method.",
                status=403,
            )
        self.previous = provided


def malformed(message: str = "The chunked encoding of the request body is malformed.") -> ServiceError:
    return s3_error("InvalidRequest", message)


def incomplete() -> ServiceError:
    return s3_error(
        "IncompleteBody",
        "The request body terminated unexpectedly",
    )


class AwsChunkedDecoder:
    """Feed aws-chunked bytes in, get the payload out; trailers and checks at `finish()`.

    `signer`: verify chunk (and trailer) signatures; None for unsigned chunks.
    `decoded_length`: the `x-amz-decoded-content-length` the client declared, if any.
    `trailer_names`: the `x-amz-trailer` header's names; a checksum trailer among them is
    computed over the payload and verified.
    """

    def __init__(
        self,
        signer: ChunkSigner | None = None,
        decoded_length: int | None = None,
        trailer_names: list[str] | tuple[str, ...] = (),
    ):
        self.signer = signer
        self.decoded_length = decoded_length
        self.trailer_names = [n.strip().lower() for n in trailer_names if n.strip()]
        self.trailers: dict[str, str] = {}
        self.length = 0
        self._buffer = bytearray()
        self._state = _HEADER
        self._remaining = 0
        self._chunk_signature: str | None = None
        self._chunk_hash = None
        self._trailer_signature: str | None = None
        self._checksums = {}
        for name in self.trailer_names:
            algorithm = checksums.algorithm_of(name)
            if algorithm is not None:
                self._checksums[name] = (algorithm, checksums.new(algorithm))

    # -- public ------------------------------------------------------------------------
    def feed(self, data: bytes) -> bytes:
        if self._state == _DONE:
            if data.strip(b"\r\n"):
                raise malformed("Unexpected data after the end of the aws-chunked body.")
            return b""
        self._buffer += data
        out = bytearray()
        pos = self._step_all(out)
        del self._buffer[:pos]
        return bytes(out)

    def finish(self) -> dict[str, str]:
        if self._state != _DONE:
            raise incomplete()
        if self.decoded_length is not None and self.length != self.decoded_length:
            raise incomplete()
        for name in self.trailer_names:
            if name not in self.trailers:
                raise malformed(f"The trailing header {name} was declared but not sent.")
        for name, (algorithm, checksum) in self._checksums.items():
            checksums.check(algorithm, checksum, self.trailers[name])
        return dict(self.trailers)

    # -- the state machine -------------------------------------------------------------
    def _step_all(self, out: bytearray) -> int:
        buf = self._buffer
        pos = 0
        while True:
            if self._state == _DATA:
                take = min(self._remaining, len(buf) - pos)
                if take == 0:
                    return pos
                piece = bytes(buf[pos:pos + take])
                self._consume(piece)
                out += piece
                pos += take
                self._remaining -= take
                if self._remaining == 0:
                    self._state = _DATA_END
                continue
            if self._state == _DATA_END:
                if len(buf) - pos < 2:
                    return pos
                if buf[pos:pos + 2] != b"\r\n":
                    raise malformed()
                pos += 2
                self._end_chunk()
                self._state = _HEADER
                continue
            if self._state == _DONE:
                return pos
            end = buf.find(b"\r\n", pos)
            if end < 0:
                if len(buf) - pos > MAX_LINE:
                    raise malformed()
                return pos
            line = bytes(buf[pos:end])
            pos = end + 2
            if self._state == _HEADER:
                self._chunk_header(line)
            else:
                self._trailer_line(line)

    def _chunk_header(self, line: bytes) -> None:
        try:
            text = line.decode("ascii")
        except UnicodeDecodeError:
            raise malformed() from None
        size_text, _, extensions = text.partition(";")
        try:
            size = int(size_text.strip(), 16)
        except ValueError:
            raise malformed() from None
        if size < 0:
            raise malformed()
        self._chunk_signature = None
        for extension in extensions.split(";") if extensions else ():
            key, _, value = extension.partition("=")
            if key.strip() == "chunk-signature":
                self._chunk_signature = value.strip()
        if self.signer is not None:
            self._chunk_hash = hashlib.sha256()
        if size == 0:
            self._end_chunk()
            self._state = _TRAILER
        else:
            self._remaining = size
            self._state = _DATA

    def _consume(self, piece: bytes) -> None:
        self.length += len(piece)
        if self.decoded_length is not None and self.length > self.decoded_length:
            raise s3_error(
                "IncompleteBody",
                "The decoded body is longer than x-amz-decoded-content-length.",
            )
        if self._chunk_hash is not None:
            self._chunk_hash.update(piece)
        for _, checksum in self._checksums.values():
            checksum.update(piece)

    def _end_chunk(self) -> None:
        if self.signer is not None:
            self.signer.verify_chunk(self._chunk_hash.hexdigest(), self._chunk_signature)

    def _trailer_line(self, line: bytes) -> None:
        if not line.strip():
            self._end_trailers()
            return
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            raise malformed() from None
        name, sep, value = text.partition(":")
        if not sep:
            raise malformed()
        name = name.strip().lower()
        if name == TRAILER_SIGNATURE:
            self._trailer_signature = value.strip()
        else:
            self.trailers[name] = value.strip()

    def _end_trailers(self) -> None:
        if self.signer is not None and (self.trailers or self._trailer_signature):
            self.signer.verify_trailer(self.trailers, self._trailer_signature)
        self._state = _DONE


def decode(body: bytes, **options) -> tuple[bytes, dict[str, str]]:
    """Decode a whole aws-chunked body at once: (payload, trailers)."""
    decoder = AwsChunkedDecoder(**options)
    payload = decoder.feed(body)
    return payload, decoder.finish()
