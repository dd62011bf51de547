"""A function's configuration as CreateFunction and UpdateFunctionConfiguration check it:
runtime, handler, role, memory, timeout, /tmp, environment, layers, and the settings that
are only stored (VPC, dead-letter queue, tracing, logging).

Botocore's model allows more than AWS's service does today (memory up to 32 GB, 90 minute
timeouts for durable functions); the limits below are Lambda's documented quotas, refused
with the ValidationException text AWS gives.
"""

from __future__ import annotations

import json
import re

from cloudlet.services.lambda_ import errors

# Runtimes a function can be created with today (some deprecated, but AWS has pushed their
# create and update blocks into 2027), and the ones AWS no longer accepts for creating or
# updating functions, with the runtime it recommends instead.
SUPPORTED_RUNTIMES = (
    "nodejs18.x", "nodejs20.x", "nodejs22.x", "nodejs24.x",
    "python3.9", "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
    "java8.al2", "java11", "java17", "java21", "java25",
    "dotnet8", "dotnet10", "ruby3.2", "ruby3.3", "ruby3.4", "provided.al2", "provided.al2023",
)
DEPRECATED_RUNTIMES = {
    **{r: "nodejs22.x" for r in ("nodejs", "nodejs4.3", "nodejs4.3-edge", "nodejs6.10",
                                 "nodejs8.10", "nodejs10.x", "nodejs12.x", "nodejs14.x",
                                 "nodejs16.x")},
    **{r: "python3.13" for r in ("python2.7", "python3.6", "python3.7", "python3.8")},
    **{r: "java21" for r in ("java8",)},
    **{r: "dotnet8" for r in ("dotnetcore1.0", "dotnetcore2.0", "dotnetcore2.1",
                              "dotnetcore3.1", "dotnet6")},
    **{r: "ruby3.4" for r in ("ruby2.5", "ruby2.7")},
    **{r: "provided.al2023" for r in ("go1.x", "provided")},
}
MEMORY = (128, 10240)
TIMEOUT = (1, 900)
EPHEMERAL = (512, 10240)
ENVIRONMENT_LIMIT = 4096
MAX_LAYERS = 5
RESERVED_ENVIRONMENT = (
    "_HANDLER", "_X_AMZN_TRACE_ID", "AWS_DEFAULT_REGION", "AWS_REGION", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_INITIALIZATION_TYPE", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
    "AWS_ACCESS_KEY", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
    "AWS_LAMBDA_RUNTIME_API", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR",
)
_NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}\Z")
_ROLE = re.compile(r"arn:(aws[a-zA-Z-]*)?:iam::(\d{12}):role/(?:[\x21-\x7e]*/)?([\w+=,.@-]{1,64})\Z")
_LAYER_VERSION = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:([a-z0-9-]+):(\d{12}):layer:([a-zA-Z0-9_-]{1,140}):(\d+)\Z")
_ENV_NAME = re.compile(r"[a-zA-Z]([a-zA-Z0-9_])+\Z")
MANDATORY = "Runtime and Handler are mandatory parameters for functions created with deployment packages."
ROLE_NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."


def check_name(name: str) -> None:
    if len(name) > 64:
        raise errors.Validation(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            "constraint: Member must have length less than or equal to 64")
    if not _NAME.match(name):
        raise errors.Validation(
            f"1 validation error detected: Value '{name}' at 'functionName' failed to satisfy "
            "constraint: Member must satisfy regular expression pattern: "
            "(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?"
            "(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?")


def parse_role(arn: str) -> tuple[str, str] | None:
    match = _ROLE.match(arn or "")
    return (match.group(2), match.group(3)) if match else None


def parse_layer_version(arn: str) -> tuple[str, str, str, int] | None:
    """(region, account, name, version) of a layer version ARN."""
    match = _LAYER_VERSION.match(arn or "")
    return (match.group(1), match.group(2), match.group(3), int(match.group(4))) if match else None


def check_runtime(runtime: str) -> None:
    if runtime in DEPRECATED_RUNTIMES:
        raise errors.InvalidParameterValue(
            f"The runtime parameter of {runtime} is no longer supported for creating or "
            "updating AWS Lambda functions. We recommend you use the new runtime "
            f"({DEPRECATED_RUNTIMES[runtime]}) while creating or updating functions.")
    if runtime not in SUPPORTED_RUNTIMES:
        raise errors.InvalidParameterValue(
            f"Value {runtime} at 'runtime' failed to satisfy constraint: Member must satisfy "
            f"enum value set: [{', '.join(SUPPORTED_RUNTIMES)}] or be a valid ARN")


def _range(params: dict, member: str, wire: str, bounds: tuple[int, int]) -> None:
    value = params.get(member)
    if value is None:
        return
    low, high = bounds
    if value > high:
        raise errors.too_big(value, wire, high)
    if value < low:
        raise errors.Validation(
            f"1 validation error detected: Value '{value}' at '{wire}' failed to satisfy "
            f"constraint: Member must have value greater than or equal to {low}")


def check_environment(variables: dict[str, str]) -> None:
    reserved = [k for k in variables if k in RESERVED_ENVIRONMENT]
    if reserved:
        raise errors.InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided contains reserved keys that are "
            f"currently not supported for modification. Reserved keys used in this request: "
            f"{', '.join(reserved)}")
    for key in variables:
        if not _ENV_NAME.match(key):
            raise errors.Validation(
                "1 validation error detected: Value at 'environment.variables' failed to "
                "satisfy constraint: Map keys must satisfy constraint: [Member must satisfy "
                "regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+]")
    measured = json.dumps(variables, separators=(",", ":"), ensure_ascii=False)
    if len(measured.encode()) > ENVIRONMENT_LIMIT:
        raise errors.InvalidParameterValue(
            "Lambda was unable to configure your environment variables because the "
            "environment variables you have provided exceeded the 4KB limit. String "
            f"measured: {measured}")


def check_settings(params: dict) -> None:
    """The numeric limits, runtime, environment and layer count of a create or update."""
    _range(params, "MemorySize", "memorySize", MEMORY)
    _range(params, "Timeout", "timeout", TIMEOUT)
    if params.get("EphemeralStorage") is not None:
        _range(params["EphemeralStorage"], "Size", "ephemeralStorage.size", EPHEMERAL)
    if params.get("Runtime") is not None:
        check_runtime(params["Runtime"])
    environment = params.get("Environment")
    if environment is not None:
        check_environment(environment.get("Variables") or {})
    layers = params.get("Layers")
    if layers is not None and len(layers) > MAX_LAYERS:
        raise errors.InvalidParameterValue("Cannot reference more than 5 layers.")
    if params.get("PackageType") == "Image" or (params.get("Code") or {}).get("ImageUri"):
        raise errors.InvalidParameterValue(
            "Cloudlet does not run container image functions (PackageType Image): "
            "deploy a .zip file archive instead.")


def environment_response(variables: dict[str, str] | None) -> dict:
    return {"Variables": dict(variables or {})}
