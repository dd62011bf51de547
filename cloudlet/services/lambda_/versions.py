"""Versions and aliases.

PublishVersion snapshots $LATEST as the next number; publishing again with nothing changed
(same code, same configuration) answers the last version, as AWS does. An alias points at
a version and may send a share of invocations to one other version
(RoutingConfig.AdditionalVersionWeights): `route()` picks per invocation.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import uuid

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import (
    config_digest,
    function_arn,
    paginate,
    public,
    timestamp,
)

_ALIAS = re.compile(r"(?!^[0-9]+$)[a-zA-Z0-9_-]{1,128}\Z")


class VersionOperations:
    # -- versions -----------------------------------------------------------------------
    @staticmethod
    def publish_digest(doc: dict) -> str:
        """What makes a new version necessary: the code and the configuration."""
        return hashlib.sha256(f"{doc['CodeSha256']}:{config_digest(doc)}:"
                              f"{doc.get('Description', '')}".encode()).hexdigest()

    @staticmethod
    def version_from(latest: dict, version: str, description: str | None = None) -> dict:
        doc = json.loads(json.dumps(latest))
        doc.update(Version=version, RevisionId=str(uuid.uuid4()), LastModified=timestamp(),
                   FunctionArn=f"{latest['FunctionArn']}:{version}")
        if description is not None:
            doc["Description"] = description
        doc.pop("_updating_until", None)
        return doc

    def publish(self, account: str, region: str, name: str, latest: dict,
                description: str | None = None) -> dict:
        function = self.function_doc(account, region, name)
        digest = self.publish_digest(latest)
        published = function.setdefault("Published", {})
        for version, seen in sorted(published.items(), key=lambda i: -int(i[0])):
            if seen == digest:
                found = self.lambdas.get("lambda_versions", account, region, name, version)
                if found is not None:
                    return found
            break
        version = str(function["NextVersion"])
        function["NextVersion"] += 1
        published[version] = digest
        doc = self.version_from(latest, version, description)
        self.lambdas.put_version(account, region, name, doc, function)
        return doc

    def publish_version(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        with self.write_lock:  # one publish at a time: version numbers are taken in order
            latest = self.version_doc(ctx.account_id, ctx.region, name)
            self._check_updatable(latest, params.get("RevisionId"))
            if params.get("CodeSha256") and params["CodeSha256"] != latest["CodeSha256"]:
                raise errors.InvalidParameterValue(
                    f"CodeSHA256 ({params['CodeSha256']}) is different from current CodeSHA256 "
                    f"in $LATEST ({latest['CodeSha256']}). Please try again with the current "
                    "CodeSHA256.")
            return public(self.publish(ctx.account_id, ctx.region, name, latest,
                                       params.get("Description")))

    def list_versions_by_function(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        docs = self.lambdas.versions(ctx.account_id, ctx.region, name)
        page, marker = paginate(docs, params, lambda d: d["Version"])
        result = {"Versions": [public(d, qualified=True) for d in page]}
        if marker:
            result["NextMarker"] = marker
        return result

    # -- aliases ------------------------------------------------------------------------
    @staticmethod
    def route(alias: dict) -> str:
        """The version one invocation of the alias runs."""
        weights = (alias.get("RoutingConfig") or {}).get("AdditionalVersionWeights") or {}
        roll = random.random()
        for version, weight in weights.items():
            if roll < weight:
                return version
            roll -= weight
        return alias["FunctionVersion"]

    def _check_version(self, ctx: RequestContext, name: str, version: str) -> None:
        if version != "$LATEST" and self.lambdas.get(
                "lambda_versions", ctx.account_id, ctx.region, name, version) is None:
            raise errors.ResourceNotFound(
                f"Function not found: {function_arn(ctx.account_id, ctx.region, name, version)}")

    def _check_routing(self, ctx: RequestContext, name: str, primary: str,
                       routing: dict | None) -> dict | None:
        if routing is None:
            return None
        weights = routing.get("AdditionalVersionWeights") or {}
        if len(weights) > 1:
            raise errors.InvalidParameterValue(
                "Number of items in AdditionalVersionWeights cannot be greater than 1")
        for version, weight in weights.items():
            if not version.isdigit() or primary == "$LATEST":
                raise errors.InvalidParameterValue(
                    "$LATEST is not supported for an alias pointing to more than 1 version")
            if version == primary:
                raise errors.InvalidParameterValue(
                    f"Invalid function version {version}. Function version {version} is "
                    "already included in routing configuration.")
            if not 0.0 <= weight <= 1.0:
                raise errors.Validation(
                    "1 validation error detected: Value at 'routingConfig."
                    "additionalVersionWeights' failed to satisfy constraint: Map value must "
                    "satisfy constraint: [Member must have value less than or equal to 1.0, "
                    "Member must have value greater than or equal to 0.0]")
            self._check_version(ctx, name, version)
            versions = {doc["Version"]: doc for doc in self.lambdas.versions(
                ctx.account_id, ctx.region, name)}
            if primary in versions and versions[primary]["Runtime"] != versions[version]["Runtime"]:
                raise errors.InvalidParameterValue(
                    "Alias with weights can not be used with versions of different runtimes.")
        return {"AdditionalVersionWeights": dict(weights)}

    def create_alias(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        alias = params["Name"]
        if not _ALIAS.match(alias):
            raise errors.Validation(
                f"1 validation error detected: Value '{alias}' at 'name' failed to satisfy "
                "constraint: Member must satisfy regular expression pattern: "
                "(?!^[0-9]+$)([a-zA-Z0-9-_]+)")
        arn = function_arn(ctx.account_id, ctx.region, name, alias)
        if self.lambdas.get("lambda_aliases", ctx.account_id, ctx.region, name, alias):
            raise errors.ResourceConflict(f"Alias already exists: {arn}")
        self._check_version(ctx, name, params["FunctionVersion"])
        doc = {"AliasArn": arn, "Name": alias, "FunctionVersion": params["FunctionVersion"],
               "Description": params.get("Description", ""), "RevisionId": str(uuid.uuid4())}
        routing = self._check_routing(ctx, name, params["FunctionVersion"],
                                      params.get("RoutingConfig"))
        if routing is not None:
            doc["RoutingConfig"] = routing
        self.lambdas.put("lambda_aliases", ctx.account_id, ctx.region, name, alias, doc)
        return doc

    def _alias(self, ctx: RequestContext, params: dict) -> tuple[str, dict]:
        name, _ = self._own(ctx, params, qualifier="")
        doc = self.lambdas.get("lambda_aliases", ctx.account_id, ctx.region, name,
                               params["Name"])
        if doc is None:
            raise errors.ResourceNotFound(
                f"Alias not found: {function_arn(ctx.account_id, ctx.region, name, params['Name'])}")
        return name, doc

    def get_alias(self, ctx: RequestContext, params: dict) -> dict:
        return self._alias(ctx, params)[1]

    def update_alias(self, ctx: RequestContext, params: dict) -> dict:
        name, doc = self._alias(ctx, params)
        if params.get("RevisionId") and params["RevisionId"] != doc["RevisionId"]:
            raise errors.PreconditionFailed()
        if params.get("FunctionVersion"):
            self._check_version(ctx, name, params["FunctionVersion"])
            doc["FunctionVersion"] = params["FunctionVersion"]
        if params.get("Description") is not None:
            doc["Description"] = params["Description"]
        if params.get("RoutingConfig") is not None:
            routing = self._check_routing(ctx, name, doc["FunctionVersion"],
                                          params["RoutingConfig"])
            doc["RoutingConfig"] = routing
            if not routing["AdditionalVersionWeights"]:
                doc.pop("RoutingConfig")
        doc["RevisionId"] = str(uuid.uuid4())
        self.lambdas.put("lambda_aliases", ctx.account_id, ctx.region, name, doc["Name"], doc)
        return doc

    def delete_alias(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        self.lambdas.delete("lambda_aliases", ctx.account_id, ctx.region, name, params["Name"])
        self.lambdas.delete("lambda_policies", ctx.account_id, ctx.region, name, params["Name"])
        self.lambdas.delete("lambda_url_configs", ctx.account_id, ctx.region, name,
                            params["Name"])
        return {}

    def list_aliases(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        docs = self.lambdas.items("lambda_aliases", ctx.account_id, ctx.region, name)
        if params.get("FunctionVersion"):
            docs = [d for d in docs if d["FunctionVersion"] == params["FunctionVersion"]]
        page, marker = paginate(docs, params, lambda d: d["Name"])
        result = {"Aliases": page}
        if marker:
            result["NextMarker"] = marker
        return result

    def alias_exists(self, account: str, region: str, name: str, alias: str) -> bool:
        return self.lambdas.get("lambda_aliases", account, region, name, alias) is not None
