"""Another account's functions: reached only as the function's policy allows.

Every operation on one function (named by FunctionName, or Resource for tags) first asks
whose function it is. The caller's own: the operation runs as usual. Another account's:
the function's (or version's, alias's) resource-based policy must allow the caller the
operation's action (`lambda:GetFunction`, `lambda:InvokeFunction`, ...), else the caller
gets AWS's AccessDeniedException, the same whether or not the function exists. Allowed, the
operation runs in the owner's partition (its account in the request context), with the
caller's credential unchanged.

AWS lets a function policy grant "most API actions that operate on an existing function";
the ones below in NEVER_ACROSS stay with the owner's account whatever its policy says
(managing the policy itself, and the updates that pass a role or read an S3 package, which
Lambda does as the caller, in the caller's account).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools

from cloudlet.services import accounts
from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn

# operation -> the member naming its function (event source mappings and CreateFunction
# are the caller's own: they are not here)
FUNCTION_MEMBER = {op: "FunctionName" for op in (
    "AddPermission", "CreateAlias", "CreateFunctionUrlConfig", "DeleteAlias", "DeleteFunction",
    "DeleteFunctionCodeSigningConfig", "DeleteFunctionConcurrency",
    "DeleteFunctionEventInvokeConfig", "DeleteFunctionUrlConfig",
    "DeleteProvisionedConcurrencyConfig", "GetAlias", "GetFunction",
    "GetFunctionCodeSigningConfig", "GetFunctionConcurrency", "GetFunctionConfiguration",
    "GetFunctionEventInvokeConfig", "GetFunctionRecursionConfig", "GetFunctionScalingConfig",
    "GetFunctionUrlConfig", "GetPolicy", "GetProvisionedConcurrencyConfig",
    "GetRuntimeManagementConfig", "Invoke", "InvokeAsync", "InvokeWithResponseStream",
    "ListAliases", "ListDurableExecutionsByFunction", "ListFunctionEventInvokeConfigs",
    "ListFunctionUrlConfigs", "ListProvisionedConcurrencyConfigs", "ListVersionsByFunction",
    "PublishVersion", "PutFunctionCodeSigningConfig", "PutFunctionConcurrency",
    "PutFunctionEventInvokeConfig", "PutFunctionRecursionConfig", "PutFunctionScalingConfig",
    "PutProvisionedConcurrencyConfig", "PutRuntimeManagementConfig", "RemovePermission",
    "UpdateAlias", "UpdateFunctionCode", "UpdateFunctionConfiguration",
    "UpdateFunctionEventInvokeConfig", "UpdateFunctionUrlConfig")}
FUNCTION_MEMBER.update({op: "Resource" for op in ("ListTags", "TagResource", "UntagResource")})
NEVER_ACROSS = {"AddPermission", "RemovePermission", "UpdateFunctionConfiguration",
                "UpdateFunctionCode"}
ACTIONS = {"Invoke": "InvokeFunction", "InvokeWithResponseStream": "InvokeFunction"}


class AccountOperations:
    def handler(self, operation: str):
        method = super().handler(operation)
        member = FUNCTION_MEMBER.get(operation)
        if method is None or member is None:
            return method
        found = self.__dict__.setdefault("_across", {}).get(operation)
        if found is None:
            found = self._across[operation] = self._across_accounts(operation, member, method)
        return found

    def _across_accounts(self, operation: str, member: str, method):
        partition = functools.partial(self.function_partition, operation, member)
        if self.runs_on_loop(method):
            async def across(ctx: RequestContext, params: dict):
                ctx = await asyncio.to_thread(partition, ctx, params)
                return await method(ctx, params)
        else:
            def across(ctx: RequestContext, params: dict):
                return method(partition(ctx, params), params)
        return across

    def function_partition(self, operation: str, member: str, ctx: RequestContext,
                           params: dict) -> RequestContext:
        """The context the operation runs in: the caller's own, or the owner's when the
        function's policy allows the caller; else AccessDeniedException."""
        name_or_arn = params.get(member)
        if not isinstance(name_or_arn, str):
            return ctx  # the validator's to refuse
        account, name, qualifier = self.locate(ctx.account_id, ctx.region, name_or_arn,
                                               params.get("Qualifier"))
        if account == ctx.account_id:
            return ctx
        action = f"lambda:{ACTIONS.get(operation, operation)}"
        arn = function_arn(account, ctx.region, name, qualifier or None)
        policy = self.function_policy(account, ctx.region, name, qualifier)
        if operation in NEVER_ACROSS or not accounts.grants(ctx, policy, action, arn, account):
            raise errors.AccessDenied(accounts.not_authorized(ctx, action, arn))
        return dataclasses.replace(ctx, account_id=account)
