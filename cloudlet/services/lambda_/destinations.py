"""Asynchronous invocation settings: PutFunctionEventInvokeConfig & co.

Stored per function, version or alias ("$LATEST" for the unqualified function). The Invoke
side reads them with `event_invoke_config()` for retries (MaximumRetryAttempts 0-2), the
maximum event age (60-21600 s) and the OnSuccess/OnFailure destinations.
"""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn, paginate

_MEMBERS = ("MaximumRetryAttempts", "MaximumEventAgeInSeconds", "DestinationConfig")


class DestinationOperations:
    def _invoke_target(self, ctx: RequestContext, params: dict) -> tuple[str, str]:
        name, qualifier = self._own(ctx, params)
        qualifier = qualifier or "$LATEST"
        self.version_doc(ctx.account_id, ctx.region, name, qualifier)
        return name, qualifier

    def event_invoke_config(self, account: str, region: str, name: str,
                            qualifier: str = "$LATEST") -> dict | None:
        return self.lambdas.get("lambda_invoke_configs", account, region, name, qualifier)

    def _save_invoke_config(self, ctx: RequestContext, params: dict, merge: bool) -> dict:
        from cloudlet import clock

        name, qualifier = self._invoke_target(ctx, params)
        found = self.event_invoke_config(ctx.account_id, ctx.region, name, qualifier)
        if found is None and merge is None:
            raise errors.ResourceNotFound(
                f"The function {function_arn(ctx.account_id, ctx.region, name, qualifier)} "
                "doesn't have an EventInvokeConfig")
        doc = dict(found or {}) if merge else {}
        doc.update({k: params[k] for k in _MEMBERS if params.get(k) is not None})
        doc.setdefault("DestinationConfig", {})
        doc["FunctionArn"] = function_arn(ctx.account_id, ctx.region, name, qualifier)
        doc["LastModified"] = clock.timestamp()
        self.lambdas.put("lambda_invoke_configs", ctx.account_id, ctx.region, name, qualifier,
                         doc)
        return doc

    def put_function_event_invoke_config(self, ctx: RequestContext, params: dict) -> dict:
        return self._save_invoke_config(ctx, params, merge=False)

    def update_function_event_invoke_config(self, ctx: RequestContext, params: dict) -> dict:
        return self._save_invoke_config(ctx, params, merge=True)

    def get_function_event_invoke_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._invoke_target(ctx, params)
        found = self.event_invoke_config(ctx.account_id, ctx.region, name, qualifier)
        if found is None:
            raise errors.ResourceNotFound(
                f"The function {function_arn(ctx.account_id, ctx.region, name, qualifier)} "
                "doesn't have an EventInvokeConfig")
        return found

    def delete_function_event_invoke_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._invoke_target(ctx, params)
        if not self.lambdas.delete("lambda_invoke_configs", ctx.account_id, ctx.region, name,
                                   qualifier):
            raise errors.ResourceNotFound(
                f"The function {function_arn(ctx.account_id, ctx.region, name, qualifier)} "
                "doesn't have an EventInvokeConfig")
        return {}

    def list_function_event_invoke_configs(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        docs = self.lambdas.items("lambda_invoke_configs", ctx.account_id, ctx.region, name)
        page, marker = paginate(docs, params, lambda d: d["FunctionArn"])
        result = {"FunctionEventInvokeConfigs": page}
        if marker:
            result["NextMarker"] = marker
        return result
