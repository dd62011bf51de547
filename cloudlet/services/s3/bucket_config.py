"""Where a bucket's configuration subresources live: `s3_bucket_config`, one JSON row per
bucket and subresource (`BucketConfig`), shared by the configuration families (lifecycle,
policy, ACL, Block Public Access, Object Ownership, CORS, tagging, encryption,
notifications, website, logging, accelerate, request payment, replication and Object
Lock; versioning is on the bucket record). Where AWS has a default for a new bucket (Block
Public Access all on, BucketOwnerEnforced, SSE-S3), no row means the default; a deleted
configuration with a default is a row holding `null` (`DELETED`).

`BucketConfigOperations` gives the families `self.config` and `_owned` (the bucket a
configuration request names, after the access check), and the core's hook
`bucket_deleted`.
"""

from __future__ import annotations

import json
import threading

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.store import Store

DELETED = object()


class BucketConfig:
    """The `s3_bucket_config` table: get/put/delete one subresource of one bucket."""

    def __init__(self, store: Store):
        self.db = store.db
        self._lock = threading.Lock()
        self.generation = 0  # bumped on every change, so sweepers and caches notice

    def get(self, bucket: str, name: str, default=None):
        rows = self.db.query("SELECT value FROM s3_bucket_config WHERE bucket = ? AND name = ?",
                             (bucket, name))
        if not rows:
            return default
        value = json.loads(rows[0]["value"])
        return DELETED if value is None else value

    def put(self, bucket: str, name: str, value) -> None:
        with self.db.transaction() as conn:
            conn.execute("INSERT OR REPLACE INTO s3_bucket_config VALUES (?, ?, ?, ?)",
                         (bucket, name, json.dumps(value, default=str), clock.timestamp()))
        self.generation += 1

    def delete(self, bucket: str, name: str, keep_marker: bool = False) -> None:
        if keep_marker:
            self.put(bucket, name, None)
            return
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM s3_bucket_config WHERE bucket = ? AND name = ?",
                         (bucket, name))
        self.generation += 1

    def buckets_with(self, name: str) -> list[tuple[str, object]]:
        rows = self.db.query("SELECT bucket, value FROM s3_bucket_config WHERE name = ? AND "
                             "value != 'null'", (name,))
        return [(r["bucket"], json.loads(r["value"])) for r in rows]

    def drop_bucket(self, bucket: str) -> None:
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM s3_bucket_config WHERE bucket = ?", (bucket,))
        self.generation += 1


class BucketConfigOperations:
    store: Store

    @property
    def config(self) -> BucketConfig:
        found = self.__dict__.get("_bucket_config")
        if found is None:
            found = self.__dict__["_bucket_config"] = BucketConfig(self.store)
        return found

    def _owned(self, ctx: RequestContext, params: dict, action: str) -> dict:
        return self.bucket(ctx, params["Bucket"], action)

    # -- the core's hook: DeleteBucket ---------------------------------------------------
    def bucket_deleted(self, name: str) -> None:
        self.config.drop_bucket(name)
