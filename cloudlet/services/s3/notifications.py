"""Event notifications: the bucket's configuration (validated by the destinations'
providers), which destinations an event on a key selects, and the events published on the
bus (topic `s3:notification`) in AWS's record shape."""

from __future__ import annotations

import base64
import secrets
from urllib.parse import quote_plus

from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_.reads import LambdaReads
from cloudlet.services.s3 import errors
from cloudlet.services.s3.buckets import timestamp
from cloudlet.services.s3.storage import S3Storage
from cloudlet.services.sns.reads import SnsReads

NOTIFICATION_KINDS = {"TopicConfigurations": ("TopicArn", "sns"),
                      "QueueConfigurations": ("QueueArn", "sqs"),
                      "LambdaFunctionConfigurations": ("LambdaFunctionArn", "lambda")}

EVENT_NAMES = {
    "s3:TestEvent", "s3:ObjectCreated:*", "s3:ObjectCreated:Put", "s3:ObjectCreated:Post",
    "s3:ObjectCreated:Copy", "s3:ObjectCreated:CompleteMultipartUpload", "s3:ObjectRemoved:*",
    "s3:ObjectRemoved:Delete", "s3:ObjectRemoved:DeleteMarkerCreated", "s3:ObjectRestore:*",
    "s3:ObjectRestore:Post", "s3:ObjectRestore:Completed", "s3:ObjectRestore:Delete",
    "s3:ReducedRedundancyLostObject", "s3:Replication:*",
    "s3:Replication:OperationFailedReplication", "s3:Replication:OperationNotTracked",
    "s3:Replication:OperationMissedThreshold",
    "s3:Replication:OperationReplicatedAfterThreshold", "s3:ObjectTagging:*",
    "s3:ObjectTagging:Put", "s3:ObjectTagging:Delete", "s3:ObjectAcl:Put",
    "s3:LifecycleExpiration:*", "s3:LifecycleExpiration:Delete",
    "s3:LifecycleExpiration:DeleteMarkerCreated", "s3:LifecycleTransition",
    "s3:IntelligentTiering",
}


class NotificationOperations:
    storage: S3Storage
    _destination_checks: dict = {}  # service -> check(ctx, arn), set at attach()

    # -- the providers that validate destinations -------------------------------------------
    def attach(self, providers: dict) -> None:
        super().attach(providers)
        lambda_, sns = LambdaReads(providers.get("lambda")), SnsReads(providers.get("sns"))
        self._destination_checks = {
            "lambda": lambda ctx, arn: lambda_.function_exists(ctx.account_id, ctx.region, arn),
            "sns": lambda ctx, arn: sns.topic_exists(arn),
        }

    # -- configuration ------------------------------------------------------------------
    def get_bucket_notification_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:GetBucketNotification")
        return self.config.get(record["name"], "notification") or {}

    def put_bucket_notification_configuration(self, ctx: RequestContext, params: dict) -> dict:
        record = self._owned(ctx, params, "s3:PutBucketNotification")
        config = params.get("NotificationConfiguration")
        if config is None:
            raise errors.MalformedXML()
        value, unvalidated = {}, []
        for kind, (arn_field, service) in NOTIFICATION_KINDS.items():
            items = []
            for item in config.get(kind) or []:
                arn = item.get(arn_field) or ""
                check_notification_events(item.get("Events") or [])
                check_filter_rules(((item.get("Filter") or {}).get("Key") or {}).get(
                    "FilterRules") or [])
                if not params.get("SkipDestinationValidation") and not self._destination_exists(
                        ctx, service, arn):
                    unvalidated.append(arn)
                items.append({"Id": item.get("Id") or secrets.token_hex(16), **item})
            if items:
                value[kind] = items
        if "EventBridgeConfiguration" in config:
            value["EventBridgeConfiguration"] = {}
        if unvalidated:
            raise errors.UnvalidatedDestinations(unvalidated)
        if value:
            self.config.put(record["name"], "notification", value)
        else:
            self.config.delete(record["name"], "notification")
        return {}

    def _destination_exists(self, ctx: RequestContext, service: str, arn: str) -> bool:
        """Asks the destination's service, through what it lets others read (its `reads`);
        a destination in a service Cloudlet does not serve (SQS) never exists."""
        check = self._destination_checks.get(service)
        return bool(check(ctx, arn)) if check is not None else False

    def notification_targets(self, bucket: str, event: str, key: str) -> list[dict]:
        """The destinations (`{"Arn", "Id", "Service"}`) for an event ("s3:ObjectCreated:Put")
        on a key, by the bucket's notification configuration and its filters."""
        config = self.config.get(bucket, "notification") or {}
        found = []
        for kind, (arn_field, service) in NOTIFICATION_KINDS.items():
            for item in config.get(kind) or []:
                if matches_event(item.get("Events") or [], event) and matches_filter(
                        ((item.get("Filter") or {}).get("Key") or {}).get("FilterRules") or [],
                        key):
                    found.append({"Arn": item[arn_field], "Id": item["Id"], "Service": service})
        return found


    # -- publishing events ----------------------------------------------------------------
    def object_event(self, kind: str, bucket: dict, record: dict) -> None:
        """Publish an object event, in AWS's record shape, to each destination the
        bucket's notification configuration selects: topic `s3:notification`, event
        `{"Destination": {"Arn", "Id", "Service"}, "Event": {"Records": [...]}}`."""
        select = getattr(self, "notification_targets", None)
        if select is None:
            return
        targets = select(bucket["name"], "s3:" + kind, record["key"])
        for target in targets:
            self.bus.publish("s3:notification", {
                "Destination": target, "account": bucket["account"],
                "Event": {"Records": [event_record(kind, bucket, record, target["Id"])]}})


