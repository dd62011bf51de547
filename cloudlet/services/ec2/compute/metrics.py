"""AWS/EC2 metrics of running instances, published on the bus (`cloudwatch:metrics`).

Every 5 minutes (basic monitoring), or every minute when `Monitoring.State` is `enabled`
(MonitorInstances), on the service clock: a datapoint is due at each period boundary and
stamped with the start of the period it closes, so that moving the clock forward
(`POST /_cloudlet/clock`) makes the next one due at once. What is measured is real, over the
real time since the instance's previous datapoint:

    CPUUtilization              Percent  the instance cgroup's CPU seconds (the engine's Stats)
                                         over the elapsed time, per vCPU: CpuOptions' cores x
                                         threads, capped to the host's CPUs as the engine caps
                                         the CFS quota
    NetworkIn / NetworkOut      Bytes    the ENIs' veth counters (fabric.interface_counters),
    NetworkPacketsIn / Out      Count    as the instance sees them, summed over its ENIs
    DiskReadBytes / WriteBytes  Bytes    the volumes' loop devices (/sys/block/loopN/stat: the
    DiskReadOps / WriteOps      Count    root volume's and the data volumes'), also published
                                         as EBSReadBytes, EBSWriteBytes, EBSReadOps and
                                         EBSWriteOps, as Nitro instances report EBS I/O
    StatusCheckFailed_Instance  Count    1 when the instance is running but the runtime has no
                                         process for it, else 0
    StatusCheckFailed_System    Count    0 (the host is up: there is no other hardware)
    StatusCheckFailed           Count    the larger of the two

Dimensions: InstanceId; with detailed monitoring also ImageId and InstanceType (AWS's
aggregates), and AutoScalingGroupName for an instance of a group (its
`aws:autoscaling:groupName` tag). A stopped instance publishes nothing, as on AWS; its
counters start again from its next boot.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from cloudlet import clock
from cloudlet.services.ec2.store import Records

log = logging.getLogger("cloudlet.ec2.metrics")

NAMESPACE = "AWS/EC2"
BASIC_PERIOD = 300
DETAILED_PERIOD = 60
TICK = 1.0            # real seconds between looks at the clock
DISCOVER_EVERY = 5.0  # real seconds between scans for instances that started
MIN_ELAPSED = 1.0     # real seconds a datapoint must cover (after the clock jumps, wait)
ASG_TAG = "aws:autoscaling:groupName"

Stats = Callable[[str], object | None]          # instance id -> engine Stats, or None
Counters = Callable[[str], tuple | None]        # ENI id -> (rx_b, tx_b, rx_p, tx_p) or None


@dataclass
class Sample:
    at: float                                 # monotonic seconds
    cpu: float | None                         # CPU seconds since boot
    disk: tuple[int, int, int, int] | None    # read bytes, written bytes, reads, writes
    net: tuple[int, int, int, int] | None     # rx bytes, tx bytes, rx packets, tx packets
    alive: bool


@dataclass
class _Tracked:
    account: str
    region: str
    baseline: Sample
    due: float                                # service-clock seconds


def period_of(instance: dict) -> int:
    state = (instance.get("Monitoring") or {}).get("State")
    return DETAILED_PERIOD if state in ("enabled", "pending") else BASIC_PERIOD


def vcpus_of(instance: dict, host_cpus: int) -> float:
    options = instance.get("CpuOptions") or {}
    given = (options.get("CoreCount") or 0) * (options.get("ThreadsPerCore") or 1)
    given = given or instance.get("_vcpus") or 1
    return float(max(min(given, host_cpus), 0.01))


def _delta(now, before) -> tuple | None:
    if now is None or before is None:
        return None
    # a counter that went back was reset (a reboot, an ENI made again): count from zero
    return tuple(n - b if n >= b else n for n, b in zip(now, before, strict=True))


class InstanceMetrics:
    def __init__(self, records: Records, bus, stats: Stats, counters: Counters,
                 host_cpus: int | None = None):
        self.records, self.bus = records, bus
        self.stats, self.counters = stats, counters
        self.host_cpus = host_cpus or os.cpu_count() or 1
        self._tracked: dict[str, _Tracked] = {}
        self._discovered_at = float("-inf")
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="ec2-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(TICK):
            try:
                self.tick()
            except Exception:
                log.exception("EC2 metrics")

    # -- one look at the clock ---------------------------------------------------------------
    def tick(self, now: float | None = None, mono: float | None = None) -> int:
        """Track new instances, publish what is due; the number of datapoints published."""
        now = clock.timestamp() if now is None else now
        mono = time.monotonic() if mono is None else mono
        if mono - self._discovered_at >= DISCOVER_EVERY:
            self._discover(now, mono)
        published: dict[tuple[str, str], list[dict]] = defaultdict(list)
        for instance_id, tracked in list(self._tracked.items()):
            if now < tracked.due:
                continue
            view = self.records.read(tracked.account, tracked.region)
            doc = view.get(instance_id, "instance")
            if doc is None or (doc.get("State") or {}).get("Name") != "running":
                del self._tracked[instance_id]
                continue
            sample = self.sample(doc, mono)
            if sample.at - tracked.baseline.at < MIN_ELAPSED:
                continue
            period = period_of(doc)
            tags = {t["Key"]: t["Value"] for t in view.tags_of([instance_id]).get(instance_id, [])}
            stamp = math.floor(now / period) * period - period
            published[(tracked.account, tracked.region)] += self.datums(
                doc, tags, tracked.baseline, sample, stamp)
            tracked.baseline = sample
            tracked.due = math.floor(now / period) * period + period
        count = 0
        for (account, region), data in published.items():
            for start in range(0, len(data), 1000):
                self.bus.publish("cloudwatch:metrics", {
                    "account": account, "region": region, "namespace": NAMESPACE,
                    "metric_data": data[start:start + 1000]})
            count += len(data)
        return count

    def _discover(self, now: float, mono: float) -> None:
        self._discovered_at = mono
        running: set[str] = set()
        for row in self.records.db.query(
                "SELECT account, region, doc FROM ec2_resources WHERE kind='instance'"):
            doc = msgspec.json.decode(row["doc"])
            if (doc.get("State") or {}).get("Name") != "running":
                continue
            instance_id = doc["InstanceId"]
            running.add(instance_id)
            if instance_id not in self._tracked:
                period = period_of(doc)
                self._tracked[instance_id] = _Tracked(
                    row["account"], row["region"], self.sample(doc, mono),
                    math.floor(now / period) * period + period)
        for instance_id in set(self._tracked) - running:
            del self._tracked[instance_id]

    # -- measuring ---------------------------------------------------------------------------
    def sample(self, instance: dict, mono: float) -> Sample:
        stats = self.stats(instance["InstanceId"])
        disk = None
        if stats is not None and hasattr(stats, "disk_read_bytes"):
            disk = (stats.disk_read_bytes, stats.disk_write_bytes, stats.disk_read_ops,
                    stats.disk_write_ops)
        net = None
        for eni in instance.get("NetworkInterfaces") or []:
            found = self.counters(eni.get("NetworkInterfaceId") or "")
            if found is not None:
                net = tuple(a + b for a, b in zip(net or (0, 0, 0, 0), found, strict=True))
        return Sample(mono, getattr(stats, "cpu_seconds", None), disk, net, stats is not None)

    def datums(self, instance: dict, tags: dict[str, str], before: Sample, now: Sample,
               stamp: float) -> list[dict]:
        elapsed = now.at - before.at
        values: list[tuple[str, float, str]] = []
        if now.cpu is not None and before.cpu is not None and elapsed > 0:
            used = now.cpu - before.cpu if now.cpu >= before.cpu else now.cpu
            share = used / elapsed / vcpus_of(instance, self.host_cpus) * 100
            values.append(("CPUUtilization", min(max(share, 0.0), 100.0), "Percent"))
        net = _delta(now.net, before.net)
        if net is not None:
            values += [("NetworkIn", net[0], "Bytes"), ("NetworkOut", net[1], "Bytes"),
                       ("NetworkPacketsIn", net[2], "Count"),
                       ("NetworkPacketsOut", net[3], "Count")]
        disk = _delta(now.disk, before.disk)
        if disk is not None:
            for prefix in ("Disk", "EBS"):
                values += [(f"{prefix}ReadBytes", disk[0], "Bytes"),
                           (f"{prefix}WriteBytes", disk[1], "Bytes"),
                           (f"{prefix}ReadOps", disk[2], "Count"),
                           (f"{prefix}WriteOps", disk[3], "Count")]
        failed_instance, failed_system = (0 if now.alive else 1), 0
        values += [("StatusCheckFailed_Instance", failed_instance, "Count"),
                   ("StatusCheckFailed_System", failed_system, "Count"),
                   ("StatusCheckFailed", max(failed_instance, failed_system), "Count")]
        timestamp = dt.datetime.fromtimestamp(stamp, dt.UTC)
        data = []
        for dimensions in self.dimensions(instance, tags):
            data += [{"MetricName": name, "Dimensions": dimensions, "Value": float(value),
                      "Unit": unit, "Timestamp": timestamp} for name, value, unit in values]
        return data

    @staticmethod
    def dimensions(instance: dict, tags: dict[str, str]) -> list[list[dict]]:
        found = [[{"Name": "InstanceId", "Value": instance["InstanceId"]}]]
        if period_of(instance) == DETAILED_PERIOD:
            for name, member in (("ImageId", "ImageId"), ("InstanceType", "InstanceType")):
                if instance.get(member):
                    found.append([{"Name": name, "Value": instance[member]}])
        if tags.get(ASG_TAG):
            found.append([{"Name": "AutoScalingGroupName", "Value": tags[ASG_TAG]}])
        return found


class MetricsOperations:
    """The provider's side of the metrics: started and stopped with it."""

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.instance_metrics = InstanceMetrics(self.records, self.bus, self._instance_stats,
                                                self._interface_counters)

    def start(self) -> None:
        super().start()
        self.instance_metrics.start()

    def stop(self) -> None:
        self.instance_metrics.stop()
        super().stop()

    def _instance_stats(self, instance_id: str):
        # the compute family's runtime (RunInstances); until it is there, nothing runs
        runtime = getattr(self, "instance_runtime", None)
        if runtime is None:
            return None
        try:
            return runtime.stats(instance_id)
        except Exception:  # not running there (stopped, crashed)
            return None

    def _interface_counters(self, eni_id: str):
        try:
            return self.fabric.interface_counters(eni_id)
        except Exception:
            return None
