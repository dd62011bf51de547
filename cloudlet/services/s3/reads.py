"""What other services may read of S3: the one module of S3 that another service imports.

    s3 = S3Reads(providers.get("s3"))            # in the reader's attach()
    s3.bucket(name)                          # {name, account, region}, or None
    s3.object_bytes(bucket, key, version)    # the object's bytes; None for no such key
                                             # (or a delete marker)

Lambda reads deployment packages (`Code.S3Bucket`) and notification buckets' owners. The
caller judges access itself (the bucket's account against its own). Built on None (no S3
provider), it answers that nothing exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from cloudlet.services.s3.provider import S3Provider


class S3Reads:
    def __init__(self, provider: S3Provider | None):
        self._storage = provider.storage if provider is not None else None

    def bucket(self, name: str) -> dict | None:
        found = self._storage.get_bucket(name) if self._storage is not None else None
        if found is None:
            return None
        return {"name": found["name"], "account": found["account"], "region": found["region"]}

    def object_bytes(self, bucket: str, key: str, version: str | None = None) -> bytes | None:
        if self._storage is None:
            return None
        record = self._storage.get_object(bucket, key, version)
        if record is None or record.get("delete_marker"):
            return None
        return self._storage.blobs.read(record["blob"]) if record.get("blob") else b""
