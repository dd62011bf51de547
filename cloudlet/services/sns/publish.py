"""Publish and PublishBatch: checking a message as SNS does, then handing it to delivery."""

from __future__ import annotations

import hashlib
import json
import math
import re
import threading
import uuid

from cloudlet import clock
from cloudlet.errors import ServiceError
from cloudlet.services.sns.errors import (
    BatchEntryIdsNotDistinct,
    BatchRequestTooLong,
    EmptyBatchRequest,
    InvalidBatchEntryId,
    NotFound,
    ParameterValueInvalid,
    TooManyEntriesInBatchRequest,
    invalid,
)
from cloudlet.services.sns.message import Message, timestamp
from cloudlet.services.sns.store import parse_topic_arn

MAX_SIZE = 256 * 1024
MAX_BATCH = 10
DEDUP_WINDOW = 300.0
ATTRIBUTE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,256}\Z")
BATCH_ID = re.compile(r"[A-Za-z0-9_-]{1,80}\Z")
GROUP_ID = re.compile(r"[!-~]{1,128}\Z")
PHONE = re.compile(r"\+?[1-9]\d{6,14}\Z")


class PublishOperations:
    def _init_publish(self) -> None:
        self._dedup: dict[tuple[str, str], tuple[float, str, str]] = {}
        self._sequence = 0
        self._publish_lock = threading.Lock()

    def publish(self, ctx, params):
        arn = params.get("TopicArn") or params.get("TargetArn")
        phone = params.get("PhoneNumber")
        if phone and not arn:
            return self._publish_sms(ctx, phone, params)
        if not arn:
            raise invalid("TopicArn or TargetArn", "no value for required parameter")
        if parse_topic_arn(arn) is None:
            if ":endpoint/" in arn:
                raise NotFound("Endpoint does not exist")
            raise invalid("TopicArn" if params.get("TopicArn") else "TargetArn")
        topic = self._topic(arn, ctx=ctx, action="SNS:Publish")
        message = self._message(topic, params)
        return self._accept(topic, message)

    def publish_batch(self, ctx, params):
        topic = self._topic(params["TopicArn"], ctx=ctx, action="SNS:Publish")
        entries = params.get("PublishBatchRequestEntries") or []
        if not entries:
            raise EmptyBatchRequest()
        if len(entries) > MAX_BATCH:
            raise TooManyEntriesInBatchRequest()
        ids = [e.get("Id", "") for e in entries]
        if len(set(ids)) != len(ids):
            raise BatchEntryIdsNotDistinct()
        if not all(BATCH_ID.match(i) for i in ids):
            raise InvalidBatchEntryId()
        if sum(_size(e) for e in entries) > MAX_SIZE:
            raise BatchRequestTooLong()
        successful, failed = [], []
        for entry in entries:
            try:
                message = self._message(topic, entry)
                result = self._accept(topic, message)
                successful.append({"Id": entry["Id"], **result})
            except ServiceError as error:
                failed.append({"Id": entry["Id"], "Code": error.code, "Message": error.message,
                               "SenderFault": error.sender_fault})
        return {"Successful": successful, "Failed": failed}

    def publish_message(self, topic_arn: str, message: str, subject: str | None = None,
                        attributes: dict | None = None) -> str | None:
        """For other services (alarm actions, S3 notifications, the bus): publish as the
        topic's owner would; returns the MessageId, None if the topic does not exist."""
        topic = self.sns.topic(topic_arn)
        if topic is None:
            return None
        params = {"Message": message, "MessageAttributes": attributes or {}}
        if subject:  # SNS's rule: printable ASCII, at most 100 characters
            params["Subject"] = "".join(c if 32 <= ord(c) < 127 else "?" for c in subject)[:100]
        if topic["attributes"].get("FifoTopic") == "true":
            params["MessageGroupId"] = "cloudlet"
            params["MessageDeduplicationId"] = str(uuid.uuid4())
        return self._accept(topic, self._message(topic, params))["MessageId"]

    # -- checks ---------------------------------------------------------------------------
    def _message(self, topic: dict, params: dict) -> Message:
        text = params.get("Message")
        if text is None or text == "":
            raise invalid("Empty message")
        attributes = params.get("MessageAttributes") or {}
        _check_attributes(attributes)
        if _size(params) > MAX_SIZE:
            raise invalid("Message too long")
        subject = params.get("Subject")
        if subject is not None and (not subject or len(subject) > 100 or not all(
                32 <= ord(c) < 127 for c in subject)):
            raise invalid("Subject")
        by_protocol = {}
        structure = params.get("MessageStructure")
        if structure is not None:
            if structure != "json":
                raise invalid("MessageStructure")
            try:
                by_protocol = json.loads(text)
            except (ValueError, RecursionError):
                raise invalid("Message Structure - JSON message body failed to parse") from None
            if not isinstance(by_protocol, dict) or "default" not in by_protocol:
                raise invalid("Message Structure - No default entry in JSON message body")
            if not all(isinstance(v, str) for v in by_protocol.values()):
                raise invalid("Message Structure - JSON message body failed to parse")
            text = by_protocol["default"]
        fifo = topic["attributes"].get("FifoTopic") == "true"
        group, dedup = params.get("MessageGroupId"), params.get("MessageDeduplicationId")
        if fifo:
            if not group:
                raise invalid("The MessageGroupId parameter is required for FIFO topics")
            if not dedup and topic["attributes"].get("ContentBasedDeduplication") != "true":
                raise invalid("The topic should either have ContentBasedDeduplication enabled "
                              "or MessageDeduplicationId provided explicitly")
            dedup = dedup or hashlib.sha256(params["Message"].encode()).hexdigest()
        elif dedup is not None:
            raise invalid("MessageDeduplicationId", "The request includes "
                          "MessageDeduplicationId parameter that is not valid for this topic type")
        if group is not None and not GROUP_ID.match(group):
            raise invalid("MessageGroupId")
        if dedup is not None and not GROUP_ID.match(dedup):
            raise invalid("MessageDeduplicationId")
        return Message(
            message_id=str(uuid.uuid4()), topic_arn=topic["arn"], message=text,
            size=_size(params),
            timestamp=timestamp(), subject=subject,
            by_protocol={k: v for k, v in by_protocol.items() if k != "default"},
            attributes=attributes, structured=structure is not None,
            signature_version=topic["attributes"].get("SignatureVersion", "1"),
            group_id=group, dedup_id=dedup,
            display_name=topic["attributes"].get("DisplayName", ""))

    def _accept(self, topic: dict, message: Message) -> dict:
        self.metrics.published(topic["arn"], message.size)
        if message.dedup_id is None:
            self.deliveries.fan_out(message)
            return {"MessageId": message.message_id}
        now = clock.timestamp()
        with self._publish_lock:
            for key in [k for k, v in self._dedup.items() if v[0] <= now]:
                del self._dedup[key]
            seen = self._dedup.get((topic["arn"], message.dedup_id))
            if seen is not None:
                return {"MessageId": seen[1], "SequenceNumber": seen[2]}
            self._sequence += 1
            message.sequence_number = f"{int(now * 1000) * 1000 + self._sequence % 1000:020d}"
            self._dedup[(topic["arn"], message.dedup_id)] = (
                now + DEDUP_WINDOW, message.message_id, message.sequence_number)
            self.deliveries.fan_out(message)  # in sequence order
        return {"MessageId": message.message_id, "SequenceNumber": message.sequence_number}

    def _publish_sms(self, ctx, phone: str, params: dict) -> dict:
        if not PHONE.match(phone):
            raise invalid("PhoneNumber", "Invalid phone number")
        text = params.get("Message")
        if not text:
            raise invalid("Empty message")
        _check_attributes(params.get("MessageAttributes") or {})
        self.outbox.write(phone, params.get("Subject") or "SMS", text, protocol="sms",
                          accounts=(ctx.account_id,))
        return {"MessageId": str(uuid.uuid4())}


