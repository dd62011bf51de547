"""Our checksums equal botocore's, for every algorithm S3 accepts."""

from __future__ import annotations

import base64
import hashlib

import pytest
from botocore.httpchecksum import (
    Crc32Checksum,
    CrtCrc32cChecksum,
    CrtCrc64NvmeChecksum,
    Sha1Checksum,
    Sha256Checksum,
)

from cloudlet.auth import checksums
from cloudlet.errors import ServiceError
from cloudlet.protocols.base import Headers

BOTOCORE = {"crc32": Crc32Checksum, "crc32c": CrtCrc32cChecksum,
            "crc64nvme": CrtCrc64NvmeChecksum, "sha1": Sha1Checksum, "sha256": Sha256Checksum}


@pytest.mark.parametrize("algorithm", sorted(BOTOCORE))
@pytest.mark.parametrize("data", [b"", b"a", b"hello world" * 999])
def test_checksum_equals_botocore(algorithm, data):
    theirs = BOTOCORE[algorithm]()
    theirs.update(data)
    assert checksums.b64digest(algorithm, data) == theirs.b64digest()
    checksums.verify(algorithm, data, theirs.b64digest())
    with pytest.raises(ServiceError) as info:
        checksums.verify(algorithm, data + b"!", theirs.b64digest())
    assert info.value.code == "BadDigest"


def test_header_checksums_and_content_md5():
    data = b"payload"
    good = Headers([("x-amz-checksum-crc32", checksums.b64digest("crc32", data)),
                    ("Content-MD5", "Mhw89IbtUJFk7eweGYH+yA=="),  # md5(b"payload")
                    ("x-amz-checksum-type", "FULL_OBJECT")])
    assert base64.b64encode(hashlib.md5(data).digest()).decode() == "Mhw89IbtUJFk7eweGYH+yA=="
    checksums.verify_headers(good, data)
    with pytest.raises(ServiceError) as info:
        checksums.verify_headers(good, b"other")
    assert info.value.code == "BadDigest"
    with pytest.raises(ServiceError) as info:
        checksums.verify_headers(Headers([("Content-MD5", "nope")]), data)
    assert info.value.code == "InvalidDigest"
