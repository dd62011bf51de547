"""Subscriptions: Subscribe, ConfirmSubscription, Unsubscribe, the listings, attributes."""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
import uuid

from cloudlet.services import accounts
from cloudlet.services.sns import filter_policy
from cloudlet.services.sns.errors import AuthorizationError, NotFound, invalid
from cloudlet.services.sns.topics import DEFAULT_DELIVERY_POLICY, PAGE, check_delivery_policy

PROTOCOLS = {"http", "https", "email", "email-json", "sms", "sqs", "lambda", "application",
             "firehose"}
CONFIRMED_AT_ONCE = {"sqs", "lambda", "sms"}
RAW_PROTOCOLS = {"http", "https", "sqs", "firehose"}
SETTABLE = {"DeliveryPolicy", "FilterPolicy", "FilterPolicyScope", "RawMessageDelivery",
            "RedrivePolicy", "SubscriptionRoleArn", "ReplayPolicy"}
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\Z")
SQS_ARN = re.compile(r"arn:aws:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}(\.fifo)?\Z")
LAMBDA_ARN = re.compile(r"arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}"
                        r"(:[A-Za-z0-9$_-]+)?\Z")
PHONE = re.compile(r"\+?[1-9]\d{6,14}\Z")
SUBSCRIPTION_ARN = re.compile(r"arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}:"
                              r"[0-9a-f-]{36}\Z")


