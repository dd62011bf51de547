"""Tags on functions: TagResource, UntagResource, ListTags (50 per function)."""

from __future__ import annotations

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn


class TagOperations:
    def _tagged(self, ctx: RequestContext, resource: str) -> tuple[str, dict]:
        account, name, qualifier = self.locate(ctx.account_id, ctx.region, resource)
        if qualifier:
            raise errors.InvalidParameterValue(
                "Tags on function aliases and versions are not supported. Please specify a "
                "function ARN.")
        if account != ctx.account_id:
            raise errors.function_not_found(function_arn(account, ctx.region, name))
        return name, self.function_doc(ctx.account_id, ctx.region, name)

    def tag_resource(self, ctx: RequestContext, params: dict) -> dict:
        with self.write_lock:
            name, function = self._tagged(ctx, params["Resource"])
            tags = {**function.get("Tags", {}), **params["Tags"]}
            if len(tags) > 50:
                raise errors.InvalidParameterValue("Number of tags exceeds resource tag limit.")
            function["Tags"] = tags
            self.lambdas.put_function(ctx.account_id, ctx.region, name, function)
            return {}

    def untag_resource(self, ctx: RequestContext, params: dict) -> dict:
        with self.write_lock:
            name, function = self._tagged(ctx, params["Resource"])
            function["Tags"] = {k: v for k, v in function.get("Tags", {}).items()
                                if k not in params["TagKeys"]}
            self.lambdas.put_function(ctx.account_id, ctx.region, name, function)
            return {}

    def list_tags(self, ctx: RequestContext, params: dict) -> dict:
        _, function = self._tagged(ctx, params["Resource"])
        return {"Tags": dict(function.get("Tags", {}))}
