"""What the authorizer asks other providers, cached until it changes.

    reads = CachedReads(providers)
    reads.cached(keys) -> {key: value} | None      # on the loop: all cached, or None
    reads.load(ctx, keys) -> {key: value}          # on a worker thread: SQLite reads
    reads.invalidate()                              # an IAM or bucket-policy change is coming

Keys are (kind, account, name): ("principal", account, arn) a user's or role's policies,
("user"|"role", account, name) its record (ARN with path, tags, trust policy),
("profile", account, name) the role an instance profile holds, ("bucket", "", name) a
bucket's policy and owner.
"""

from __future__ import annotations

import time

from cloudlet.errors import ServiceError


class CachedReads:
    """The IAM provider's answers the authorizer needs (a principal's policies, a user's or
    role's record, an instance profile's role), cached until IAM changes.

    Every IAM change arrives through the gateway, so the authorizer sees it coming: any IAM
    operation that is not a Get/List/Simulate clears the cache, and for `QUIET` seconds
    after it nothing is cached, so a read racing the write's commit cannot keep stale data.
    """

    QUIET = 2.0

    def __init__(self, providers: dict):
        self.providers = providers
        self.cache: dict[tuple, object] = {}
        self.quiet_until = 0.0

    def invalidate(self) -> None:
        self.quiet_until = time.monotonic() + self.QUIET
        self.cache.clear()

    def cached(self, needed: set[tuple]) -> dict | None:
        cache = self.cache
        if all(key in cache for key in needed):
            return {key: cache[key] for key in needed}
        return None

    def load(self, ctx, needed: set[tuple]) -> dict:
        """On a worker thread: the provider's reads touch SQLite."""
        values = {key: self.read(ctx, key) for key in needed}
        if time.monotonic() >= self.quiet_until:
            if len(self.cache) > 10_000:
                self.cache.clear()
            self.cache.update(values)
        return values

    def read(self, ctx, key: tuple):
        iam = self.providers.get("iam")
        if iam is None:
            return None
        kind, account, name = key
        if kind == "principal":
            return iam.principal_policies(account, name)
        if kind == "user":
            return iam.get_user(account, name)
        if kind == "role":
            return iam.get_role(account, name)
        if kind == "bucket":
            return self.bucket_policy(name)
        if kind == "profile":
            try:
                profile = iam.get_instance_profile(ctx, {"InstanceProfileName": name})
            except ServiceError:
                return None
            roles = profile["InstanceProfile"].get("Roles") or []
            return roles[0]["Arn"] if roles else None
        raise KeyError(kind)

    def bucket_policy(self, bucket: str) -> tuple[str, str] | None:
        """(policy text, owner account) of a bucket with a policy, from the S3 provider."""
        s3 = self.providers.get("s3")
        return s3.reads.bucket_policy(bucket) if s3 is not None else None
