"""Events, tags and DB subnet groups.

Subnet groups are stored as given (subnets are not checked against a VPC service yet)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from cloudlet import clock
from cloudlet.services.rds import errors
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, arn
from cloudlet.services.rds.shared import paginate, tags_of

SOURCE_TYPES = ("db-instance", "db-parameter-group", "db-security-group", "db-snapshot",
                "db-cluster", "db-cluster-snapshot", "custom-engine-version", "db-proxy",
                "blue-green-deployment")
# ARN resource type -> (records kind, field holding the tags)
TAGGABLE = {"db": "instances", "snapshot": "snapshots", "pg": "parameter_groups",
            "subgrp": "subnet_groups", "es": "event_subscriptions"}


def _epoch(value) -> float:
    if isinstance(value, dt.datetime):
        return value.timestamp()
    return float(value)


class ResourceOperations:
    fleet: Fleet

    # -- events --------------------------------------------------------------------------

    def describe_events(self, ctx, params):
        now = clock.timestamp()
        end = _epoch(params["EndTime"]) if params.get("EndTime") else now
        if params.get("StartTime"):
            start = _epoch(params["StartTime"])
        else:
            start = end - 60 * (params.get("Duration") or 60)
        source_type = params.get("SourceType")
        if source_type and source_type not in SOURCE_TYPES:
            raise errors.invalid_value(f"Invalid source type: {source_type}")
        source_id = params.get("SourceIdentifier")
        if source_id and not source_type:
            raise errors.invalid_combination("Cannot specify SourceIdentifier without "
                                             "SourceType.")
        categories = set(params.get("EventCategories") or [])
        events = []
        for i, e in enumerate(self.fleet.records.events(ctx.account_id, ctx.region, start, end)):
            if source_type and e["SourceType"] != source_type:
                continue
            if source_id and e["SourceIdentifier"] != source_id.lower():
                continue
            if categories and not categories & set(e["EventCategories"]):
                continue
            events.append({**e, "_n": f"{i:012d}"})
        page, marker = paginate(events, params, "_n")
        out = {"Events": [public(e) for e in page]}
        if marker:
            out["Marker"] = marker
        return out

    def describe_event_categories(self, ctx, params):
        categories = ["availability", "backup", "configuration change", "creation",
                      "deletion", "failover", "failure", "notification", "read replica",
                      "recovery", "restoration", "maintenance"]
        return {"EventCategoriesMapList": [{"SourceType": "db-instance",
                                            "EventCategories": categories}]}

    # -- tags ----------------------------------------------------------------------------

    def _tagged(self, ctx, resource_arn: str | None) -> tuple[str, str]:
        if not resource_arn:
            raise errors.missing("ResourceName")
        parts = resource_arn.split(":")
        if len(parts) < 7 or parts[0] != "arn" or parts[2] != "rds" or parts[5] not in TAGGABLE:
            raise errors.invalid_value(f"The specified resource name does not match an RDS "
                                       f"resource in this region: {resource_arn}")
        kind, name = TAGGABLE[parts[5]], ":".join(parts[6:])
        if parts[3] != ctx.region or parts[4] != ctx.account_id or self.fleet.records.get(
                kind, ctx.account_id, ctx.region, name) is None:
            if kind == "instances":
                raise errors.instance_not_found(name)
            if kind == "snapshots":
                raise errors.snapshot_not_found(name)
            if kind == "parameter_groups":
                raise errors.parameter_group_not_found(name)
            raise errors.subnet_group_not_found(name)
        return kind, name

    def list_tags_for_resource(self, ctx, params):
        kind, name = self._tagged(ctx, params.get("ResourceName"))
        record = self.fleet.records.get(kind, ctx.account_id, ctx.region, name)
        return {"TagList": record.get("TagList") or []}

    def add_tags_to_resource(self, ctx, params):
        kind, name = self._tagged(ctx, params.get("ResourceName"))
        new = tags_of(params)

        def change(record):
            tags = {t["Key"]: t["Value"] for t in record.get("TagList") or []}
            tags.update({t["Key"]: t["Value"] for t in new})
            if len(tags) > 50:
                raise errors.invalid_value("Cannot add more than 50 tags to a resource.")
            record["TagList"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        self.fleet.records.update(kind, ctx.account_id, ctx.region, name, change)
        return {}

    def remove_tags_from_resource(self, ctx, params):
        kind, name = self._tagged(ctx, params.get("ResourceName"))
        gone = set(params.get("TagKeys") or [])

        def change(record):
            record["TagList"] = [t for t in record.get("TagList") or [] if t["Key"] not in gone]
        self.fleet.records.update(kind, ctx.account_id, ctx.region, name, change)
        return {}

    # -- subnet groups -------------------------------------------------------------------

    def create_db_subnet_group(self, ctx, params):
        name = params.get("DBSubnetGroupName") or ""
        if not name or len(name) > 255 or name.lower() == "default" or \
                not all(c.isalnum() or c in " ._-" for c in name):
            raise errors.invalid_value("The parameter DBSubnetGroupName is not a valid "
                                       "identifier. Identifiers must contain only ASCII "
                                       "letters, digits, spaces, periods, underscores and "
                                       "hyphens and must not be default.")
        subnets = params.get("SubnetIds") or []
        if not subnets:
            raise errors.missing("SubnetIds")
        vpc = "vpc-" + hashlib.sha256(",".join(sorted(subnets)).encode()).hexdigest()[:17]
        group = {"DBSubnetGroupName": name.lower(),
                 "DBSubnetGroupDescription": params.get("DBSubnetGroupDescription") or "",
                 "VpcId": vpc, "SubnetGroupStatus": "Complete",
                 "Subnets": [{"SubnetIdentifier": s,
                              "SubnetAvailabilityZone": {"Name": f"{ctx.region}{'abc'[i % 3]}"},
                              "SubnetStatus": "Active"} for i, s in enumerate(subnets)],
                 "DBSubnetGroupArn": arn((ctx.account_id, ctx.region, name.lower()), "subgrp"),
                 "SupportedNetworkTypes": ["IPV4"], "TagList": tags_of(params)}
        if not self.fleet.records.insert("subnet_groups", ctx.account_id, ctx.region,
                                         name.lower(), group):
            raise errors.subnet_group_exists(name)
        return {"DBSubnetGroup": {k: v for k, v in group.items() if k != "TagList"}}

    def describe_db_subnet_groups(self, ctx, params):
        name = params.get("DBSubnetGroupName")
        if name:
            group = self.fleet.records.get("subnet_groups", ctx.account_id, ctx.region,
                                           name.lower())
            if group is None:
                raise errors.subnet_group_not_found(name)
            groups = [group]
        else:
            groups = self.fleet.records.list("subnet_groups", ctx.account_id, ctx.region)
        page, marker = paginate(groups, params, "DBSubnetGroupName")
        out = {"DBSubnetGroups": [{k: v for k, v in g.items() if k != "TagList"}
                                  for g in page]}
        if marker:
            out["Marker"] = marker
        return out

    def modify_db_subnet_group(self, ctx, params):
        name = (params.get("DBSubnetGroupName") or "").lower()
        if self.fleet.records.get("subnet_groups", ctx.account_id, ctx.region, name) is None:
            raise errors.subnet_group_not_found(name)

        def change(g):
            if params.get("DBSubnetGroupDescription") is not None:
                g["DBSubnetGroupDescription"] = params["DBSubnetGroupDescription"]
            if params.get("SubnetIds"):
                g["Subnets"] = [{"SubnetIdentifier": s,
                                 "SubnetAvailabilityZone": {"Name":
                                                            f"{ctx.region}{'abc'[i % 3]}"},
                                 "SubnetStatus": "Active"}
                                for i, s in enumerate(params["SubnetIds"])]
        group = self.fleet.records.update("subnet_groups", ctx.account_id, ctx.region, name,
                                          change)
        return {"DBSubnetGroup": {k: v for k, v in group.items() if k != "TagList"}}

    def delete_db_subnet_group(self, ctx, params):
        name = (params.get("DBSubnetGroupName") or "").lower()
        if self.fleet.records.get("subnet_groups", ctx.account_id, ctx.region, name) is None:
            raise errors.subnet_group_not_found(name)
        for record in self.fleet.records.list("instances", ctx.account_id, ctx.region):
            if (record.get("DBSubnetGroup") or {}).get("DBSubnetGroupName") == name:
                raise errors.error("InvalidDBSubnetGroupStateFault",
                                   f"Cannot delete the subnet group '{name}' because at least "
                                   "one database instance: "
                                   f"{record['DBInstanceIdentifier']} is still using it.")
        self.fleet.records.delete("subnet_groups", ctx.account_id, ctx.region, name)
        return {}



# -- event subscriptions ------------------------------------------------------------------

class SubscriptionOperations:
    """Event subscriptions: matching events are published to their SNS topic on the bus
    (`sns:publish`), as RDS's JSON notification."""

    fleet: Fleet

    def create_event_subscription(self, ctx, params):
        name = params.get("SubscriptionName") or ""
        if not name or len(name) > 255 or not all(c.isalnum() or c == "-" for c in name):
            raise errors.invalid_value("The parameter SubscriptionName is not valid: use up to "
                                       "255 letters, digits or hyphens.")
        topic = params.get("SnsTopicArn") or ""
        if not topic.startswith("arn:aws:sns:"):
            raise errors.error("SNSInvalidTopic", f"Invalid SNS topic ARN: {topic}")
        source_type = params.get("SourceType")
        if source_type and source_type not in SOURCE_TYPES:
            raise errors.invalid_value(f"Invalid source type: {source_type}")
        if params.get("SourceIds") and not source_type:
            raise errors.invalid_combination("SourceType must be given with SourceIds.")
        record = {
            "CustomerAwsId": ctx.account_id, "CustSubscriptionId": name, "SnsTopicArn": topic,
            "Status": "active", "SubscriptionCreationTime": clock.now().strftime(
                "%Y-%m-%d %H:%M:%S.%f")[:-3],
            "SourceType": source_type or "all",
            "SourceIdsList": [i.lower() for i in params.get("SourceIds") or []],
            "EventCategoriesList": list(params.get("EventCategories") or []),
            "Enabled": params.get("Enabled", True),
            "EventSubscriptionArn": arn((ctx.account_id, ctx.region, name), "es"),
            "TagList": tags_of(params)}
        if not self.fleet.records.insert("event_subscriptions", ctx.account_id, ctx.region,
                                         name, record):
            raise errors.error("SubscriptionAlreadyExist",
                               f"Subscription {name} already exists.")
        return {"EventSubscription": subscription_shape(record)}

    def describe_event_subscriptions(self, ctx, params):
        name = params.get("SubscriptionName")
        records = self.fleet.records.list("event_subscriptions", ctx.account_id, ctx.region)
        if name:
            records = [r for r in records if r["CustSubscriptionId"] == name]
            if not records:
                raise errors.error("SubscriptionNotFound", f"Subscription {name} not found.",
                                   404)
        page, marker = paginate(records, params, "CustSubscriptionId")
        out = {"EventSubscriptionsList": [subscription_shape(r) for r in page]}
        if marker:
            out["Marker"] = marker
        return out

    def delete_event_subscription(self, ctx, params):
        name = params.get("SubscriptionName") or ""
        record = self.fleet.records.get("event_subscriptions", ctx.account_id, ctx.region, name)
        if record is None:
            raise errors.error("SubscriptionNotFound", f"Subscription {name} not found.", 404)
        self.fleet.records.delete("event_subscriptions", ctx.account_id, ctx.region, name)
        return {"EventSubscription": {**subscription_shape(record), "Status": "deleting"}}

    def notify(self, account: str, region: str, event: dict) -> None:
        for sub in self.fleet.records.list("event_subscriptions", account, region):
            if not sub.get("Enabled", True):
                continue
            if sub["SourceType"] not in ("all", event["SourceType"]):
                continue
            if sub["SourceIdsList"] and event["SourceIdentifier"] not in sub["SourceIdsList"]:
                continue
            if sub["EventCategoriesList"] and not set(sub["EventCategoriesList"]) & set(
                    event["EventCategories"]):
                continue
            when = dt.datetime.fromtimestamp(event["Date"], dt.UTC)
            message = {
                "Event Source": event["SourceType"],
                "Event Time": when.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                "Identifier Link": f"https://console.aws.amazon.com/rds/home?region={region}"
                                   f"#dbinstance:id={event['SourceIdentifier']}",
                "Source ID": event["SourceIdentifier"], "Source ARN": event["SourceArn"],
                "Event ID": "http://docs.amazonwebservices.com/AmazonRDS/latest/UserGuide/"
                            "USER_Events.html",
                "Event Message": event["Message"]}
            self.bus.publish("sns:publish", {
                "account": account, "region": region, "topic_arn": sub["SnsTopicArn"],
                "subject": "RDS Notification Message", "message": json.dumps(message),
                "principal": "events.rds.amazonaws.com",
                "source_arn": sub["EventSubscriptionArn"]})


def subscription_shape(record: dict) -> dict:
    return {k: v for k, v in record.items() if k != "TagList"}
