"""S3's flexible checksums: CRC32, CRC32C, CRC64NVME, SHA1, SHA256, and Content-MD5.

A client names the algorithm in `x-amz-checksum-<algorithm>` (header or aws-chunked
trailer) and sends the digest base64-encoded, CRCs as big-endian integers. CRC32C and
CRC64NVME come from `awscrt`, the library botocore itself uses for them.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import zlib

from cloudlet.errors import ServiceError

HEADER_PREFIX = "x-amz-checksum-"


class Crc:
    """An incremental CRC with the hashlib interface (`update`, `digest`)."""

    def __init__(self, fn, width: int):
        self._fn = fn
        self._width = width
        self._value = 0

    def update(self, data: bytes) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def _crc32c(data: bytes, previous: int) -> int:
    from awscrt import checksums

    return checksums.crc32c(data, previous)


def _crc64nvme(data: bytes, previous: int) -> int:
    from awscrt import checksums

    return checksums.crc64nvme(data, previous)


ALGORITHMS = {
    "crc32": lambda: Crc(zlib.crc32, 4),
    "crc32c": lambda: Crc(_crc32c, 4),
    "crc64nvme": lambda: Crc(_crc64nvme, 8),
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}


def new(algorithm: str):
    """A fresh incremental checksum for `algorithm` (any case), or None if unknown."""
    factory = ALGORITHMS.get(algorithm.lower())
    return factory() if factory else None


def header_name(algorithm: str) -> str:
    return HEADER_PREFIX + algorithm.lower()


def algorithm_of(name: str) -> str | None:
    """`x-amz-checksum-crc32` -> `crc32`; None when the name is no known checksum header."""
    name = name.lower()
    if name.startswith(HEADER_PREFIX) and name[len(HEADER_PREFIX):] in ALGORITHMS:
        return name[len(HEADER_PREFIX):]
    return None


def b64digest(algorithm: str, data: bytes) -> str:
    checksum = new(algorithm)
    checksum.update(data)
    return base64.b64encode(checksum.digest()).decode("ascii")


def _decode(value: str) -> bytes | None:
    try:
        return base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None


def check(algorithm: str, checksum, expected_b64: str) -> None:
    """Raise S3's error when the computed `checksum` differs from the one the client sent."""
    expected = _decode(expected_b64)
    if expected is None or len(expected) != len(checksum.digest()):
        raise ServiceError(
            f"Value for {header_name(algorithm)} header is invalid.",
            code="InvalidRequest", status=400,
        )
    if expected != checksum.digest():
        raise ServiceError(
            f"The {algorithm.upper()} you specified did not match the calculated checksum.",
            code="BadDigest", status=400,
        )


def verify(algorithm: str, data: bytes, expected_b64: str) -> None:
    checksum = new(algorithm)
    checksum.update(data)
    check(algorithm, checksum, expected_b64)


def verify_content_md5(data: bytes, expected_b64: str) -> None:
    expected = _decode(expected_b64)
    if expected is None or len(expected) != 16:
        raise ServiceError(
            "The Content-MD5 you specified was invalid.", code="InvalidDigest", status=400
        )
    if hashlib.md5(data).digest() != expected:
        raise ServiceError(
            "The Content-MD5 you specified did not match what we received.",
            code="BadDigest", status=400,
        )


def verify_headers(headers, data: bytes) -> None:
    """Check every `x-amz-checksum-*` header and Content-MD5 the request carries."""
    for name, value in headers.items():
        if name.startswith(HEADER_PREFIX):
            algorithm = algorithm_of(name)
            if algorithm is not None:
                verify(algorithm, data, value)
        elif name == "content-md5":
            verify_content_md5(data, value)