def _size(params: dict) -> int:
    size = len((params.get("Message") or "").encode("utf-8"))
    for name, value in (params.get("MessageAttributes") or {}).items():
        raw = value.get("StringValue") or value.get("BinaryValue") or b""
        size += len(name.encode()) + len(value.get("DataType", "").encode()) + len(
            raw if isinstance(raw, bytes) else raw.encode())
    return size


def _check_attributes(attributes: dict) -> None:
    for name, value in attributes.items():
        if (not ATTRIBUTE_NAME.match(name) or name.lower().startswith(("aws.", "amazon.", "."))
                or name.endswith(".") or ".." in name):
            raise invalid("MessageAttributes", f"Invalid attribute name: {name}")
        kind = value.get("DataType") or ""
        base = kind.split(".", 1)[0]
        if base not in ("String", "Number", "Binary") or len(kind) > 256:
            raise ParameterValueInvalid(
                f"The message attribute '{name}' has an invalid message attribute type, the set "
                "of supported type prefixes is Binary, Number, and String.")
        if base == "Binary":
            if not value.get("BinaryValue"):
                raise ParameterValueInvalid(
                    f"The message attribute '{name}' must contain non-empty message attribute "
                    f"value for message attribute type '{kind}'.")
            continue
        text = value.get("StringValue")
        if text is None or text == "":
            raise ParameterValueInvalid(
                f"The message attribute '{name}' must contain non-empty message attribute value "
                f"for message attribute type '{kind}'.")
        if base == "Number":
            try:
                number = float(text)
            except (ValueError, OverflowError):
                number = math.nan
            if not math.isfinite(number):
                raise ParameterValueInvalid(
                    f"Could not cast message attribute '{name}' value to number.")
        elif kind == "String.Array":
            try:
                array = json.loads(text)
            except (ValueError, RecursionError):
                array = None
            if not isinstance(array, list) or any(isinstance(v, (dict, list)) for v in array):
                raise ParameterValueInvalid(
                    f"The message attribute '{name}' with type 'String.Array' has invalid value "
                    f"{text}. The value must be a JSON array of strings, numbers, true, false or "
                    "null.")
