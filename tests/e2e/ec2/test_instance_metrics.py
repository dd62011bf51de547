"""AWS/EC2 metrics of a real instance, read back with GetMetricStatistics: the service clock
moves forward past a 5-minute boundary (basic monitoring) and CPUUtilization, NetworkIn and
StatusCheckFailed appear for the instance. A Cloudlet of its own: the clock moves."""

from __future__ import annotations

import datetime as dt
import shutil
import time

import pytest
from instance_support import launch, undo


def service_now(cloudlet) -> dt.datetime:
    reply = cloudlet.control("GET", "/_cloudlet/clock")
    assert reply.status_code == 200, reply.text
    return dt.datetime.fromisoformat(reply.json()["now"])


def datapoints(cloudwatch, instance_id: str, name: str, now: dt.datetime) -> list[dict]:
    return cloudwatch.get_metric_statistics(
        Namespace="AWS/EC2", MetricName=name,
        Dimensions=[{"Name": "InstanceId", "Value": instance_id}],
        StartTime=now - dt.timedelta(hours=2), EndTime=now + dt.timedelta(minutes=10),
        Period=300, Statistics=["Average", "Maximum"])["Datapoints"]


def test_cpu_utilization_after_the_clock_moves(fresh_cloudlet, tmp_path):
    if not shutil.which("ssh"):
        pytest.skip("the ssh client is not installed")
    cloudlet = fresh_cloudlet()
    ec2, cloudwatch = cloudlet.client("ec2"), cloudlet.client("cloudwatch")
    box = launch(ec2, tmp_path)
    try:
        box.wait_ssh()
        box.ssh("timeout 3 sh -c 'while :; do :; done' & sleep 0.1")  # something to measure
        found: list[dict] = []
        for _ in range(30):
            cloudlet.advance_clock(300)
            time.sleep(2)
            found = datapoints(cloudwatch, box.id, "CPUUtilization", service_now(cloudlet))
            if found:
                break
        assert found, "no CPUUtilization datapoint after the clock moved"
        assert all(0 <= p["Average"] <= 100 and p["Unit"] == "Percent" for p in found)
        now = service_now(cloudlet)
        assert datapoints(cloudwatch, box.id, "NetworkIn", now)  # the SSH session's bytes
        status = datapoints(cloudwatch, box.id, "StatusCheckFailed", now)
        assert status and all(p["Maximum"] == 0 for p in status)
        listed = cloudwatch.list_metrics(Namespace="AWS/EC2", Dimensions=[
            {"Name": "InstanceId", "Value": box.id}])["Metrics"]
        names = {m["MetricName"] for m in listed}
        assert {"CPUUtilization", "NetworkIn", "NetworkOut", "DiskReadBytes", "DiskWriteOps",
                "StatusCheckFailed_Instance", "StatusCheckFailed_System"} <= names
    finally:
        undo(box.cleanup)
