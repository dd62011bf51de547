"""The settings tools read on every function even when unused: code signing (none here),
runtime management (Auto, FunctionUpdate or Manual, stored), recursive loop detection
(Terminate or Allow, stored), provisioned concurrency (none: Put answers NotImplemented)."""

from __future__ import annotations

from cloudlet.errors import ServiceError
from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn


class ProvisionedConcurrencyConfigNotFound(ServiceError):
    code = "ProvisionedConcurrencyConfigNotFoundException"
    status = 404


class RuntimeSettingsOperations:
    def get_function_code_signing_config(self, ctx: RequestContext, params: dict) -> dict:
        name, _ = self._own(ctx, params, qualifier="")
        return {"CodeSigningConfigArn": "", "FunctionName": name}

    def delete_function_code_signing_config(self, ctx: RequestContext, params: dict) -> dict:
        self._own(ctx, params, qualifier="")
        return {}

    def _setting(self, ctx: RequestContext, params: dict, key: str, default: str,
                 value: str | None = None) -> tuple[str, str | None, str]:
        with self.write_lock:
            name, qualifier = self._own(ctx, params)
            self.version_doc(ctx.account_id, ctx.region, name, qualifier)
            function = self.function_doc(ctx.account_id, ctx.region, name)
            if value is not None:
                function[key] = value
                self.lambdas.put_function(ctx.account_id, ctx.region, name, function)
            return name, qualifier, function.get(key, default)

    def get_runtime_management_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier, mode = self._setting(ctx, params, "UpdateRuntimeOn", "Auto")
        result = {"UpdateRuntimeOn": mode,
                  "FunctionArn": function_arn(ctx.account_id, ctx.region, name, qualifier)}
        if mode == "Manual":
            result["RuntimeVersionArn"] = self.version_doc(
                ctx.account_id, ctx.region, name, qualifier)["RuntimeVersionConfig"][
                "RuntimeVersionArn"]
        return result

    def put_runtime_management_config(self, ctx: RequestContext, params: dict) -> dict:
        if params["UpdateRuntimeOn"] == "Manual" and not params.get("RuntimeVersionArn"):
            raise errors.InvalidParameterValue(
                "RuntimeVersionArn is required when UpdateRuntimeOn is Manual.")
        self._setting(ctx, params, "UpdateRuntimeOn", "Auto", params["UpdateRuntimeOn"])
        return self.get_runtime_management_config(ctx, params)

    def get_function_recursion_config(self, ctx: RequestContext, params: dict) -> dict:
        return {"RecursiveLoop": self._setting(ctx, {**params, "Qualifier": None},
                                               "RecursiveLoop", "Terminate")[2]}

    def put_function_recursion_config(self, ctx: RequestContext, params: dict) -> dict:
        return {"RecursiveLoop": self._setting(ctx, {**params, "Qualifier": None},
                                               "RecursiveLoop", "Terminate",
                                               params["RecursiveLoop"])[2]}

    def list_provisioned_concurrency_configs(self, ctx: RequestContext, params: dict) -> dict:
        self._own(ctx, params, qualifier="")
        return {"ProvisionedConcurrencyConfigs": []}

    def get_provisioned_concurrency_config(self, ctx: RequestContext, params: dict) -> dict:
        name, qualifier = self._own(ctx, params)
        raise ProvisionedConcurrencyConfigNotFound(
            "No Provisioned Concurrency Config found for this function")
