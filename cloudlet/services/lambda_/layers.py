"""Layers: PublishLayerVersion (zip inline or from S3), Get/List/Delete, and the layer
version's permissions (AddLayerVersionPermission & co).

A layer version's zip is checked and unpacked like a function's code (code.py); a function
that names it gets the unpacked directory in FunctionSpec.layer_dirs, merged under /opt by
the engine. Version numbers are never reused, even after a delete, as on AWS.
"""

from __future__ import annotations

import json
import re
import uuid

from cloudlet.services import accounts
from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import paginate, timestamp

_LAYER_ARN = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]+)(?::(\d+))?\Z")


def layer_arn(account: str, region: str, name: str, version: int | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account}:layer:{name}"
    return f"{arn}:{version}" if version is not None else arn


class LayerOperations:
    def _layer_name(self, ctx: RequestContext, value: str) -> tuple[str, str]:
        """(account, name) of a LayerName that is a name or a layer ARN."""
        match = _LAYER_ARN.match(value)
        if match:
            return match.group(2), match.group(3)
        return ctx.account_id, value

    def layer_usable(self, ctx: RequestContext, owner: str, policy: dict | None,
                     arn: str) -> None:
        """A layer version of another account is used (read, or named by a function) only
        as its policy allows lambda:GetLayerVersion (AddLayerVersionPermission)."""
        if owner == ctx.account_id:
            return
        if policy is not None:
            policy = {k: v for k, v in policy.items() if not k.startswith("_")}
        if not accounts.grants(ctx, policy, "lambda:GetLayerVersion", arn, owner):
            raise errors.AccessDenied(accounts.not_authorized(ctx, "lambda:GetLayerVersion",
                                                              arn))

    def _layer_public(self, doc: dict) -> dict:
        out = {k: v for k, v in doc.items() if not k.startswith("_")}
        out["Content"] = {**doc["Content"], "Location": self.code_url(doc["_hex"])}
        return out

    def publish_layer_version(self, ctx: RequestContext, params: dict) -> dict:
        self.note_endpoint(ctx)
        account, name = self._layer_name(ctx, params["LayerName"])
        if account != ctx.account_id:
            raise errors.InvalidParameterValue("Layers can only be published in your account.")
        content = params["Content"]
        data = self._zip_of(ctx, content, "PublishLayerVersion")
        with self.write_lock:
            package = self.codes.add(data)
            version = self.lambdas.next_layer_version(account, ctx.region, name)
            doc = self._layer_doc(ctx, params, account, name, version, package)
            self.lambdas.put_layer_version(account, ctx.region, name, version, doc)
        return self._layer_public(doc)

    @staticmethod
    def _layer_doc(ctx: RequestContext, params: dict, account: str, name: str, version: int,
                   package) -> dict:
        doc = {"Content": {"CodeSha256": package.sha256, "CodeSize": package.size},
               "LayerArn": layer_arn(account, ctx.region, name),
               "LayerVersionArn": layer_arn(account, ctx.region, name, version),
               "Description": params.get("Description", ""), "CreatedDate": timestamp(),
               "Version": version, "_hex": package.hex, "_unzipped": package.unzipped}
        for member in ("CompatibleRuntimes", "CompatibleArchitectures", "LicenseInfo"):
            if params.get(member):
                doc[member] = params[member]
        return doc

    def _layer_version(self, ctx: RequestContext, account: str, name: str,
                       version: int) -> tuple[dict, dict | None]:
        found = self.lambdas.layer_version(account, ctx.region, name, version)
        self.layer_usable(ctx, account, found[1] if found else None,
                          layer_arn(account, ctx.region, name, version))
        if found is None:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        return found

    def get_layer_version(self, ctx: RequestContext, params: dict) -> dict:
        self.note_endpoint(ctx)
        account, name = self._layer_name(ctx, params["LayerName"])
        return self._layer_public(self._layer_version(ctx, account, name,
                                                      params["VersionNumber"])[0])

    def get_layer_version_by_arn(self, ctx: RequestContext, params: dict) -> dict:
        self.note_endpoint(ctx)
        match = _LAYER_ARN.match(params["Arn"])
        if match is None or match.group(4) is None:
            raise errors.Validation(
                f"1 validation error detected: Value '{params['Arn']}' at 'arn' failed to "
                "satisfy constraint: Member must satisfy regular expression pattern: "
                "arn:(aws[a-zA-Z-]*)?:lambda:[a-z]{2}((-gov)|(-iso(b?)))?-[a-z]+-\\d{1}:"
                "\\d{12}:layer:[a-zA-Z0-9-_]+:[0-9]+")
        if match.group(1) != ctx.region:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        return self._layer_public(self._layer_version(
            ctx, match.group(2), match.group(3), int(match.group(4)))[0])

    @staticmethod
    def _compatible(doc: dict, params: dict) -> bool:
        runtime, arch = params.get("CompatibleRuntime"), params.get("CompatibleArchitecture")
        return (not runtime or runtime in doc.get("CompatibleRuntimes", [])) and (
            not arch or arch in doc.get("CompatibleArchitectures", []))

    def list_layer_versions(self, ctx: RequestContext, params: dict) -> dict:
        self.note_endpoint(ctx)
        account, name = self._layer_name(ctx, params["LayerName"])
        if account != ctx.account_id:  # a layer's policy grants its versions, not the list
            raise errors.AccessDenied(accounts.not_authorized(
                ctx, "lambda:ListLayerVersions", layer_arn(account, ctx.region, name)))
        docs = [d for d in self.lambdas.layer_versions(account, ctx.region, name)
                if self._compatible(d, params)]
        page, marker = paginate(docs, params, lambda d: str(d["Version"]))
        result = {"LayerVersions": [self._summary(d) for d in page]}
        if marker:
            result["NextMarker"] = marker
        return result

    @staticmethod
    def _summary(doc: dict) -> dict:
        return {k: v for k, v in doc.items() if not k.startswith("_")
                and k not in ("Content", "LayerArn")}

    def list_layers(self, ctx: RequestContext, params: dict) -> dict:
        latest: dict[str, dict] = {}
        for doc in self.lambdas.layer_versions(ctx.account_id, ctx.region):
            if self._compatible(doc, params):
                latest.setdefault(doc["LayerArn"], doc)  # newest first
        layers = [{"LayerName": arn.rsplit(":", 1)[1], "LayerArn": arn,
                   "LatestMatchingVersion": self._summary(doc)}
                  for arn, doc in sorted(latest.items())]
        page, marker = paginate(layers, params, lambda d: d["LayerName"])
        result = {"Layers": page}
        if marker:
            result["NextMarker"] = marker
        return result

    def delete_layer_version(self, ctx: RequestContext, params: dict) -> dict:
        account, name = self._layer_name(ctx, params["LayerName"])
        found = self.lambdas.layer_version(account, ctx.region, name, params["VersionNumber"])
        if account == ctx.account_id and found is not None:
            self.lambdas.delete_layer_version(account, ctx.region, name, params["VersionNumber"])
            self.collect_code(found[0]["_hex"])
        return {}

    # -- permissions ------------------------------------------------------------------------
    def add_layer_version_permission(self, ctx: RequestContext, params: dict) -> dict:
        account, name = self._layer_name(ctx, params["LayerName"])
        version = params["VersionNumber"]
        found = self.lambdas.layer_version(account, ctx.region, name, version)
        if found is None or account != ctx.account_id:
            raise errors.ResourceNotFound("Layer version "
                                          f"{layer_arn(account, ctx.region, name, version)} "
                                          "does not exist.")
        doc, policy = found
        policy = policy or {"Version": "2012-10-17", "Id": "default", "Statement": [],
                            "_revision": ""}
        if params.get("RevisionId") and params["RevisionId"] != policy["_revision"]:
            raise errors.PreconditionFailed()
        if params["Action"] != "lambda:GetLayerVersion":
            raise errors.Validation(
                f"1 validation error detected: Value '{params['Action']}' at 'action' failed "
                "to satisfy constraint: Member must satisfy regular expression pattern: "
                "lambda:GetLayerVersion")
        if any(s["Sid"] == params["StatementId"] for s in policy["Statement"]):
            raise errors.ResourceConflict(
                f"The statement id ({params['StatementId']}) provided already exists. Please "
                "provide a new statement id, or remove the existing statement.")
        principal = params["Principal"]
        statement = {"Sid": params["StatementId"], "Effect": "Allow",
                     "Principal": principal if principal == "*" else
                     {"AWS": f"arn:aws:iam::{principal}:root"},
                     "Action": "lambda:GetLayerVersion",
                     "Resource": layer_arn(account, ctx.region, name, version)}
        if params.get("OrganizationId"):
            statement["Condition"] = {"StringEquals": {"aws:PrincipalOrgID":
                                                       params["OrganizationId"]}}
        policy["Statement"].append(statement)
        policy["_revision"] = str(uuid.uuid4())
        self.lambdas.put_layer_version(account, ctx.region, name, version, doc, policy)
        return {"Statement": json.dumps(statement), "RevisionId": policy["_revision"]}

    def _layer_policy(self, ctx: RequestContext, params: dict):
        account, name = self._layer_name(ctx, params["LayerName"])
        found = self.lambdas.layer_version(account, ctx.region, name, params["VersionNumber"])
        if found is None or account != ctx.account_id:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        return account, name, found[0], found[1]

    def get_layer_version_policy(self, ctx: RequestContext, params: dict) -> dict:
        _, _, _, policy = self._layer_policy(ctx, params)
        if not policy or not policy["Statement"]:
            raise errors.ResourceNotFound("No policy is associated with the given resource.")
        public = {k: v for k, v in policy.items() if not k.startswith("_")}
        return {"Policy": json.dumps(public), "RevisionId": policy["_revision"]}

    def remove_layer_version_permission(self, ctx: RequestContext, params: dict) -> dict:
        account, name, doc, policy = self._layer_policy(ctx, params)
        if params.get("RevisionId") and policy and params["RevisionId"] != policy["_revision"]:
            raise errors.PreconditionFailed()
        statements = (policy or {}).get("Statement", [])
        kept = [s for s in statements if s["Sid"] != params["StatementId"]]
        if len(kept) == len(statements):
            raise errors.ResourceNotFound(
                f"Statement {params['StatementId']} is not found in resource policy.")
        policy.update(Statement=kept, _revision=str(uuid.uuid4()))
        self.lambdas.put_layer_version(account, ctx.region, name, params["VersionNumber"], doc,
                                       policy)
        return {}
