"""Topics: CreateTopic, DeleteTopic, ListTopics, Get/SetTopicAttributes, Add/RemovePermission
(statements in the topic's Policy), tags."""

from __future__ import annotations

import json
import re

from cloudlet.services.sns import access
from cloudlet.services.sns.errors import NotFound, ResourceNotFound, TagLimitExceeded, invalid
from cloudlet.services.sns.store import parse_topic_arn, topic_arn

NAME = re.compile(r"[A-Za-z0-9_-]{1,256}\Z")
FIFO_NAME = re.compile(r"[A-Za-z0-9_-]{1,251}\.fifo\Z")
PAGE = 100
MAX_TAGS = 50
# Attributes a caller may set (CreateTopic, SetTopicAttributes); the rest are computed.
SETTABLE = {
    "DeliveryPolicy", "DisplayName", "Policy", "TracingConfig", "KmsMasterKeyId",
    "SignatureVersion", "ContentBasedDeduplication", "FifoTopic", "ArchivePolicy",
    "FifoThroughputScope", "DataProtectionPolicy",
    *(f"{kind}{what}" for kind in ("HTTP", "Firehose", "Lambda", "Application", "SQS")
      for what in ("SuccessFeedbackRoleArn", "SuccessFeedbackSampleRate", "FailureFeedbackRoleArn")),
}
DEFAULT_DELIVERY_POLICY = {"http": {
    "defaultHealthyRetryPolicy": {
        "minDelayTarget": 20, "maxDelayTarget": 20, "numRetries": 3, "numMaxDelayRetries": 0,
        "numNoDelayRetries": 0, "numMinDelayRetries": 0, "backoffFunction": "linear"},
    "disableSubscriptionOverrides": False,
    "defaultRequestPolicy": {"headerContentType": "text/plain; charset=UTF-8"}}}
BACKOFF_FUNCTIONS = ("arithmetic", "exponential", "geometric", "linear")


def default_policy(arn: str, account: str) -> str:
    return json.dumps({
        "Version": "2008-10-17", "Id": "__default_policy_ID",
        "Statement": [{
            "Sid": "__default_statement_ID", "Effect": "Allow", "Principal": {"AWS": "*"},
            "Action": ["SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
                       "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
                       "SNS:ListSubscriptionsByTopic", "SNS:Publish"],
            "Resource": arn, "Condition": {"StringEquals": {"AWS:SourceOwner": account}}}]},
        separators=(",", ":"))


def check_delivery_policy(text: str, attribute: str = "DeliveryPolicy") -> dict:
    try:
        policy = json.loads(text)
    except (ValueError, RecursionError):
        raise invalid("Attributes", f"{attribute}: failed to parse JSON") from None
    if not isinstance(policy, dict):
        raise invalid("Attributes", f"{attribute}: not a JSON object")
    http = policy.get("http", {})
    if not isinstance(http, dict):
        raise invalid("Attributes", f"{attribute}: http must be an object")
    for retry in (http.get("defaultHealthyRetryPolicy"), policy.get("healthyRetryPolicy")):
        if retry is not None:
            check_retry_policy(retry, attribute)
    return policy


def check_retry_policy(retry, attribute: str) -> None:
    if not isinstance(retry, dict):
        raise invalid("Attributes", f"{attribute}: healthyRetryPolicy must be an object")
    limits = {"minDelayTarget": (1, 3600), "maxDelayTarget": (1, 3600), "numRetries": (0, 100),
              "numNoDelayRetries": (0, 100), "numMinDelayRetries": (0, 100),
              "numMaxDelayRetries": (0, 100)}
    for key, (low, high) in limits.items():
        value = retry.get(key)
        if value is not None and (not isinstance(value, int) or not low <= value <= high):
            raise invalid("Attributes", f"{attribute}: {key} must be between {low} and {high}")
    if retry.get("minDelayTarget", 1) > retry.get("maxDelayTarget", 3600):
        raise invalid("Attributes", f"{attribute}: minDelayTarget must not exceed maxDelayTarget")
    if retry.get("backoffFunction", "linear") not in BACKOFF_FUNCTIONS:
        raise invalid("Attributes", f"{attribute}: backoffFunction must be one of "
                      + ", ".join(BACKOFF_FUNCTIONS))


