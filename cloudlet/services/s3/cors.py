"""CORS: the bucket's rules (Get/Put/DeleteBucketCors), the preflight `OPTIONS` answer and
the `Access-Control-*` headers of an actual cross-origin request.

The gateway asks the provider, for S3 requests that carry an `Origin`:
`cors_preflight(bucket, origin, method, request_headers)` for an OPTIONS request (headers,
or a 403/400 error in AWS's words) and `cors_headers(bucket, origin, method)` for any other
(headers to add, empty when no rule matches). The first rule that matches wins.
"""

from __future__ import annotations

import re

from cloudlet.services.base import RequestContext
from cloudlet.services.s3 import errors

METHODS = ("GET", "PUT", "HEAD", "POST", "DELETE")
MAX_RULES = 100
VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"


def check_rules(rules: list[dict]) -> None:
    if not rules:
        raise errors.MalformedXML()
    if len(rules) > MAX_RULES:
        raise errors.TooManyCorsRules()
    for rule in rules:
        if not rule.get("AllowedMethods") or not rule.get("AllowedOrigins"):
            raise errors.MalformedXML()
        for method in rule["AllowedMethods"]:
            if method not in METHODS:
                raise errors.CorsUnsupportedMethod(method)
        for origin in rule["AllowedOrigins"]:
            if origin.count("*") > 1:
                raise errors.CorsWildcards("AllowedOrigin", origin)
        for header in rule.get("AllowedHeaders") or []:
            if header.count("*") > 1:
                raise errors.CorsWildcards("AllowedHeader", header)


def _wildcard(pattern: str, value: str, ignore_case: bool = False) -> bool:
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.I if ignore_case else 0) is not None


def matching_rule(rules: list[dict], origin: str, method: str,
                  request_headers: list[str] = ()) -> dict | None:
    for rule in rules:
        if not any(_wildcard(o, origin) for o in rule["AllowedOrigins"]):
            continue
        if method not in rule["AllowedMethods"]:
            continue
        allowed = rule.get("AllowedHeaders") or []
        if all(any(_wildcard(a, h, True) for a in allowed) for h in request_headers):
            return rule
    return None


def response_headers(rule: dict, origin: str, request_headers: list[str] = ()) -> dict:
    wildcard = "*" in rule["AllowedOrigins"]
    headers = {
        "Access-Control-Allow-Origin": "*" if wildcard else origin,
        "Access-Control-Allow-Methods": ", ".join(rule["AllowedMethods"]),
        "Vary": VARY,
    }
    if not wildcard:
        headers["Access-Control-Allow-Credentials"] = "true"
    if request_headers:
        headers["Access-Control-Allow-Headers"] = ", ".join(h.lower() for h in request_headers)
    if rule.get("ExposeHeaders"):
        headers["Access-Control-Expose-Headers"] = ", ".join(rule["ExposeHeaders"])
    if rule.get("MaxAgeSeconds") is not None:
        headers["Access-Control-Max-Age"] = str(rule["MaxAgeSeconds"])
    return headers


def split_headers(value: str | None) -> list[str]:
    return [h.strip() for h in (value or "").split(",") if h.strip()]


class CorsOperations:
    def get_bucket_cors(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:GetBucketCORS")
        rules = self.config.get(record["name"], "cors")
        if rules is None:
            raise errors.NoSuchCORSConfiguration(record["name"])
        return {"CORSRules": rules}

    def put_bucket_cors(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:PutBucketCORS")
        rules = (params.get("CORSConfiguration") or {}).get("CORSRules") or []
        check_rules(rules)
        self.config.put(record["name"], "cors", rules)
        return {}

    def delete_bucket_cors(self, ctx: RequestContext, params: dict) -> dict:
        record = self.bucket(ctx, params["Bucket"], "s3:PutBucketCORS")
        self.config.delete(record["name"], "cors")
        return {}

    # -- answering browsers -------------------------------------------------------------
    def _cors_rules(self, bucket: str) -> list[dict] | None:
        cache = self.__dict__.setdefault("_cors_cache", {})
        generation = self.config.generation
        hit = cache.get(bucket)
        if hit is None or hit[0] != generation:
            hit = cache[bucket] = (generation, self.config.get(bucket, "cors"))
        return hit[1]

    def cors_preflight(self, bucket: str, origin: str | None, method: str | None,
                       request_headers: str | None) -> dict:
        """The headers for a preflight OPTIONS, or the S3Error AWS answers."""
        if not origin:
            raise errors.PreflightWithoutOrigin()
        if not method:
            raise errors.PreflightWithoutMethod()
        if self.storage.get_bucket(bucket) is None:
            raise errors.NoSuchBucket(bucket)
        rules = self._cors_rules(bucket)
        if rules is None:
            raise errors.CorsNotEnabled(method)
        headers = split_headers(request_headers)
        rule = matching_rule(rules, origin, method, headers)
        if rule is None:
            raise errors.CorsNotAllowed(method)
        return response_headers(rule, origin, headers)

    def cors_headers(self, bucket: str, origin: str, method: str) -> dict:
        """The Access-Control-* headers of an actual request; {} when no rule matches."""
        rules = self._cors_rules(bucket) if bucket else None
        if not rules:
            return {}
        rule = matching_rule(rules, origin, method.upper())
        return response_headers(rule, origin) if rule else {}
