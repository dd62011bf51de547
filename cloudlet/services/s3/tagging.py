"""Tagging: a bucket's tag set and an object version's, with AWS's limits."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors
from cloudlet.services.s3.storage import S3Storage


class TaggingOperations:
    storage: S3Storage

    # -- buckets ----------------------------------------------------------------------------
    def get_bucket_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketTagging")
        tags = self.config.get(record["name"], "tagging")
        if tags is None:
            raise errors.NoSuchTagSet(record["name"])
        return {"TagSet": tags}

    def put_bucket_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketTagging")
        tags = (params.get("Tagging") or {}).get("TagSet")
        if tags is None:
            raise errors.MalformedXML()
        check_tags(tags, limit=50)
        self.config.put(record["name"], "tagging", tags)
        return {}

    def delete_bucket_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketTagging")
        self.config.delete(record["name"], "tagging")
        return {}

    # -- object versions --------------------------------------------------------------------
    def _tagging_result(self, record: dict) -> dict:
        result = {}
        if record["version_id"] != "null":
            result["VersionId"] = record["version_id"]
        return result

    def get_object_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self.subresource_version(ctx, params, "s3:GetObjectTagging")
        return {"TagSet": record.get("tags") or [], **self._tagging_result(record)}

    def put_object_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self.subresource_version(ctx, params, "s3:PutObjectTagging")
        tags = (params.get("Tagging") or {}).get("TagSet") or []
        if len(tags) > 10:
            raise errors.TooManyObjectTags()
        if len({t["Key"] for t in tags}) != len(tags):
            raise errors.DuplicateTagKey()
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"], tags=tags)
        return self._tagging_result(record)

    def delete_object_tagging(self, ctx: RequestContext, params: dict) -> dict:
        record = self.subresource_version(ctx, params, "s3:DeleteObjectTagging")
        self.storage.update_meta(record["bucket"], record["key"], record["version_id"], tags=[])
        return self._tagging_result(record)


def check_tags(tags: list[dict], limit: int) -> None:
    if len(tags) > limit:
        raise errors.TooManyBucketTags(limit)
    seen = set()
    for tag in tags:
        key, value = tag.get("Key"), tag.get("Value")
        if key is None or value is None:
            raise errors.MalformedXML()
        if key in seen:
            raise errors.DuplicateTagKey(key)
        seen.add(key)
        if key.lower().startswith("aws:"):
            raise errors.SystemTag()
        if not 1 <= len(key) <= 128:
            raise errors.InvalidTagKey(key)
        if len(value) > 256:
            raise errors.InvalidTagValue(key, value)


