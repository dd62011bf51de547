"""Flow-log records (network/flow_records.py) and their delivery (network/flow_delivery.py):
AWS's default and custom formats, windows of MaxAggregationInterval on the service clock,
TrafficType, NODATA, one stream per interface."""

from __future__ import annotations

import pytest

from cloudlet import clock
from cloudlet.engines.network import Flow
from cloudlet.services.ec2.errors import Ec2Error
from cloudlet.services.ec2.network import flow_records
from cloudlet.services.ec2.network.flow_delivery import (
    Captured,
    FlowLogDelivery,
    FlowLogSpec,
    captured_by,
)

NOW = 1_800_000_000.0


class Bus:
    def __init__(self):
        self.events = []

    def publish(self, topic, event):
        self.events.append((topic, event))

    def records(self):
        return [(e["log_group"], e["log_stream"], item["timestamp"], item["message"])
                for _, e in self.events for item in e["events"]]


@pytest.fixture
def now(monkeypatch):
    """The service clock, at NOW plus what the test moves it by."""
    at = [NOW]
    monkeypatch.setattr(clock, "timestamp", lambda: at[0])
    monkeypatch.setattr(clock, "offset", lambda: 0.0)
    return at


def spec(traffic="ALL", interval=60, log_format=None, id="fl-1"):
    doc = {"FlowLogId": id, "TrafficType": traffic, "LogGroupName": "flows",
           "MaxAggregationInterval": interval}
    if log_format:
        doc["LogFormat"] = log_format
    return FlowLogSpec.of(doc)


def flow(action="ACCEPT", src="10.0.1.5", dst="198.18.0.10", dport=443, at=NOW + 1, size=120,
         flags=0):
    return Flow("eni-a", src, dst, 40000, dport, 6, 2, size, at, at + 2, action, flags)


def watching(bus, *specs, addresses=("10.0.1.5",)):
    delivery = FlowLogDelivery(bus)
    delivery.interfaces("111122223333", "us-east-1", "vpc-1", {"eni-a": Captured(
        "eni-a", "subnet-1", "i-1", addresses, tuple(specs), "use1-az1")})
    return delivery


def test_formats():
    assert flow_records.fields_of("${version} ${srcaddr}") == ["version", "srcaddr"]
    assert flow_records.version_of(flow_records.DEFAULT_FIELDS) == 2
    assert flow_records.version_of(["srcaddr", "vpc-id", "flow-direction"]) == 5
    for bad in ("", "${version}  ${srcaddr}", "${nope}", "version", "${version} ",
                "${version},${srcaddr}"):
        with pytest.raises(Ec2Error) as e:
            flow_records.fields_of(bad)
        assert e.value.code == "InvalidParameter"
    assert flow_records.line(["version", "srcport", "az-id"], {"version": 2, "srcport": 0}) == (
        "2 0 -")


def test_a_window_is_delivered_when_its_interval_has_passed(now):
    bus = Bus()
    delivery = watching(bus, spec())
    delivery.record("vpc-1", flow())
    delivery.record("vpc-1", flow(at=NOW + 5, size=80))  # the same flow: summed
    delivery.record("vpc-1", flow(src="198.18.0.10", dst="10.0.1.5", dport=40000))
    now[0] = NOW + 59
    delivery.deliver_due()
    assert bus.events == []
    now[0] = NOW + 60
    delivery.deliver_due()
    records = bus.records()
    assert {(g, s) for g, s, _, _ in records} == {("flows", "eni-a-all")}
    messages = sorted(m for _, _, _, m in records)
    assert messages == sorted([
        f"2 111122223333 eni-a 10.0.1.5 198.18.0.10 40000 443 6 4 200 {int(NOW + 1)} "
        f"{int(NOW + 7)} ACCEPT OK",
        f"2 111122223333 eni-a 198.18.0.10 10.0.1.5 40000 40000 6 2 120 {int(NOW + 1)} "
        f"{int(NOW + 3)} ACCEPT OK"])
    assert {t for _, _, t, _ in records} == {int((NOW + 1) * 1000)}  # the record's start
    now[0] = NOW + 130  # the next window: no traffic at all
    delivery.deliver_due()
    nodata = bus.records()[-1][3]
    assert nodata == f"2 111122223333 eni-a - - - - - - - {int(NOW + 60)} {int(NOW + 130)} - NODATA"


def test_traffic_type_and_custom_fields(now):
    bus = Bus()
    fmt = ("${version} ${vpc-id} ${subnet-id} ${instance-id} ${interface-id} ${type} "
           "${pkt-dst-aws-service} ${flow-direction} ${region} ${az-id} ${tcp-flags} ${action}")
    delivery = watching(bus, spec("REJECT", 600, fmt, "fl-r"), spec("ACCEPT", 60, id="fl-a"))
    delivery.record("vpc-1", flow("REJECT", src="10.0.9.9", dst="10.0.1.5", dport=22, flags=2))
    delivery.record("vpc-1", flow("REJECT", src="10.0.9.9", dst="10.0.1.5", dport=22, flags=4))
    delivery.record("vpc-1", flow("ACCEPT"))
    delivery.deliver_due(everything=True)
    messages = [m for _, _, _, m in bus.records()]
    assert "5 vpc-1 subnet-1 i-1 eni-a IPv4 - ingress us-east-1 use1-az1 6 REJECT" in messages
    accepted = [m for m in messages if m.startswith("2 ")]
    assert len(accepted) == 1 and accepted[0].endswith("ACCEPT OK")
    assert len(messages) == 2  # nothing of the other TrafficType, and no NODATA for traffic


def test_what_is_no_longer_captured_is_delivered_at_once(now):
    bus = Bus()
    delivery = watching(bus, spec())
    delivery.record("vpc-1", flow())
    delivery.record("vpc-2", flow())  # another VPC's interface of the same id: not captured
    delivery.interfaces("111122223333", "us-east-1", "vpc-1", {})
    assert len(bus.records()) == 1
    delivery.record("vpc-1", flow())  # gone: dropped
    delivery.deliver_due(everything=True)
    assert len(bus.records()) == 1


def test_scope_and_destinations():
    logs = [{"FlowLogId": "fl-v", "ResourceId": "vpc-1", "LogGroupName": "g"},
            {"FlowLogId": "fl-s", "ResourceId": "subnet-1", "LogGroupName": "g"},
            {"FlowLogId": "fl-o", "ResourceId": "subnet-2", "LogGroupName": "g"},
            {"FlowLogId": "fl-e", "ResourceId": "eni-a", "LogGroupName": "g"},
            {"FlowLogId": "fl-3", "ResourceId": "vpc-1", "LogDestinationType": "s3",
             "LogDestination": "arn:aws:s3:::b"}]
    assert [s.id for s in captured_by(logs, "vpc-1", "subnet-1", "eni-a")] == [
        "fl-v", "fl-s", "fl-e"]
    assert [s.id for s in captured_by(logs, "vpc-1", "subnet-2", "eni-b")] == ["fl-v", "fl-o"]
