"""A function's resource-based policy: AddPermission, RemovePermission, GetPolicy.

One policy per function, version or alias ("" for the unqualified function), in AWS's
shape: {"Version": "2012-10-17", "Id": "default", "Statement": [...]}. Each statement
allows one principal one action on the function, with the conditions AWS writes for
SourceArn (ArnLike AWS:SourceArn), SourceAccount, PrincipalOrgID, EventSourceToken and
FunctionUrlAuthType. The Invoke side reads it with `function_policy()` to judge S3, SNS
and other accounts' invocations.
"""

from __future__ import annotations

import json
import re
import uuid

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn

POLICY_LIMIT = 20480
_ACCOUNT = re.compile(r"\d{12}\Z")


def principal_of(principal: str) -> str | dict:
    """AddPermission's Principal as a policy writes it."""
    if principal == "*":
        return "*"
    if _ACCOUNT.match(principal):
        return {"AWS": f"arn:aws:iam::{principal}:root"}
    if principal.startswith("arn:"):
        return {"AWS": principal}
    return {"Service": principal}


def statement(params: dict, resource: str) -> dict:
    conditions: dict[str, dict] = {}
    if params.get("SourceAccount"):
        conditions.setdefault("StringEquals", {})["AWS:SourceAccount"] = params["SourceAccount"]
    if params.get("PrincipalOrgID"):
        conditions.setdefault("StringEquals", {})["aws:PrincipalOrgID"] = params["PrincipalOrgID"]
    if params.get("EventSourceToken"):
        conditions.setdefault("StringEquals", {})["lambda:EventSourceToken"] = \
            params["EventSourceToken"]
    if params.get("FunctionUrlAuthType"):
        conditions.setdefault("StringEquals", {})["lambda:FunctionUrlAuthType"] = \
            params["FunctionUrlAuthType"]
    if params.get("InvokedViaFunctionUrl"):
        conditions.setdefault("Bool", {})["lambda:InvokedViaFunctionUrl"] = "true"
    if params.get("SourceArn"):
        conditions["ArnLike"] = {"AWS:SourceArn": params["SourceArn"]}
    found = {"Sid": params["StatementId"], "Effect": "Allow",
             "Principal": principal_of(params["Principal"]), "Action": params["Action"],
             "Resource": resource}
    if conditions:
        found["Condition"] = conditions
    return found


class PolicyOperations:
    def _policy_target(self, ctx: RequestContext, params: dict) -> tuple[str, str]:
        name, qualifier = self._own(ctx, params)
        qualifier = "" if qualifier in (None, "", "$LATEST") else qualifier
        if qualifier:
            self.version_doc(ctx.account_id, ctx.region, name, qualifier)
        return name, qualifier

    def function_policy(self, account: str, region: str, name: str,
                        qualifier: str | None = None) -> dict | None:
        """The policy document of the function (or of a version/alias), or None."""
        key = "" if qualifier in (None, "", "$LATEST") else qualifier
        doc = self.lambdas.get("lambda_policies", account, region, name, key)
        if doc is None or not doc["Statement"]:
            return None
        return {k: v for k, v in doc.items() if not k.startswith("_")}

    def add_permission(self, ctx: RequestContext, params: dict) -> dict:
        with self.write_lock:
            name, qualifier = self._policy_target(ctx, params)
            account, region = ctx.account_id, ctx.region
            doc = self.lambdas.get("lambda_policies", account, region, name, qualifier) or {
                "Version": "2012-10-17", "Id": "default", "Statement": [], "_revision": ""}
            if params.get("RevisionId") and params["RevisionId"] != doc["_revision"]:
                raise errors.PreconditionFailed()
            if any(s["Sid"] == params["StatementId"] for s in doc["Statement"]):
                raise errors.ResourceConflict(
                    f"The statement id ({params['StatementId']}) provided already exists. Please "
                    "provide a new statement id, or remove the existing statement.")
            action = params["Action"]
            if not (action == "*" or action.startswith("lambda:")):
                raise errors.InvalidParameterValue(f"Invalid action: {action}")
            new = statement(params, function_arn(account, region, name, qualifier or None))
            doc["Statement"].append(new)
            public = {k: v for k, v in doc.items() if not k.startswith("_")}
            size = len(json.dumps(public))
            if size > POLICY_LIMIT:
                raise errors.PolicyLengthExceeded(
                    f"The final policy size ({size}) is bigger than the limit ({POLICY_LIMIT}).")
            doc["_revision"] = str(uuid.uuid4())
            self.lambdas.put("lambda_policies", account, region, name, qualifier, doc)
            return {"Statement": json.dumps(new)}

    def remove_permission(self, ctx: RequestContext, params: dict) -> dict:
        with self.write_lock:
            name, qualifier = self._policy_target(ctx, params)
            account, region = ctx.account_id, ctx.region
            doc = self.lambdas.get("lambda_policies", account, region, name, qualifier)
            if doc is None or not doc["Statement"]:
                raise errors.ResourceNotFound("No policy is associated with the given resource.")
            if params.get("RevisionId") and params["RevisionId"] != doc["_revision"]:
                raise errors.PreconditionFailed()
            kept = [s for s in doc["Statement"] if s["Sid"] != params["StatementId"]]
            if len(kept) == len(doc["Statement"]):
                raise errors.ResourceNotFound(
                    f"Statement {params['StatementId']} is not found in resource policy.")
            doc["Statement"], doc["_revision"] = kept, str(uuid.uuid4())
            self.lambdas.put("lambda_policies", account, region, name, qualifier, doc)
            return {}

    def get_policy(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._policy_target(ctx, params)
        doc = self.lambdas.get("lambda_policies", ctx.account_id, ctx.region, name, qualifier)
        if doc is None or not doc["Statement"]:
            raise errors.ResourceNotFound("The resource you requested does not exist.")
        public = {k: v for k, v in doc.items() if not k.startswith("_")}
        return {"Policy": json.dumps(public), "RevisionId": doc["_revision"]}
