"""Delivering flow logs: the packet filter's own verdicts (the engine's `watch_flows`) become
flow-log records in CloudWatch Logs, through the event bus (`logs:put`).

    delivery = FlowLogDelivery(bus)
    captured_by(flow_logs, vpc_id, subnet_id, eni_id) -> (FlowLogSpec, ...)   in scope: the
        VPC's, the subnet's and the interface's own flow logs to CloudWatch Logs
    delivery.interfaces(account, region, vpc_id, {engine id: Captured})   what the VPC's flow
        logs capture now (the port says after each change); the windows of what is no longer
        captured are delivered at once
    delivery.record(vpc_id, flow)    the engine's callback (its watcher thread)
    delivery.deliver_due()           the windows older than their MaxAggregationInterval
    delivery.start() / stop()        a thread delivering what is due every second / stop
                                     delivers every open window

Each (flow log, interface) pair has an aggregation window of MaxAggregationInterval (60 or
600 s) on the service clock, so a test that advances the clock closes it. A window's flows
are summed per 5-tuple and action (start: the first packet, end: the last): one record each,
in the flow log's format, written to its log group in the interface's stream, the event's
timestamp its start, as AWS writes them. A window in which the interface saw no traffic at
all gives AWS's NODATA record.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from cloudlet import clock
from cloudlet.services.ec2.network import flow_records

log = logging.getLogger("cloudlet.ec2.flowlogs")

TICK = 1.0


@dataclass(frozen=True)
class FlowLogSpec:
    id: str
    traffic: str  # ACCEPT | REJECT | ALL
    group: str
    interval: int
    fields: tuple[str, ...]

    @classmethod
    def of(cls, doc: dict) -> FlowLogSpec | None:
        """None for flow logs not delivered here (S3 destinations)."""
        if doc.get("LogDestinationType", "cloud-watch-logs") != "cloud-watch-logs":
            return None
        return cls(doc["FlowLogId"], doc.get("TrafficType") or "ALL", doc["LogGroupName"],
                   int(doc.get("MaxAggregationInterval") or 600),
                   tuple(flow_records.fields_of(doc.get("LogFormat") or " ".join(
                       f"${{{f}}}" for f in flow_records.DEFAULT_FIELDS))))


@dataclass(frozen=True)
class Captured:
    """An interface the VPC's flow logs capture (`eni`: its id in AWS's records)."""

    eni: str
    subnet: str
    instance: str | None
    addresses: tuple[str, ...]
    logs: tuple[FlowLogSpec, ...]
    az_id: str | None = None


def captured_by(flow_logs: list[dict], vpc_id: str, subnet_id: str, eni_id: str
                ) -> tuple[FlowLogSpec, ...]:
    found = []
    for doc in flow_logs:
        if doc.get("ResourceId") in (vpc_id, subnet_id, eni_id):
            try:
                spec = FlowLogSpec.of(doc)
            except Exception:  # a format stored before formats were checked
                log.warning("flow log %s has a format it cannot write", doc.get("FlowLogId"))
                continue
            if spec is not None:
                found.append(spec)
    return tuple(found)


class _Window:
    __slots__ = ("flows", "opened", "seen")

    def __init__(self, opened: float) -> None:
        self.opened = opened
        self.flows: dict[tuple, list] = {}  # (src, dst, sport, dport, proto, action) -> sums
        self.seen = False  # any traffic at all on the interface (for NODATA)


class _Pair:
    """One flow log on one interface, and its open window."""

    __slots__ = ("account", "captured", "region", "spec", "vpc_id", "window")

    def __init__(self, account, region, vpc_id, captured, spec, window) -> None:
        self.account, self.region, self.vpc_id = account, region, vpc_id
        self.captured, self.spec, self.window = captured, spec, window


class FlowLogDelivery:
    def __init__(self, bus, tick: float = TICK) -> None:
        self.bus = bus
        self.tick = tick
        self._captured: dict[tuple[str, str], Captured] = {}  # (vpc, engine id) ->
        self._pairs: dict[tuple[str, str], _Pair] = {}  # (flow log, eni) ->
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    # -- what is captured ------------------------------------------------------------------
    def interfaces(self, account: str, region: str, vpc_id: str,
                   captured: dict[str, Captured]) -> None:
        now = clock.timestamp()
        with self._lock:
            for key in [k for k in self._captured if k[0] == vpc_id]:
                del self._captured[key]
            for engine_id, what in captured.items():
                self._captured[(vpc_id, engine_id)] = what
            wanted = {(spec.id, c.eni): (c, spec) for c in captured.values() for spec in c.logs}
            closed = [(self._pairs.pop(key), now) for key, pair in list(self._pairs.items())
                      if pair.vpc_id == vpc_id and key not in wanted]
            for key, (what, spec) in wanted.items():
                pair = self._pairs.get(key)
                if pair is None:
                    self._pairs[key] = _Pair(account, region, vpc_id, what, spec, _Window(now))
                else:
                    pair.captured, pair.spec = what, spec
        self._deliver(closed)

    # -- flows -----------------------------------------------------------------------------
    def record(self, vpc_id: str, flow) -> None:
        offset = clock.offset()
        with self._lock:
            captured = self._captured.get((vpc_id, flow.interface))
            if captured is None:
                return
            for spec in captured.logs:
                pair = self._pairs.get((spec.id, captured.eni))
                if pair is None:
                    continue
                window = pair.window
                window.seen = True
                if not flow_records.captured(spec.traffic, flow.action):
                    continue
                key = (flow.src, flow.dst, flow.sport, flow.dport, flow.protocol, flow.action)
                sums = window.flows.get(key)
                if sums is None:
                    window.flows[key] = [flow.packets, flow.bytes, flow.start + offset,
                                         flow.end + offset, flow.tcp_flags]
                else:
                    sums[0] += flow.packets
                    sums[1] += flow.bytes
                    sums[2] = min(sums[2], flow.start + offset)
                    sums[3] = max(sums[3], flow.end + offset)
                    sums[4] |= flow.tcp_flags

    def deliver_due(self, everything: bool = False) -> None:
        now = clock.timestamp()
        due = []
        with self._lock:
            for pair in self._pairs.values():
                if everything or now - pair.window.opened >= pair.spec.interval:
                    due.append((_Pair(pair.account, pair.region, pair.vpc_id, pair.captured,
                                      pair.spec, pair.window), now))
                    pair.window = _Window(now)
        self._deliver(due)

    def _deliver(self, due: list[tuple[_Pair, float]]) -> None:
        batches: dict[tuple, list] = {}
        for pair, now in due:
            key = (pair.account, pair.region, pair.spec.group,
                   flow_records.stream_name(pair.captured.eni))
            batches.setdefault(key, []).extend(
                {"timestamp": int(start * 1000), "message": text}
                for start, text in _lines(pair, now))
        for (account, region, group, stream), events in batches.items():
            if events:
                events.sort(key=lambda e: e["timestamp"])
                self.bus.publish("logs:put", {"account": account, "region": region,
                                              "log_group": group, "log_stream": stream,
                                              "events": events})

    # -- the delivery thread ---------------------------------------------------------------
    def start(self) -> None:
        if self._thread is None:
            self._stopping.clear()
            self._thread = threading.Thread(target=self._run, name="ec2-flowlogs",
                                            daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while not self._stopping.wait(self.tick):
            try:
                self.deliver_due()
            except Exception:
                log.exception("flow-log records were not delivered")

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None
        self.deliver_due(everything=True)


def _lines(pair: _Pair, now: float) -> list[tuple[float, str]]:
    """(start, record) of each flow of a window, or its NODATA record."""
    captured, window, fields = pair.captured, pair.window, list(pair.spec.fields)
    common = {"version": flow_records.version_of(fields), "account-id": pair.account,
              "interface-id": captured.eni, "vpc-id": pair.vpc_id,
              "subnet-id": captured.subnet, "instance-id": captured.instance,
              "region": pair.region, "az-id": captured.az_id}
    if not window.flows:
        if window.seen:  # traffic, none of it of this flow log's TrafficType
            return []
        return [(window.opened, flow_records.line(fields, {
            **common, "start": int(window.opened), "end": int(now), "log-status": "NODATA"}))]
    found = []
    for (src, dst, sport, dport, protocol, action), (packets, size, start, end, flags) in (
            window.flows.items()):
        found.append((start, flow_records.line(fields, {
            **common, "srcaddr": src, "dstaddr": dst, "srcport": sport, "dstport": dport,
            "protocol": protocol, "packets": packets, "bytes": size, "start": int(start),
            "end": int(end), "action": action, "log-status": "OK", "type": "IPv4",
            "pkt-srcaddr": src, "pkt-dstaddr": dst, "tcp-flags": flags if protocol == 6 else None,
            "pkt-src-aws-service": flow_records.aws_service(src),
            "pkt-dst-aws-service": flow_records.aws_service(dst),
            "flow-direction": "egress" if src in captured.addresses else "ingress"})))
    return found
