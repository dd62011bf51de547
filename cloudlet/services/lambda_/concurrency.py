"""Concurrency and account settings: PutFunctionConcurrency & co, GetAccountSettings.

The regional limit is CLOUDLET_LAMBDA_CONCURRENCY (default 1000). Reserved concurrency may
not leave the account fewer than 100 unreserved executions, AWS's rule.
"""

from __future__ import annotations

import os

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors

DEFAULT_CONCURRENCY = 1000
MINIMUM_UNRESERVED = 100
TOTAL_CODE_SIZE = 80_530_636_800


class ConcurrencyOperations:
    @staticmethod
    def concurrency_limit() -> int:
        try:
            return int(os.environ.get("CLOUDLET_LAMBDA_CONCURRENCY", DEFAULT_CONCURRENCY))
        except ValueError:
            return DEFAULT_CONCURRENCY

    def put_function_concurrency(self, ctx: RequestContext, params: dict) -> dict:
        with self.write_lock:
            name, _ = self._own(ctx, params)
            function = self.function_doc(ctx.account_id, ctx.region, name)
            wanted = params["ReservedConcurrentExecutions"]
            others = sum(f.get("Concurrency") or 0 for n, f in self._functions(ctx) if n != name)
            if self.concurrency_limit() - others - wanted < MINIMUM_UNRESERVED:
                raise errors.InvalidParameterValue(
                    "Specified ReservedConcurrentExecutions for function decreases account's "
                    f"UnreservedConcurrentExecution below its minimum value of [{MINIMUM_UNRESERVED}].")
            function["Concurrency"] = wanted
            self.lambdas.put_function(ctx.account_id, ctx.region, name, function)
            return {"ReservedConcurrentExecutions": wanted}

    def get_function_concurrency(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params)
        reserved = self.function_doc(ctx.account_id, ctx.region, name).get("Concurrency")
        return {} if reserved is None else {"ReservedConcurrentExecutions": reserved}

    def delete_function_concurrency(self, ctx: RequestContext, params: dict) -> dict:
        with self.write_lock:
            name, _ = self._own(ctx, params)
            function = self.function_doc(ctx.account_id, ctx.region, name)
            function["Concurrency"] = None
            self.lambdas.put_function(ctx.account_id, ctx.region, name, function)
            return {}

    def _functions(self, ctx: RequestContext) -> list[tuple[str, dict]]:
        return [(n, self.lambdas.function(ctx.account_id, ctx.region, n) or {})
                for n in self.lambdas.function_names(ctx.account_id, ctx.region)]

    def get_account_settings(self, ctx: RequestContext, params: dict) -> dict:
        limit = self.concurrency_limit()
        functions = self._functions(ctx)
        reserved = sum(f.get("Concurrency") or 0 for _, f in functions)
        code_size = sum(v.get("CodeSize", 0) for v in self.lambdas.all_versions(
            ctx.account_id, ctx.region))
        code_size += sum(v["Content"]["CodeSize"] for v in self.lambdas.layer_versions(
            ctx.account_id, ctx.region))
        return {"AccountLimit": {"TotalCodeSize": TOTAL_CODE_SIZE,
                                 "CodeSizeUnzipped": 262_144_000, "CodeSizeZipped": 52_428_800,
                                 "ConcurrentExecutions": limit,
                                 "UnreservedConcurrentExecutions": limit - reserved},
                "AccountUsage": {"TotalCodeSize": code_size, "FunctionCount": len(functions)}}
