"""AWS/EC2 metrics against a fake runtime and fake ENI counters: what is measured, when it is
due on the service clock (5 minutes, or 1 with detailed monitoring), the dimensions, and
that CloudWatch stores what is published."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest

from cloudlet.events import Bus
from cloudlet.services.base import RequestContext
from cloudlet.services.cloudwatch.provider import CloudWatchProvider
from cloudlet.services.ec2.compute import metrics
from cloudlet.services.ec2.compute.metrics import InstanceMetrics
from cloudlet.services.ec2.ids import KINDS, Kind
from cloudlet.services.ec2.provider import Ec2Provider
from cloudlet.services.ec2.store import Records
from cloudlet.store import Store
from tests.services.ec2_instances import SECOND_ENI, instance

ACCOUNT, REGION = "000000000000", "us-east-1"
T0 = 1_800_000_000.0 + 10  # 10 s after a 5-minute boundary
ID = "i-0123456789abcdef0"


class Captured:
    def __init__(self):
        self.events = []

    def publish(self, topic, event):
        self.events.append((topic, event))

    def data(self, name=None, dimension="InstanceId"):
        return [d for _, e in self.events for d in e["metric_data"]
                if (name is None or d["MetricName"] == name)
                and d["Dimensions"][0]["Name"] == dimension]


class Runtime:
    """What the instance runtime would measure."""

    def __init__(self):
        self.cpu, self.disk, self.alive = 0.0, (0, 0, 0, 0), True
        self.enis: dict[str, tuple] = {}

    def stats(self, instance_id):
        if not self.alive:
            return None
        return SimpleNamespace(cpu_seconds=self.cpu, disk_read_bytes=self.disk[0],
                               disk_write_bytes=self.disk[1], disk_read_ops=self.disk[2],
                               disk_write_ops=self.disk[3])

    def counters(self, eni_id):
        return self.enis.get(eni_id)


@pytest.fixture
def world(tmp_path, monkeypatch):
    if "instance" not in KINDS:  # until the compute family declares it
        monkeypatch.setitem(KINDS, "instance", Kind("instance", "i", "InstanceId", "instance"))
    store = Store.open(tmp_path)
    records, bus, runtime = Records(store), Captured(), Runtime()
    collector = InstanceMetrics(records, bus, runtime.stats, runtime.counters, host_cpus=4)
    yield records, bus, runtime, collector
    store.close()


def put(records, doc, tags=()):
    with records.write(ACCOUNT, REGION) as view:
        view.put("instance", doc)
        if tags:
            view.set_tags(doc["InstanceId"], "instance", [{"Key": k, "Value": v} for k, v in tags])


def value(bus, name, dimension="InstanceId"):
    found = bus.data(name, dimension)
    assert len(found) == 1, (name, found)
    return found[0]["Value"]


def test_basic_monitoring_every_five_minutes_with_real_cpu(world):
    records, bus, runtime, collector = world
    put(records, instance())
    assert collector.tick(T0, mono=0) == 0                # found: the first sample
    runtime.cpu = 30.0                                      # 30 CPU seconds in 60 real ones
    assert collector.tick(T0 + 280, mono=60) == 0          # not due before the boundary
    published = collector.tick(T0 + 291, mono=60)          # 5 minutes after the last boundary
    assert published > 0
    # 2 vCPUs (CpuOptions 1 core x 2 threads): 30 / 60 / 2 = 25 %
    assert value(bus, "CPUUtilization") == pytest.approx(25.0)
    datum = bus.data("CPUUtilization")[0]
    assert datum["Unit"] == "Percent"
    assert datum["Timestamp"] == dt.datetime.fromtimestamp(T0 - 10, dt.UTC)  # the period's start
    assert datum["Dimensions"] == [{"Name": "InstanceId", "Value": ID}]
    assert bus.data("CPUUtilization", "InstanceType") == []  # aggregates: detailed only
    topic, event = bus.events[0]
    assert topic == "cloudwatch:metrics" and event["namespace"] == "AWS/EC2"
    assert (event["account"], event["region"]) == (ACCOUNT, REGION)
    bus.events.clear()
    assert collector.tick(T0 + 300, mono=70) == 0          # the next is 5 minutes on


def test_detailed_monitoring_every_minute_with_aggregates(world):
    records, bus, runtime, collector = world
    put(records, instance(Monitoring={"State": "enabled"}))
    collector.tick(T0, mono=0)
    runtime.cpu = 12.0
    assert collector.tick(T0 + 50, mono=60) > 0            # the next minute boundary
    assert value(bus, "CPUUtilization") == pytest.approx(10.0)
    assert value(bus, "CPUUtilization", "InstanceType") == pytest.approx(10.0)
    assert bus.data("CPUUtilization", "ImageId")[0]["Dimensions"] == [
        {"Name": "ImageId", "Value": "ami-0abcdef1234567890"}]
    bus.events.clear()
    runtime.cpu = 24.0
    assert collector.tick(T0 + 110, mono=120) > 0
    assert value(bus, "CPUUtilization") == pytest.approx(10.0)


def test_a_clock_jump_makes_one_datapoint_due_at_once(world):
    records, bus, runtime, collector = world
    put(records, instance())
    collector.tick(T0, mono=0)
    runtime.cpu = 1.0
    assert collector.tick(T0 + 3600, mono=0.2) == 0  # less than MIN_ELAPSED of real time
    assert collector.tick(T0 + 3600, mono=2.0) > 0
    assert value(bus, "CPUUtilization") == pytest.approx(25.0)  # 1 s / 2 s / 2 vCPUs
    stamp = bus.data("CPUUtilization")[0]["Timestamp"].timestamp()
    assert stamp == T0 - 10 + 3600 - 300  # the last whole period before the new time
    bus.events.clear()
    assert collector.tick(T0 + 3600, mono=10) == 0


def test_cpu_is_relative_to_vcpus_capped_to_the_host(world):
    records, bus, runtime, collector = world
    put(records, instance(CpuOptions={"CoreCount": 48, "ThreadsPerCore": 2}))
    collector.tick(T0, mono=0)
    runtime.cpu = 120.0
    collector.tick(T0 + 290, mono=60)
    assert value(bus, "CPUUtilization") == pytest.approx(50.0)  # 120 / 60 / 4 host CPUs


def test_network_from_every_eni_and_disk_from_the_volumes(world):
    records, bus, runtime, collector = world
    doc = instance()
    doc["NetworkInterfaces"].append(SECOND_ENI)
    put(records, doc)
    runtime.enis = {"eni-0ddddddddddddddd1": (1000, 2000, 10, 20),
                    "eni-0ddddddddddddddd2": (100, 200, 1, 2)}
    runtime.disk = (4096, 8192, 1, 2)
    collector.tick(T0, mono=0)
    runtime.enis = {"eni-0ddddddddddddddd1": (6000, 2500, 15, 25),
                    "eni-0ddddddddddddddd2": (600, 200, 3, 2)}
    runtime.disk = (4096 + (1 << 20), 8192 + (3 << 20), 11, 32)
    collector.tick(T0 + 290, mono=60)
    assert value(bus, "NetworkIn") == 5500 and value(bus, "NetworkOut") == 500
    assert value(bus, "NetworkPacketsIn") == 7 and value(bus, "NetworkPacketsOut") == 5
    assert bus.data("NetworkIn")[0]["Unit"] == "Bytes"
    assert value(bus, "DiskReadBytes") == 1 << 20
    assert value(bus, "DiskWriteBytes") == 3 << 20
    assert value(bus, "DiskReadOps") == 10 and value(bus, "DiskWriteOps") == 30
    assert value(bus, "EBSWriteBytes") == value(bus, "DiskWriteBytes")
    assert bus.data("DiskReadOps")[0]["Unit"] == "Count"


def test_counters_that_went_back_count_from_zero(world):
    records, bus, runtime, collector = world
    put(records, instance())
    runtime.cpu, runtime.enis = 500.0, {"eni-0ddddddddddddddd1": (9000, 9000, 90, 90)}
    collector.tick(T0, mono=0)
    runtime.cpu, runtime.enis = 6.0, {"eni-0ddddddddddddddd1": (300, 100, 3, 1)}  # rebooted
    collector.tick(T0 + 290, mono=60)
    assert value(bus, "CPUUtilization") == pytest.approx(5.0)
    assert value(bus, "NetworkIn") == 300


def test_status_checks(world):
    records, bus, runtime, collector = world
    put(records, instance())
    collector.tick(T0, mono=0)
    collector.tick(T0 + 290, mono=60)
    assert value(bus, "StatusCheckFailed") == 0
    assert value(bus, "StatusCheckFailed_Instance") == 0
    assert value(bus, "StatusCheckFailed_System") == 0
    bus.events.clear()
    runtime.alive = False  # running, but no process for it
    collector.tick(T0 + 590, mono=120)
    assert value(bus, "StatusCheckFailed_Instance") == 1
    assert value(bus, "StatusCheckFailed") == 1
    assert bus.data("CPUUtilization") == []  # nothing measured


def test_stopped_instances_publish_nothing(world):
    records, bus, runtime, collector = world
    doc = instance()
    put(records, doc)
    put(records, instance(InstanceId="i-0aaaaaaaaaaaaaaa9", State={"Code": 80, "Name": "stopped"}))
    collector.tick(T0, mono=0)
    doc["State"] = {"Code": 80, "Name": "stopped"}
    put(records, doc)
    assert collector.tick(T0 + 290, mono=60) == 0
    assert bus.events == []


def test_auto_scaling_group_dimension(world):
    records, bus, runtime, collector = world
    put(records, instance(), tags=[("aws:autoscaling:groupName", "web-asg")])
    collector.tick(T0, mono=0)
    collector.tick(T0 + 290, mono=60)
    assert bus.data("CPUUtilization", "AutoScalingGroupName")[0]["Dimensions"] == [
        {"Name": "AutoScalingGroupName", "Value": "web-asg"}]


def test_published_metrics_are_stored_by_cloudwatch(tmp_path, monkeypatch):
    if "instance" not in KINDS:
        monkeypatch.setitem(KINDS, "instance", Kind("instance", "i", "InstanceId", "instance"))
    store, bus = Store.open(tmp_path), Bus()
    cloudwatch = CloudWatchProvider(store, bus)
    runtime = Runtime()
    records = Records(store)
    put(records, instance())
    collector = InstanceMetrics(records, bus, runtime.stats, runtime.counters, host_cpus=4)
    now = dt.datetime.now(dt.UTC).timestamp()
    collector.tick(now, mono=0)
    runtime.cpu = 30.0
    collector.tick(now + 300, mono=60)
    bus.drain()
    ctx = RequestContext("monitoring", "GetMetricStatistics", REGION, ACCOUNT, "r")
    found = cloudwatch.get_metric_statistics(ctx, {
        "Namespace": "AWS/EC2", "MetricName": "CPUUtilization",
        "Dimensions": [{"Name": "InstanceId", "Value": ID}],
        "StartTime": now - 3600, "EndTime": now + 3600, "Period": 300,
        "Statistics": ["Average"]})
    assert [round(p["Average"], 3) for p in found["Datapoints"]] == [25.0]
    store.close()


class NoFabric:
    """A fabric that builds nothing (a unit test makes no namespaces)."""

    available, services = False, []

    def start(self, records): ...

    def stop(self): ...

    def add_router_service(self, start):
        self.services.append(start)

    def interface_counters(self, eni_id):
        raise KeyError(eni_id)


def test_the_provider_starts_and_stops_them(tmp_path):
    provider = Ec2Provider(Store.open(tmp_path))
    provider.fabric = NoFabric()
    assert provider._instance_stats(ID) is None  # no runtime yet: nothing runs
    assert provider._interface_counters("eni-1") is None
    provider.instance_runtime = SimpleNamespace(stats=lambda i: (_ for _ in ()).throw(KeyError(i)))
    assert provider._instance_stats(ID) is None  # not running there
    provider.start()
    assert provider.fabric.services == [provider.metadata.serve_vpc]  # IMDS in every VPC
    assert provider.instance_metrics._thread.is_alive()
    provider.stop()
    assert not provider.instance_metrics._thread.is_alive()
    assert metrics.BASIC_PERIOD == 300 and metrics.DETAILED_PERIOD == 60