class SubscriptionOperations:
    def subscribe(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:Subscribe")
        protocol = (params.get("Protocol") or "").lower()
        endpoint = params.get("Endpoint") or ""
        self._check_endpoint(topic, protocol, endpoint)
        attributes = self._checked_subscription_attributes(
            protocol, {k: v or "" for k, v in (params.get("Attributes") or {}).items()})
        existing = self.sns.find_subscription(topic["arn"], protocol, endpoint)
        if existing is not None:
            if attributes and any(existing["attributes"].get(k) != v for k, v in attributes.items()):
                raise invalid("Attributes", "Subscription already exists with different attributes")
            if existing["status"] == "pending":
                self.deliveries.confirm(existing, topic)
                if not params.get("ReturnSubscriptionArn"):
                    return {"SubscriptionArn": "pending confirmation"}
            return {"SubscriptionArn": existing["arn"]}
        confirmed = protocol in CONFIRMED_AT_ONCE
        sub = {"arn": f"{topic['arn']}:{uuid.uuid4()}", "topic_arn": topic["arn"],
               "account": topic["account"], "region": topic["region"],
               "owner": ctx.account_id or topic["account"], "protocol": protocol,
               "endpoint": endpoint, "status": "confirmed" if confirmed else "pending",
               "token": None if confirmed else secrets.token_hex(64),
               "attributes": attributes, "base_url": self.base_url(ctx)}
        try:
            self.sns.put_subscription(sub)
        except sqlite3.IntegrityError:  # the same Subscribe, concurrently: one subscription
            return self.subscribe(ctx, params)
        if confirmed:
            return {"SubscriptionArn": sub["arn"]}
        self.deliveries.confirm(sub, topic)
        if params.get("ReturnSubscriptionArn"):
            return {"SubscriptionArn": sub["arn"]}
        return {"SubscriptionArn": "pending confirmation"}

    def confirm_subscription(self, ctx, params):
        topic = self._topic(params["TopicArn"])
        sub = self.sns.subscription_by_token(params["Token"])
        if sub is None or sub["topic_arn"] != topic["arn"]:
            raise invalid("Token")
        if sub["status"] == "unsubscribed" and self.sns.find_subscription(
                topic["arn"], sub["protocol"], sub["endpoint"]) is not None:
            raise invalid("Token")  # subscribed anew since: nothing to restore
        fields = {"status": "confirmed"}
        if ctx.caller is not None and (params.get("AuthenticateOnUnsubscribe") or "").lower() \
                == "true":
            fields["authenticated"] = 1
        try:
            self.sns.update_subscription(sub["arn"], **fields)
        except sqlite3.IntegrityError:  # restored while the endpoint subscribed anew
            raise invalid("Token") from None
        return {"SubscriptionArn": sub["arn"]}

    def unsubscribe(self, ctx, params):
        arn = params["SubscriptionArn"]
        if not SUBSCRIPTION_ARN.match(arn):
            raise invalid("SubscriptionArn")
        sub = self.sns.subscription(arn)
        if sub is None:  # already gone: succeeds, as AWS does (its docs list NotFound)
            return {}
        if ctx.caller is None and sub["authenticated"]:
            raise AuthorizationError("Unsubscribe of this subscription requires a signed request "
                                     "(it was confirmed with AuthenticateOnUnsubscribe)")
        if sub["authenticated"] and ctx.caller.account_id not in (sub["owner"], sub["account"]):
            raise AuthorizationError(  # only its owner or the topic's may then end it
                accounts.not_authorized(ctx, "SNS:Unsubscribe", arn))
        if sub["status"] == "confirmed" and sub["protocol"] in ("http", "https"):
            sub["token"] = secrets.token_hex(64)
            self.sns.delete_subscription(arn, restore_token=sub["token"])
            self.deliveries.unsubscribed(sub, self.sns.topic(sub["topic_arn"]))
        else:
            self.sns.delete_subscription(arn)
        return {}

    def list_subscriptions(self, ctx, params):
        rows = self.sns.subscriptions(account=ctx.account_id, region=ctx.region,
                                      after=params.get("NextToken") or "", limit=PAGE + 1)
        return self._subscription_page(rows)

    def list_subscriptions_by_topic(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:ListSubscriptionsByTopic")
        rows = self.sns.subscriptions(topic_arn=topic["arn"], after=params.get("NextToken") or "",
                                      limit=PAGE + 1)
        return self._subscription_page(rows)

    def get_subscription_attributes(self, ctx, params):
        sub = self._subscription(ctx, params["SubscriptionArn"], "SNS:GetSubscriptionAttributes")
        attributes = {
            "ConfirmationWasAuthenticated": "true" if sub["authenticated"] else "false",
            "PendingConfirmation": "true" if sub["status"] == "pending" else "false",
            "Owner": sub["owner"], "RawMessageDelivery": "false",
            "TopicArn": sub["topic_arn"], "Endpoint": sub["endpoint"],
            "Protocol": sub["protocol"], "SubscriptionArn": sub["arn"],
            "SubscriptionPrincipal": f"arn:aws:iam::{sub['owner']}:root",
        }
        if sub["protocol"] in ("http", "https"):
            topic = self.sns.topic(sub["topic_arn"]) or {"attributes": {}}
            effective = DEFAULT_DELIVERY_POLICY["http"]["defaultHealthyRetryPolicy"]
            if topic["attributes"].get("DeliveryPolicy"):
                effective = json.loads(topic["attributes"]["DeliveryPolicy"]).get(
                    "http", {}).get("defaultHealthyRetryPolicy", effective)
            own = json.loads(sub["attributes"].get("DeliveryPolicy") or "{}")
            attributes["EffectiveDeliveryPolicy"] = json.dumps(
                {"healthyRetryPolicy": own.get("healthyRetryPolicy", effective)},
                separators=(",", ":"))
        if "FilterPolicy" in sub["attributes"]:
            attributes["FilterPolicyScope"] = "MessageAttributes"
        attributes.update(sub["attributes"])
        return {"Attributes": attributes}

    def set_subscription_attributes(self, ctx, params):
        sub = self._subscription(ctx, params["SubscriptionArn"], "SNS:SetSubscriptionAttributes")
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        if name not in SETTABLE:
            raise invalid("AttributeName")
        attributes = dict(sub["attributes"])
        if value == "" and name in ("FilterPolicy", "RedrivePolicy", "DeliveryPolicy",
                                    "ReplayPolicy"):
            attributes.pop(name, None)
            if name == "FilterPolicy":
                attributes.pop("FilterPolicyScope", None)
        else:
            attributes.update(self._checked_subscription_attributes(
                sub["protocol"], {name: value}, current=attributes))
        self.sns.update_subscription(sub["arn"], attributes=attributes)
        return {}

    # -- helpers --------------------------------------------------------------------------
    def _subscription(self, ctx, arn: str, action: str) -> dict:
        """A subscription, for its owner (the account that subscribed) or the topic's owner;
        anyone else is refused, whether or not it exists."""
        if not SUBSCRIPTION_ARN.match(arn or ""):
            raise invalid("SubscriptionArn")
        sub = self.sns.subscription(arn)
        caller = ctx.caller.account_id if ctx.caller is not None else None
        if caller not in (arn.split(":")[4], sub["owner"] if sub else None):
            raise AuthorizationError(accounts.not_authorized(ctx, action, arn))
        if sub is None:
            raise NotFound("Subscription does not exist")
        return sub

    @staticmethod
    def _subscription_page(rows: list[dict]) -> dict:
        page = [{"SubscriptionArn": "PendingConfirmation" if r["status"] == "pending" else r["arn"],
                 "Owner": r["owner"], "Protocol": r["protocol"], "Endpoint": r["endpoint"],
                 "TopicArn": r["topic_arn"]} for r in rows[:PAGE]]
        result = {"Subscriptions": page}
        if len(rows) > PAGE:
            result["NextToken"] = rows[PAGE - 1]["arn"]
        return result

    def _check_endpoint(self, topic: dict, protocol: str, endpoint: str) -> None:
        if protocol not in PROTOCOLS:
            raise invalid(f"Amazon SNS does not support this protocol string: {protocol}")
        if topic["attributes"].get("FifoTopic") == "true" and protocol != "sqs":
            raise invalid(f"Invalid protocol type: {protocol}")
        if protocol in ("http", "https"):
            if not endpoint.lower().startswith(protocol + "://") or len(endpoint) <= len(protocol) + 3:
                raise invalid("Endpoint must match the specified protocol")
        elif protocol in ("email", "email-json"):
            if not EMAIL.match(endpoint):
                raise invalid("Email address")
        elif protocol == "sqs":
            if not SQS_ARN.match(endpoint):
                raise invalid("SQS endpoint ARN")
        elif protocol == "lambda":
            if not LAMBDA_ARN.match(endpoint):
                raise invalid("Lambda endpoint ARN")
        elif protocol == "sms":
            if not PHONE.match(endpoint):
                raise invalid("Invalid SMS endpoint")
        elif protocol == "application":
            raise invalid("Endpoint", "Cloudlet has no mobile push platform applications, so "
                          "no application endpoint exists to subscribe")
        elif protocol == "firehose":
            raise invalid("Endpoint", "Cloudlet does not implement Kinesis Data Firehose, so "
                          "no delivery stream exists to subscribe")

    def _checked_subscription_attributes(self, protocol: str, attributes: dict,
                                         current: dict | None = None) -> dict:
        checked = {}
        current = current or {}
        for name, value in attributes.items():
            if name not in SETTABLE:
                raise invalid("AttributeName")
            if name == "RawMessageDelivery":
                if value.lower() not in ("true", "false"):
                    raise invalid("Attributes", f"RawMessageDelivery: Invalid value [{value}]. "
                                  "Must be true or false.")
                if protocol not in RAW_PROTOCOLS:
                    raise invalid("Attributes", f"Delivery protocol [{protocol}] does not "
                                  "support raw message delivery.")
                value = value.lower()
            elif name == "FilterPolicyScope":
                if value not in filter_policy.SCOPES:
                    raise invalid("Attributes", f"FilterPolicyScope: Invalid value [{value}]. "
                                  "Please use either MessageBody or MessageAttributes")
            elif name == "DeliveryPolicy":
                if protocol not in ("http", "https"):
                    raise invalid("DeliveryPolicy", f"Delivery protocol [{protocol}] does not "
                                  "support delivery policies")
                check_delivery_policy(value)
            elif name in ("RedrivePolicy", "ReplayPolicy"):
                try:
                    document = json.loads(value)
                    if not isinstance(document, dict):
                        raise ValueError
                except (ValueError, RecursionError):
                    raise invalid(name, "failed to parse JSON") from None
                if name == "RedrivePolicy" and not SQS_ARN.match(
                        str(document.get("deadLetterTargetArn") or "")):
                    raise invalid("RedrivePolicy", "deadLetterTargetArn: an SQS queue ARN")
            checked[name] = value
        if "FilterPolicy" in checked or "FilterPolicyScope" in checked:
            scope = checked.get("FilterPolicyScope") or current.get("FilterPolicyScope") \
                or "MessageAttributes"
            policy = checked.get("FilterPolicy", current.get("FilterPolicy"))
            if policy is not None:
                filter_policy.check(policy, scope)
                checked.setdefault("FilterPolicyScope", scope)
        return checked
