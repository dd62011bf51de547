"""A published message, as SNS delivers it: the envelope's parts and their JSON form."""

from __future__ import annotations

import base64
import dataclasses
from dataclasses import dataclass, field

from cloudlet import clock


@dataclass
class Message:
    message_id: str
    topic_arn: str
    message: str
    timestamp: str
    subject: str | None = None
    by_protocol: dict[str, str] = field(default_factory=dict)  # MessageStructure=json
    attributes: dict = field(default_factory=dict)  # name -> MessageAttributeValue
    structured: bool = False  # MessageStructure=json: attributes filter, but are not sent
    signature_version: str = "1"
    group_id: str | None = None
    dedup_id: str | None = None
    sequence_number: str | None = None
    display_name: str = ""
    size: int = 0  # bytes of the message and its attributes, as Publish counts them

    def text_for(self, protocol: str) -> str:
        return self.by_protocol.get(protocol, self.message)

    def to_json(self) -> dict:
        data = dataclasses.asdict(self)
        data["attributes"] = {
            name: {**value, "BinaryValue": base64.b64encode(value["BinaryValue"]).decode()}
            if isinstance(value.get("BinaryValue"), bytes) else value
            for name, value in self.attributes.items()}
        return data

    @classmethod
    def from_json(cls, data: dict) -> Message:
        message = cls(**data)
        for value in message.attributes.values():
            if isinstance(value.get("BinaryValue"), str):
                value["BinaryValue"] = base64.b64decode(value["BinaryValue"])
        return message


def message_attributes(attributes: dict) -> dict:
    """The envelope's MessageAttributes: {name: {Type, Value}}, binary values in base64."""
    out = {}
    for name, value in attributes.items():
        if "BinaryValue" in value:
            raw = value["BinaryValue"]
            text = base64.b64encode(raw if isinstance(raw, bytes) else raw.encode()).decode()
        else:
            text = value.get("StringValue", "")
        out[name] = {"Type": value["DataType"], "Value": text}
    return out


def timestamp() -> str:
    """SNS's Timestamp: ISO 8601 in UTC with milliseconds, on the service clock."""
    return clock.now().strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
