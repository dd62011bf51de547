"""What other services may read of S3, and the only S3 module they may import.

The S3 provider exposes one `S3Reads` as `provider.reads`. It reads, never writes, and
answers as S3 answers a bucket's owner: a failure is one of the S3 errors below, whose
`code` and `message` are S3's own (Lambda quotes them in its error for a package it
cannot read).

    bucket_owner(bucket)                              the owning account, or None
    bucket_policy(bucket)                             (policy text, owner) or None
    object_tags(bucket, key, version_id)              {key: value} ({} for no such key)
    object_bytes(account, region, bucket, key, version_id, caller)
        NoSuchBucket, AccessDenied (another account's bucket whose policy does not grant
        the caller s3:GetObject), PermanentRedirect (a bucket in another region), NoSuchKey
        (no such version, or a delete marker)
"""

from __future__ import annotations

from cloudlet.principals import Credential
from cloudlet.services import accounts
from cloudlet.services.s3.errors import (
    AccessDenied,
    NoSuchBucket,
    NoSuchKey,
    PermanentRedirect,
    S3Error,
)
from cloudlet.services.s3.storage import S3Storage

__all__ = ["AccessDenied", "NoSuchBucket", "NoSuchKey", "PermanentRedirect", "S3Error",
           "S3Reads"]


class S3Reads:
    def __init__(self, storage: S3Storage | None, policy_of=None):
        self._storage = storage  # None: no S3 provider, so no bucket exists
        self._policy_of = policy_of  # bucket name -> its policy's text, or None

    def bucket_owner(self, bucket: str) -> str | None:
        found = self._storage.get_bucket(bucket) if self._storage is not None else None
        return found["account"] if found else None

    def bucket_policy(self, bucket: str) -> tuple[str, str] | None:
        """(policy text, owner account) of a bucket that has a policy (the authorizer weighs
        it as the resource-based policy)."""
        text = self._policy_of(bucket) if self._policy_of is not None else None
        owner = self.bucket_owner(bucket) if text else None
        return (text, owner) if owner else None

    def _granted(self, bucket: dict, key: str, version_id: str | None,
                 caller: Credential | None) -> bool:
        text = self._policy_of(bucket["name"]) if self._policy_of is not None else None
        if caller is None or text is None:
            return False
        action = "s3:GetObjectVersion" if version_id else "s3:GetObject"
        return accounts.principal_grants(accounts.principal_of(caller), text, action,
                                         f"arn:aws:s3:::{bucket['name']}/{key}",
                                         bucket["account"])

    def object_tags(self, bucket: str, key: str, version_id: str | None = None) -> dict:
        """An object version's tags (s3:ExistingObjectTag/*); {} when there is none."""
        record = self._storage.get_object(bucket, key, version_id) if self._storage else None
        return dict(_pairs((record or {}).get("tags")))

    def object_bytes(self, account: str, region: str, bucket: str, key: str,
                     version_id: str | None = None, caller: Credential | None = None) -> bytes:
        """A version's bytes (the latest without `version_id`), read by `account` through
        `region`'s endpoint; another account's bucket only as its policy grants `caller`
        (the request's signer, whom the service reads for) s3:GetObject."""
        found = self._storage.get_bucket(bucket) if self._storage is not None else None
        if found is None:
            raise NoSuchBucket(bucket)
        if found["account"] != account and not self._granted(found, key, version_id, caller):
            raise AccessDenied()
        if found["region"] != region:
            raise PermanentRedirect(found["region"])
        record = self._storage.get_object(bucket, key, version_id)
        if record is None or record.get("delete_marker"):
            raise NoSuchKey(key)
        return self._storage.blobs.read(record["blob"]) if record.get("blob") else b""


def _pairs(tags) -> list[tuple[str, str]]:
    """S3 keeps an object's tags as a map, a TagSet list or a list of pairs."""
    if isinstance(tags, dict):
        return [(str(k), str(v)) for k, v in tags.items()]
    pairs = []
    for tag in tags or []:
        if isinstance(tag, dict):
            pairs.append((str(tag.get("Key")), str(tag.get("Value", ""))))
        elif isinstance(tag, list | tuple) and len(tag) == 2:
            pairs.append((str(tag[0]), str(tag[1])))
    return pairs
