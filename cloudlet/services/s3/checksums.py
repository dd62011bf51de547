"""The flexible checksums (CRC32, CRC32C, CRC64NVME, SHA-1, SHA-256): incremental digests
with hashlib's interface, their response members, and checking what a client sent."""

from __future__ import annotations

import base64
import hashlib
import zlib

from cloudlet.services.s3 import errors

CHECKSUM_MEMBERS = {"crc32": "ChecksumCRC32", "crc32c": "ChecksumCRC32C",
                    "crc64nvme": "ChecksumCRC64NVME", "sha1": "ChecksumSHA1",
                    "sha256": "ChecksumSHA256"}


class _Crc:
    """An incremental CRC with hashlib's interface."""

    def __init__(self, fn, width: int):
        self._fn, self._width, self._value = fn, width, 0

    def update(self, data) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._width, "big")


def _awscrt(name: str):
    from awscrt import checksums as crt

    return getattr(crt, name)


CHECKSUMS = {
    "crc32": lambda: _Crc(zlib.crc32, 4),
    "crc32c": lambda: _Crc(_awscrt("crc32c"), 4),
    "crc64nvme": lambda: _Crc(_awscrt("crc64nvme"), 8),
    "sha1": hashlib.sha1,
    "sha256": hashlib.sha256,
}


def new_checksum(algorithm: str):
    return CHECKSUMS[algorithm]()


def b64digest(algorithm: str, data: bytes) -> str:
    digest = new_checksum(algorithm)
    digest.update(data)
    return base64.b64encode(digest.digest()).decode()


def check_checksum(algorithm: str, digest, sent: str) -> None:
    try:
        expected = base64.b64decode(sent.strip(), validate=True)
    except ValueError:
        expected = b""
    if len(expected) != len(digest.digest()):
        raise errors.InvalidChecksum(algorithm)
    if expected != digest.digest():
        raise errors.ChecksumMismatch(algorithm)


def checksum_result(record: dict) -> dict:
    result = {}
    for algorithm, value in (record.get("checksums") or {}).items():
        result[CHECKSUM_MEMBERS[algorithm]] = value
    if result:
        result["ChecksumType"] = record.get("checksum_type", "FULL_OBJECT")
    return result