class TopicOperations:
    def create_topic(self, ctx, params):
        name = params["Name"]
        attributes = {k: v or "" for k, v in (params.get("Attributes") or {}).items()}
        fifo = attributes.get("FifoTopic", "false").lower() == "true"
        if fifo and not FIFO_NAME.match(name):
            raise invalid("Topic Name", "Fifo Topic names must end with .fifo and must be made "
                          "up of only uppercase and lowercase ASCII letters, numbers, underscores, "
                          "and hyphens, and must be between 1 and 256 characters long.")
        if not fifo and not NAME.match(name):
            raise invalid("Topic Name")
        attributes = self._checked_attributes(attributes, fifo=fifo, creating=True)
        tags = self._checked_tags(params.get("Tags") or [])
        arn = topic_arn(ctx.region, ctx.account_id, name)
        existing = self.sns.topic(arn)
        if existing is not None:
            if attributes and any(existing["attributes"].get(k) != v for k, v in attributes.items()):
                raise invalid("Attributes", "Topic already exists with different attributes")
            if tags and any(existing["tags"].get(k) != v for k, v in tags.items()):
                raise invalid("Tags", "Topic already exists with different tags")
            return {"TopicArn": arn}
        self.sns.put_topic({"arn": arn, "account": ctx.account_id, "region": ctx.region,
                            "name": name, "attributes": attributes, "tags": tags})
        return {"TopicArn": arn}

    def delete_topic(self, ctx, params):
        arn = self._topic_arn_param(params["TopicArn"])
        topic = self.sns.topic(arn)
        if topic is not None:
            self._allowed(ctx, topic, "SNS:DeleteTopic")
        else:  # deleting a topic that is not there succeeds, in the caller's own account
            access.require(ctx, arn, parse_topic_arn(arn)[1], None, "SNS:DeleteTopic")
        self.sns.delete_topic(arn)
        return {}

    def list_topics(self, ctx, params):
        rows = self.sns.topics(ctx.account_id, ctx.region, params.get("NextToken") or "", PAGE + 1)
        result = {"Topics": [{"TopicArn": r["arn"]} for r in rows[:PAGE]]}
        if len(rows) > PAGE:
            result["NextToken"] = rows[PAGE - 1]["arn"]
        return result

    def get_topic_attributes(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:GetTopicAttributes")
        return {"Attributes": self.topic_attributes(topic)}

    def set_topic_attributes(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:SetTopicAttributes")
        name, value = params["AttributeName"], params.get("AttributeValue") or ""
        fifo = topic["attributes"].get("FifoTopic") == "true"
        if name == "FifoTopic":
            raise invalid("AttributeName", "FifoTopic can only be set when the topic is created")
        attributes = self._checked_attributes({name: value}, fifo=fifo, creating=False)
        merged = {**topic["attributes"], **attributes}
        if name in ("DeliveryPolicy", "DisplayName", "KmsMasterKeyId", "TracingConfig",
                    "ArchivePolicy", "DataProtectionPolicy") and value == "":
            merged.pop(name, None)
        self.sns.update_topic(topic["arn"], attributes=merged)
        return {}

    def topic_attributes(self, topic: dict) -> dict:
        arn, account = topic["arn"], topic["account"]
        counts = self.sns.counts(arn)
        stored = topic["attributes"]
        delivery = DEFAULT_DELIVERY_POLICY
        if "DeliveryPolicy" in stored:
            delivery = {**DEFAULT_DELIVERY_POLICY, **json.loads(stored["DeliveryPolicy"])}
        attributes = {
            "Policy": default_policy(arn, account),
            "Owner": account,
            "SubscriptionsPending": str(counts["pending"]),
            "TopicArn": arn,
            "EffectiveDeliveryPolicy": json.dumps(delivery, separators=(",", ":")),
            "SubscriptionsConfirmed": str(counts["confirmed"]),
            "DisplayName": "",
            "SubscriptionsDeleted": str(counts["deleted"]),
        }
        if stored.get("FifoTopic") == "true":
            attributes["ContentBasedDeduplication"] = "false"
        attributes.update(stored)
        return attributes

    # -- the topic policy ---------------------------------------------------------------
    def add_permission(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:AddPermission")
        label = params["Label"]
        if not re.fullmatch(r"[A-Za-z0-9_-]{1,80}", label):
            raise invalid("Label")
        accounts, actions = params["AWSAccountId"], params["ActionName"]
        if not accounts or not all(re.fullmatch(r"\d{12}", a) for a in accounts):
            raise invalid("AWSAccountId")
        if not actions or not all(re.fullmatch(r"[A-Za-z]{1,64}", a) for a in actions):
            raise invalid("ActionName")
        policy = json.loads(self.topic_attributes(topic)["Policy"])
        statements = policy.setdefault("Statement", [])
        if any(s.get("Sid") == label for s in statements):
            raise invalid("Statement already exists")
        principals = [f"arn:aws:iam::{a}:root" for a in accounts]
        statements.append({
            "Sid": label, "Effect": "Allow",
            "Principal": {"AWS": principals[0] if len(principals) == 1 else principals},
            "Action": [f"SNS:{a}" for a in actions] if len(actions) > 1 else f"SNS:{actions[0]}",
            "Resource": topic["arn"]})
        self._store_policy(topic, policy)
        return {}

    def remove_permission(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:RemovePermission")
        policy = json.loads(self.topic_attributes(topic)["Policy"])
        statements = policy.get("Statement", [])
        kept = [s for s in statements if s.get("Sid") != params["Label"]]
        if len(kept) != len(statements):
            policy["Statement"] = kept
            self._store_policy(topic, policy)
        return {}

    def _store_policy(self, topic: dict, policy: dict) -> None:
        attributes = {**topic["attributes"], "Policy": json.dumps(policy, separators=(",", ":"))}
        self.sns.update_topic(topic["arn"], attributes=attributes)

    # -- tags ---------------------------------------------------------------------------
    def tag_resource(self, ctx, params):
        topic = self._tagged(ctx, params["ResourceArn"], "SNS:TagResource")
        tags = {**topic["tags"], **self._checked_tags(params["Tags"])}
        if len(tags) > MAX_TAGS:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        self.sns.update_topic(topic["arn"], tags=tags)
        return {}

    def untag_resource(self, ctx, params):
        topic = self._tagged(ctx, params["ResourceArn"], "SNS:UntagResource")
        tags = {k: v for k, v in topic["tags"].items() if k not in set(params["TagKeys"])}
        self.sns.update_topic(topic["arn"], tags=tags)
        return {}

    def list_tags_for_resource(self, ctx, params):
        topic = self._tagged(ctx, params["ResourceArn"], "SNS:ListTagsForResource")
        return {"Tags": [{"Key": k, "Value": v} for k, v in topic["tags"].items()]}

    # -- helpers --------------------------------------------------------------------------
    def topic_exists(self, arn: str) -> bool:
        """For other services, through `reads.SnsReads` (S3 validates notification
        destinations)."""
        return self.sns.topic(arn) is not None

    def _topic_arn_param(self, arn: str, what: str = "TopicArn") -> str:
        if parse_topic_arn(arn) is None:
            raise invalid(what)
        return arn

    def _topic(self, arn: str, what: str = "TopicArn", *, ctx=None, action: str = "") -> dict:
        """The topic an ARN names; with `action`, a caller from another account must be
        allowed it by the topic's policy."""
        topic = self.sns.topic(self._topic_arn_param(arn, what))
        if topic is None:
            if action:  # another account's missing topic looks like one that refuses
                access.require(ctx, arn, parse_topic_arn(arn)[1], None, action)
            raise NotFound("Topic does not exist")
        if action:
            self._allowed(ctx, topic, action)
        return topic

    def _allowed(self, ctx, topic: dict, action: str) -> None:
        if access.foreign(ctx, topic["account"]):
            access.require(ctx, topic["arn"], topic["account"],
                           self.topic_attributes(topic)["Policy"], action)

    def _tagged(self, ctx, arn: str, action: str) -> dict:
        parsed = parse_topic_arn(arn)
        if parsed is None:
            raise invalid("ResourceArn")
        topic = self.sns.topic(arn)
        if topic is None:
            access.require(ctx, arn, parsed[1], None, action)
            raise ResourceNotFound("Resource does not exist")
        self._allowed(ctx, topic, action)
        return topic

    def _checked_tags(self, tags: list[dict]) -> dict:
        if len(tags) > MAX_TAGS:
            raise TagLimitExceeded("Could not complete request: tag quota of per resource exceeded")
        checked = {}
        for tag in tags:
            key, value = tag.get("Key") or "", tag.get("Value") or ""
            if not 1 <= len(key) <= 128 or key.lower().startswith("aws:"):
                raise invalid("Tags", f"Tag key {key!r} is not valid")
            if len(value) > 256:
                raise invalid("Tags", f"Tag value for key {key!r} is too long")
            checked[key] = value
        return checked

    def _checked_attributes(self, attributes: dict, *, fifo: bool, creating: bool) -> dict:
        checked = {}
        for name, value in attributes.items():
            if name not in SETTABLE:
                raise invalid("AttributeName")
            if name == "FifoTopic":
                if value.lower() not in ("true", "false"):
                    raise invalid("Attributes", "FifoTopic must be true or false")
                if value.lower() == "true":
                    checked[name] = "true"
                continue
            if name == "ContentBasedDeduplication":
                if not fifo:
                    raise invalid("ContentBasedDeduplication",
                                  "Content-based deduplication can only be set for FIFO topics")
                if value.lower() not in ("true", "false"):
                    raise invalid("ContentBasedDeduplication")
                value = value.lower()
            elif name == "SignatureVersion" and value not in ("1", "2"):
                raise invalid("Attributes", "SignatureVersion must be 1 or 2")
            elif name == "DisplayName" and len(value) > 100:
                raise invalid("DisplayName")
            elif name == "DeliveryPolicy" and value:
                check_delivery_policy(value)
            elif name == "Policy" and value:
                access.check_policy(value)
            checked[name] = value
        return checked
