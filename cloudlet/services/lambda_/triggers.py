"""What invokes a function besides Invoke: S3 notifications, SNS, alarms and CloudWatch
Logs subscription filters, all through the bus, and all checked against the function's
resource policy (AddPermission) before they are queued as asynchronous invokes.

    s3:notification     Destination.Service "lambda": principal s3.amazonaws.com, with
                        AWS:SourceArn arn:aws:s3:::<bucket> and AWS:SourceAccount (the owner)
    lambda:invoke       SNS (sns.amazonaws.com) and alarms
                        (lambda.alarms.cloudwatch.amazonaws.com) hand their own event shape
    logs:subscription   Logs (logs.amazonaws.com): {"awslogs": {"data": base64(gzip(json))}}

S3 asks `destination_exists(account, region, arn)`, through `reads.LambdaReads`, when a
bucket's notification configuration names a function.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging

from cloudlet.errors import ServiceError
from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal, evaluate
from cloudlet.policy.trust import service, trust_allows
from cloudlet.principals import Credential
from cloudlet.services.iam.reads import IamReads
from cloudlet.services.lambda_ import configuration as conf
from cloudlet.services.lambda_.records import function_arn
from cloudlet.services.s3.reads import S3Reads

log = logging.getLogger("cloudlet.lambda.triggers")
PRINCIPAL_TYPES = {"root": "Account", "user": "User", "assumed-role": "AssumedRole",
                   "federated-user": "FederatedUser"}


def role_session(role: tuple[str, str], role_arn: str, session_name: str) -> Credential:
    """The credential a service acts with when it uses a role of `role` (account, name)."""
    account, name = role
    return Credential(access_key_id="", secret_access_key="", account_id=account,
                      arn=f"arn:aws:sts::{account}:assumed-role/{name}/{session_name}",
                      kind="assumed-role", name=name, session={"role_arn": role_arn})


class TriggerOperations:
    iam: IamReads  # what Lambda reads of IAM and S3 (set at attach, in functions.py)
    s3: S3Reads

    def subscribe_triggers(self) -> None:
        self.bus.subscribe("s3:notification", self._s3_notification)
        self.bus.subscribe("lambda:invoke", self._bus_invoke)
        self.bus.subscribe("logs:subscription", self._logs_subscription)

    # -- the resource policy -----------------------------------------------------------------
    def policy_allows(self, account: str, region: str, name: str, qualifier: str | None,
                      action: str, principal: str, kind: str, context: dict) -> bool:
        """Whether the function's (or version's, alias's) policy lets an AWS service
        (`principal` its name, kind "Service") or anyone (kind "Anonymous") do `action`.
        An IAM caller is judged by `caller_allowed`, or by the dispatch step of
        accounts.py."""
        policy = self.function_policy(account, region, name, qualifier)
        if policy is None:
            return False
        resource = function_arn(account, region, name, qualifier or None)
        request = AuthzRequest(Principal(arn=principal, account="", type=kind), action,
                               resource, context, resource_account=account)
        try:
            decision = evaluate(request, [], Policy("function-policy", json.dumps(policy),
                                                    "resource"))
        except ServiceError:
            return False
        return decision.allowed

    def caller_allowed(self, account: str, region: str, name: str, qualifier: str | None,
                       action: str, caller, context: dict) -> bool:
        """An IAM caller (a Credential) judged as AWS does: its identity-based policies and
        permissions boundary, session policies, and the function's resource policy."""
        if caller.is_root and caller.account_id == account:
            return True
        found = (self.iam.principal_policies(caller.account_id, caller.arn)
                 if not caller.is_root else {"identity": [], "boundary": None, "tags": {}})
        who = Principal(arn=caller.arn, account=caller.account_id,
                        type=PRINCIPAL_TYPES.get(caller.kind, "User"),
                        user_id=caller.user_id or "", username=caller.name or "",
                        tags=found.get("tags") or {}, is_root=caller.is_root,
                        role_arn=caller.session.get("role_arn", ""))
        policy = self.function_policy(account, region, name, qualifier)
        session = [Policy(pid, text, "session")
                   for pid, text in caller.session.get("session_policies") or []]
        boundary = found.get("boundary")
        request = AuthzRequest(who, action, function_arn(account, region, name, qualifier or None),
                               context, resource_account=account)
        try:
            decision = evaluate(
                request, [Policy(pid, text) for pid, text in found.get("identity") or []],
                Policy("function-policy", json.dumps(policy), "resource") if policy else None,
                Policy(*boundary, "boundary") if boundary else None, session)
        except ServiceError:
            return False
        return decision.allowed

    def _service_may_invoke(self, function: str, account: str, region: str,
                            principals: tuple[str, ...], source_arn: str | None,
                            source_account: str | None) -> tuple[str, str, str | None] | None:
        """(account, name, qualifier) of a function the service may invoke, else None."""
        try:
            fn_account, name, qualifier = self.locate(account, region, function)
        except ServiceError:
            return None
        if self.lambdas.function(fn_account, region, name) is None:
            log.info("%s: no such function, event dropped", function)
            return None
        context = {}
        if source_arn:
            context["aws:SourceArn"] = source_arn
        if source_account:
            context["aws:SourceAccount"] = source_account
        for principal in principals:
            if self.policy_allows(fn_account, region, name, qualifier, "lambda:InvokeFunction",
                                  principal, "Service", context):
                return fn_account, name, qualifier
        log.warning("%s may not invoke %s (resource policy): event dropped", principals[0],
                    function)
        return None

    def _queue(self, target: tuple[str, str, str | None], region: str, payload: bytes,
               source: dict) -> None:
        account, name, qualifier = target
        self.async_queue.put(account, region, name, qualifier, payload, source)

    # -- S3 ----------------------------------------------------------------------------------
    def destination_exists(self, account_id: str, region: str, arn: str) -> bool:
        """For S3's notification configuration (through `reads.LambdaReads`): does this
        function exist?"""
        try:
            account, name, qualifier = self.locate(account_id, region, arn)
            region = arn.split(":")[3] if arn.startswith("arn:") else region
            self.version_doc(account, region, name, qualifier)
        except ServiceError:
            return False
        return True

    def function_exists(self, arn: str) -> bool:
        parts = arn.split(":")
        if len(parts) < 7:
            return False
        try:
            self.version_doc(parts[4], parts[3], parts[6], parts[7] if len(parts) > 7 else None)
        except ServiceError:
            return False
        return True

    def _s3_notification(self, event: dict) -> None:
        destination = event.get("Destination") or {}
        if destination.get("Service") != "lambda":
            return
        arn = destination["Arn"]
        records = (event.get("Event") or {}).get("Records") or []
        if not records or arn.count(":") < 6:
            return
        region = arn.split(":")[3]
        bucket = records[0]["s3"]["bucket"]["name"]
        owner = self._bucket_owner(bucket) or arn.split(":")[4]
        target = self._service_may_invoke(arn, owner, region, ("s3.amazonaws.com",),
                                          f"arn:aws:s3:::{bucket}", owner)
        if target is not None:
            self._queue(target, region, json.dumps(event["Event"]).encode(),
                        {"s3": bucket})

    def _bucket_owner(self, bucket: str) -> str | None:
        return self.s3.bucket_owner(bucket)

    # -- SNS, alarms and other services ------------------------------------------------------
    def _bus_invoke(self, event: dict) -> None:
        arn = event["function_arn"]
        region = arn.split(":")[3] if arn.startswith("arn:") else event["region"]
        principal = event.get("principal") or "sns.amazonaws.com"
        if event.get("role_arn"):  # EventBridge Scheduler: the target's execution role
            target = self._role_may_invoke(arn, event["account"], region, event["role_arn"],
                                           principal)
        else:
            target = self._service_may_invoke(arn, event["account"], region, (principal,),
                                              event.get("source_arn"),
                                              event.get("source_account"))
        if target is not None:
            payload = event["payload"]
            self._queue(target, region, payload.encode() if isinstance(payload, str)
                        else payload, {"principal": principal,
                                       "source": event.get("source_arn")})

    def _role_may_invoke(self, function: str, account: str, region: str, role_arn: str,
                         principal: str) -> tuple[str, str, str | None] | None:
        """A service invoking with a role (Scheduler): the role must be the caller's
        account's, exist, trust the service, and its policies allow lambda:InvokeFunction
        on the function (across accounts, the function's policy too)."""
        try:
            fn_account, name, qualifier = self.locate(account, region, function)
        except ServiceError:
            return None
        parsed = conf.parse_role(role_arn)
        if parsed is not None and parsed[0] != account:
            log.warning("%s is another account's role: %s not invoked", role_arn, function)
            return None
        role = self.iam.role(*parsed) if parsed is not None else None
        if role is None or not trust_allows(role["trust_policy"], "sts:AssumeRole",
                                            role["arn"], service(principal), {}):
            log.warning("%s cannot assume %s: %s not invoked", principal, role_arn, function)
            return None
        if self.lambdas.function(fn_account, region, name) is None:
            return None
        if not self.caller_allowed(fn_account, region, name, qualifier, "lambda:InvokeFunction",
                                   role_session(parsed, role["arn"], "scheduler"), {}):
            log.warning("%s may not invoke %s: not invoked", role_arn, function)
            return None
        return fn_account, name, qualifier

    def destination_may_invoke(self, source: dict, region: str, function: str
                               ) -> tuple[str, str, str | None] | None:
        """An asynchronous invocation's destination that is a function (`source` is the
        invoked function's configuration): Lambda invokes it as the invoked function's
        execution role, so another account's function must allow that role (or its
        account) in its policy."""
        account = source["FunctionArn"].split(":")[4]
        try:
            fn_account, name, qualifier = self.locate(account, region, function)
        except ServiceError:
            return None
        if fn_account == account:
            return fn_account, name, qualifier
        parsed = conf.parse_role(source.get("Role") or "")
        if parsed is None or not self.caller_allowed(
                fn_account, region, name, qualifier, "lambda:InvokeFunction",
                role_session(parsed, source["Role"], source["FunctionName"]),
                {"aws:SourceArn": source["FunctionArn"], "aws:SourceAccount": account}):
            log.warning("%s may not invoke its destination %s (resource policy): record "
                        "dropped", source["FunctionArn"], function)
            return None
        return fn_account, name, qualifier

    # -- CloudWatch Logs subscription filters --------------------------------------------------
    def _logs_subscription(self, event: dict) -> None:
        arn = event["destination_arn"]
        if arn.split(":")[2:3] != ["lambda"]:
            return
        account, region = event["account"], event["region"]
        group_arn = f"arn:aws:logs:{region}:{account}:log-group:{event['log_group']}:*"
        target = self._service_may_invoke(
            arn, account, arn.split(":")[3], ("logs.amazonaws.com", f"logs.{region}.amazonaws.com"),
            group_arn, account)
        if target is None:
            return
        body = {"messageType": "DATA_MESSAGE", "owner": account,
                "logGroup": event["log_group"], "logStream": event["log_stream"],
                "subscriptionFilters": [event["filter_name"]],
                "logEvents": [{"id": str(e["id"]), "timestamp": e["timestamp"],
                               "message": e["message"]} for e in event["events"]]}
        data = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
        self._queue(target, arn.split(":")[3],
                    json.dumps({"awslogs": {"data": data}}).encode(),
                    {"logs": event["log_group"]})
