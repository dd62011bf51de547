"""Flow-log records as AWS writes them: pure functions.

    fields_of(log_format) -> ["version", "account-id", ...]   InvalidParameter if malformed
    version_of(fields) -> 2..8        the highest version among the fields (2 by default)
    line(fields, values) -> "2 123456789012 eni-0a1b... 10.0.1.5 ..."   ("-": no value)
    stream_name(eni_id) -> "eni-0a1b...-all"   one stream per interface in a log group, as
                                               AWS names them (every flow log to the group
                                               writes there)
    captured(traffic_type, action) -> bool     TrafficType ACCEPT, REJECT or ALL
    aws_service(address) -> "S3" | "DYNAMODB" | "AMAZON" | None   pkt-*-aws-service

The default format holds the version 2 fields: version account-id interface-id srcaddr
dstaddr srcport dstport protocol packets bytes start end action log-status.
"""

from __future__ import annotations

import re

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.network.prefix_lists import API_ADDRESS, DYNAMODB_ADDRESS, S3_ADDRESS

FIELDS = {name: version for version, names in (
    (2, "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
        "bytes start end action log-status"),
    (3, "vpc-id subnet-id instance-id tcp-flags type pkt-srcaddr pkt-dstaddr"),
    (4, "region az-id sublocation-type sublocation-id"),
    (5, "pkt-src-aws-service pkt-dst-aws-service flow-direction traffic-path"),
    (7, "ecs-cluster-arn ecs-cluster-name ecs-container-instance-arn "
        "ecs-container-instance-id ecs-container-id ecs-second-container-id ecs-service-name "
        "ecs-task-definition-arn ecs-task-arn ecs-task-id"),
    (8, "reject-reason"),
) for name in names.split()}
DEFAULT_FIELDS = [name for name, version in FIELDS.items() if version == 2]
_TOKEN = re.compile(r"^\$\{([a-z0-9-]+)\}$")
_SERVICES = {S3_ADDRESS: "S3", DYNAMODB_ADDRESS: "DYNAMODB", API_ADDRESS: "AMAZON"}


def fields_of(log_format: str) -> list[str]:
    """The fields of a LogFormat: `${field}` tokens from AWS's list, one space apart."""
    tokens = log_format.split(" ")
    found = [m.group(1) if (m := _TOKEN.match(token)) else None for token in tokens]
    if not log_format or any(name not in FIELDS for name in found):
        raise errors.InvalidParameter(
            message=f"1 validation error detected: Value '{log_format}' at 'logFormat' has an "
                    "invalid format")
    return found


def version_of(fields: list[str]) -> int:
    return max((FIELDS[name] for name in fields), default=2)


def line(fields: list[str], values: dict) -> str:
    return " ".join(_text(values.get(name)) for name in fields)


def _text(value) -> str:
    if value is None or value == "":
        return "-"
    return str(value)


def stream_name(eni_id: str) -> str:
    return f"{eni_id}-all"


def captured(traffic_type: str, action: str) -> bool:
    return traffic_type == "ALL" or traffic_type == action


def aws_service(address: str) -> str | None:
    return _SERVICES.get(address)