def event_record(kind: str, bucket: dict, record: dict, configuration_id: str) -> dict:
    obj = {"key": quote_plus(record["key"], safe="/"),
           "sequencer": f"{record.get('seq') or 0:016X}"}
    if kind.startswith("ObjectCreated"):
        obj.update(size=record["size"], eTag=record["etag"].strip('"'))
    if record["version_id"] != "null":
        obj["versionId"] = record["version_id"]
    principal = f"AWS:{record['owner']}"
    return {
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": bucket["region"],
        "eventTime": timestamp(record["last_modified"]).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z",
        "eventName": kind, "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": f"{record.get('seq') or 0:016X}",
                             "x-amz-id-2": base64.b64encode(str(record.get("seq")).encode()).decode()},
        "s3": {"s3SchemaVersion": "1.0", "configurationId": configuration_id,
               "bucket": {"name": bucket["name"], "ownerIdentity": {"principalId": principal},
                          "arn": f"arn:aws:s3:::{bucket['name']}"},
               "object": obj},
    }


def check_notification_events(events: list[str]) -> None:
    for event in events:
        if event not in EVENT_NAMES:
            raise errors.InvalidArgument("The event is not supported for notifications",
                                         name="Event", value=event)


def check_filter_rules(rules: list[dict]) -> None:
    names = [(r.get("Name") or "").lower() for r in rules]
    for name in names:
        if name not in ("prefix", "suffix"):
            raise errors.InvalidArgument("filter rule name must be either prefix or suffix",
                                         name="FilterRule.Name", value=name)
    if len(set(names)) != len(names):
        raise errors.InvalidArgument("Cannot specify more than one prefix rule in a filter."
                                     if names.count("prefix") > 1 else
                                     "Cannot specify more than one suffix rule in a filter.",
                                     name="FilterRule.Name", value=names[0])


def matches_event(patterns: list[str], event: str) -> bool:
    return any(p == event or (p.endswith(":*") and event.startswith(p[:-1])) for p in patterns)


def matches_filter(rules: list[dict], key: str) -> bool:
    for rule in rules:
        name, value = (rule.get("Name") or "").lower(), rule.get("Value") or ""
        if name == "prefix" and not key.startswith(value):
            return False
        if name == "suffix" and not key.endswith(value):
            return False
    return True


