"""CloudWatch metrics benchmark: GetMetricData for 1 metric over 15 days at 1-minute
resolution (about 21,600 points), Cloudlet beside moto's server in the same run.

Loading: PutMetricData in batches of 1000. Cloudlet accepts timestamps two weeks back
only, as AWS does, so its 15 days are written in two steps around a clock advance of 23
hours (POST /_cloudlet/clock); moto takes the 15 days at once.

Measures, per server, median and p90 over BENCH_ROUNDS rounds:
  - server: boto3's GetMetricData (smithy-rpc-v2-cbor, boto3's default) from sending the
    request to receiving the raw response (botocore's before-send/before-parse events),
    so the SDK's parsing of 21,600 timestamps is left out;
  - sdk_total: the same call including botocore's parsing;
  - server_p99, server_math: a p99 query and a metric-math expression over the range;
  - query_protocol: a signed awsQuery request (the AWS CLI v1's protocol) read whole;
  - how many datapoints came back (moto's answer is checked, not just timed);
  - PutMetricData throughput while loading.

Prints figures; asserts nothing. Run: .venv/bin/python bench/cloudwatch.py metrics
"""

from __future__ import annotations

import datetime as dt
import json
import os
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent))
from gateway import free_port, start_cloudlet, start_moto  # noqa: E402

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "20"))
MOTO_TIMEOUT = float(os.environ.get("BENCH_MOTO_TIMEOUT", "120"))
DAYS = 15
MINUTES = DAYS * 24 * 60
NAMESPACE = "Bench"
DIMENSIONS = [{"Name": "Service", "Value": "checkout"}]


def client(endpoint: str, timeout: float = 300):
    return boto3.client("cloudwatch", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(retries={"max_attempts": 1}, read_timeout=timeout))


def clock_call(endpoint: str, body: dict | None = None) -> dict:
    """GET /_cloudlet/clock, or POST `body`: a control call, signed (signing name
    `cloudlet`) by the root of account 000000000000."""
    data = json.dumps(body).encode() if body is not None else b""
    aws = AWSRequest(method="POST" if body is not None else "GET",
                     url=f"{endpoint}/_cloudlet/clock", data=data)
    SigV4Auth(Credentials("test", "test"), "cloudlet", "us-east-1").add_auth(aws)
    request = urllib.request.Request(aws.url, data=data or None, method=aws.method,
                                     headers=dict(aws.headers.items()))
    with urllib.request.urlopen(request) as reply:
        return json.load(reply)


def server_now(endpoint: str) -> float:
    return dt.datetime.fromisoformat(clock_call(endpoint)["now"]).timestamp()


def advance(endpoint: str, seconds: float) -> None:
    clock_call(endpoint, {"advance": seconds})


def put(cw, minutes: list[float]) -> float:
    """PutMetricData of one point per given minute; seconds taken."""
    t0 = time.perf_counter()
    for i in range(0, len(minutes), 1000):
        cw.put_metric_data(Namespace=NAMESPACE, MetricData=[
            {"MetricName": "Latency", "Dimensions": DIMENSIONS, "Timestamp": m,
             "Values": [float(k % 97), float(k % 13) * 10], "Unit": "Milliseconds"}
            for k, m in enumerate(minutes[i:i + 1000], i)])
    return time.perf_counter() - t0


def load_cloudlet(endpoint: str) -> tuple[float, float]:
    """15 days of 1-minute points; (end of the range, points per second)."""
    cw = client(endpoint)
    now = server_now(endpoint)
    first_end = now - now % 60
    older = [first_end - 60 * k for k in range(14 * 24 * 60 - 1, -1, -1)]
    took = put(cw, older)
    advance(endpoint, 23 * 3600)
    now = server_now(endpoint)
    end = now - now % 60
    newer = [first_end + 60 * k for k in range(1, int((end - first_end) // 60) + 1)]
    took += put(cw, newer)
    return end + 60, (len(older) + len(newer)) / took


def load_moto(endpoint: str) -> tuple[float, float]:
    cw = client(endpoint)
    now = time.time()
    end = now - now % 60
    minutes = [end - 60 * k for k in range(MINUTES - 1, -1, -1)]
    took = put(cw, minutes)
    return end + 60, len(minutes) / took


def query_body(start: float, end: float, stat: str = "Average", expression: str | None = None,
               ) -> dict:
    body = {
        "Action": "GetMetricData", "Version": "2010-08-01",
        "StartTime": dt.datetime.fromtimestamp(start, dt.UTC).isoformat(),
        "EndTime": dt.datetime.fromtimestamp(end, dt.UTC).isoformat(),
        "MetricDataQueries.member.1.Id": "m1",
        "MetricDataQueries.member.1.MetricStat.Metric.Namespace": NAMESPACE,
        "MetricDataQueries.member.1.MetricStat.Metric.MetricName": "Latency",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Name": "Service",
        "MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value": "checkout",
        "MetricDataQueries.member.1.MetricStat.Period": "60",
        "MetricDataQueries.member.1.MetricStat.Stat": stat,
    }
    if expression:
        body["MetricDataQueries.member.1.ReturnData"] = "false"
        body["MetricDataQueries.member.2.Id"] = "e1"
        body["MetricDataQueries.member.2.Expression"] = expression
    return body


def raw_query(endpoint: str, body: dict, timeout: float) -> tuple[float, bytes]:
    """One signed awsQuery request, read whole; (seconds, body)."""
    data = urllib.parse.urlencode(body)
    request = AWSRequest(method="POST", url=endpoint + "/", data=data,
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    SigV4Auth(Credentials("test", "test"), "monitoring", "us-east-1").add_auth(request)
    prepared = urllib.request.Request(endpoint + "/", data=data.encode(), method="POST",
                                      headers=dict(request.headers))
    t0 = time.perf_counter()
    with urllib.request.urlopen(prepared, timeout=timeout) as reply:
        payload = reply.read()
    return time.perf_counter() - t0, payload


def timings(fn, rounds: int) -> dict | str:
    """Median and p90 of `fn()` seconds after one warm-up; a slow server gets fewer rounds."""
    try:
        first = fn()
    except Exception as e:
        return f"failed: {type(e).__name__}: {e}"[:160]
    if first > 10:
        return {"median_ms": first * 1e3, "p90_ms": first * 1e3, "rounds": 1}
    samples = sorted(fn() for _ in range(rounds))
    return {"median_ms": statistics.median(samples) * 1e3,
            "p90_ms": samples[max(0, int(len(samples) * 0.9) - 1)] * 1e3, "rounds": rounds}


class Stopwatch:
    """boto3 hooks: the time from sending the request to its raw response (the server's
    time, SDK parsing excluded) and to the parsed result."""

    def __init__(self, cw):
        self.sent = self.received = 0.0
        events = cw.meta.events
        events.register("before-send.cloudwatch.GetMetricData", self._send)
        events.register("before-parse.cloudwatch.GetMetricData", self._receive)

    def _send(self, **kwargs):
        self.sent = time.perf_counter()

    def _receive(self, **kwargs):
        self.received = time.perf_counter()


def measure(endpoint: str, start: float, end: float, timeout: float) -> dict:
    figures: dict = {}
    cw = client(endpoint, timeout)
    watch = Stopwatch(cw)
    metric = {"Namespace": NAMESPACE, "MetricName": "Latency", "Dimensions": DIMENSIONS}
    window = {"StartTime": dt.datetime.fromtimestamp(start, dt.UTC),
              "EndTime": dt.datetime.fromtimestamp(end, dt.UTC)}

    def sdk(queries: list[dict], server_only: bool) -> float:
        t0 = time.perf_counter()
        reply = cw.get_metric_data(MetricDataQueries=queries, **window)
        figures["points"] = sum(len(r["Values"]) for r in reply["MetricDataResults"])
        return watch.received - watch.sent if server_only else time.perf_counter() - t0

    average = [{"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "Average"}}]
    p99 = [{"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60, "Stat": "p99"}}]
    math_ = [{**average[0], "ReturnData": False},
             {"Id": "e1", "Expression": "RATE(m1) * 60 + FILL(m1, 0)"}]
    few = max(3, ROUNDS // 4)
    figures["server"] = timings(lambda: sdk(average, True), ROUNDS)
    figures["datapoints"] = figures.get("points")
    rest = {
        "sdk_total": lambda: sdk(average, False),
        "server_p99": lambda: sdk(p99, True),
        "server_math": lambda: sdk(math_, True),
        "query_protocol": lambda: raw_query(endpoint, query_body(start, end), timeout)[0],
    }
    first = figures["server"]
    if isinstance(first, str) or first["median_ms"] > 10_000:
        for key in rest:  # a server this slow would take the whole run
            figures[key] = "skipped: the first query took over 10 s or failed"
        return figures
    for key, fn in rest.items():
        figures[key] = timings(fn, few)
    return figures


def show(name: str, figures: dict) -> None:
    print(f"  {name}: {figures.get('datapoints')} datapoints returned")
    for key in ("server", "sdk_total", "server_p99", "server_math", "query_protocol"):
        value = figures.get(key)
        if isinstance(value, dict):
            print(f"    {key:15} median {value['median_ms']:9.1f} ms   p90 "
                  f"{value['p90_ms']:9.1f} ms   ({value['rounds']} rounds)")
        elif value is not None:
            print(f"    {key:15} {value}")


def in_process(rounds: int = ROUNDS) -> None:
    """The server's work without the HTTP stack, as CPU time (steady on a shared machine):
    the store and metric-math evaluation, then each codec's serialization of the result."""
    import tempfile

    import botocore.session

    from cloudlet import clock
    from cloudlet.protocols.cbor import CborCodec
    from cloudlet.protocols.json import JsonCodec
    from cloudlet.protocols.query import QueryCodec
    from cloudlet.services.cloudwatch.metric_store import Datum, MetricStore
    from cloudlet.services.cloudwatch.statistics import Aggregate
    from cloudlet.store import Store

    with tempfile.TemporaryDirectory() as root:
        store = MetricStore(Store.open(Path(root)).db)
        now = clock.timestamp()
        end = now - now % 60
        store.put("000000000000", "us-east-1", NAMESPACE, [
            Datum("Latency", DIMENSIONS, end - 60 * k, 60, "Milliseconds",
                  Aggregate.of_values([float(k % 97), float(k % 13) * 10], [1.0, 1.0]))
            for k in range(MINUTES)])
        metric = {"Namespace": NAMESPACE, "MetricName": "Latency", "Dimensions": DIMENSIONS}
        model = botocore.session.get_session().get_service_model("cloudwatch")
        operation = model.operation_model("GetMetricData")
        cases = {
            "Average": [{"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60,
                                                    "Stat": "Average"}}],
            "p99": [{"Id": "m1", "MetricStat": {"Metric": metric, "Period": 60,
                                                "Stat": "p99"}}],
        }
        print(f"  in process, CPU ms per call (median of {rounds}):")
        for name, queries in cases.items():
            def run(queries=queries):
                t0 = time.process_time()
                results = store.evaluate("000000000000", "us-east-1", queries,
                                         end - DAYS * 86400 + 60, end + 60)
                return time.process_time() - t0, results

            run()
            samples = sorted(run()[0] for _ in range(rounds))
            print(f"    evaluate {name:8} {statistics.median(samples) * 1e3:7.1f} ms")
        _, results = run()
        reply = {"MetricDataResults": results, "Messages": []}
        for codec in (CborCodec(model), JsonCodec(model), QueryCodec(model)):
            samples = []
            for _ in range(max(3, rounds // 4)):
                t0 = time.process_time()
                codec.serialize(operation, reply, "bench")
                samples.append(time.process_time() - t0)
            print(f"    serialize {codec.protocol:19} {statistics.median(samples) * 1e3:7.1f} ms")


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)
    print(f"CloudWatch metrics: GetMetricData, 1 metric, {DAYS} days at 1 minute")
    in_process()
    port = free_port()
    cloudlet, _ = start_cloudlet(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        end, rate = load_cloudlet(endpoint)
        print(f"  Cloudlet PutMetricData: {rate:,.0f} points/s (batches of 1000)")
        show("Cloudlet", measure(endpoint, end - DAYS * 86400, end, timeout=300))
    finally:
        cloudlet.terminate()
        cloudlet.wait()
    moto_port = free_port()
    moto = start_moto(moto_port)
    moto_endpoint = f"http://127.0.0.1:{moto_port}"
    try:
        end, rate = load_moto(moto_endpoint)
        print(f"  moto PutMetricData: {rate:,.0f} points/s (batches of 1000)")
        show("moto", measure(moto_endpoint, end - DAYS * 86400, end, timeout=MOTO_TIMEOUT))
    finally:
        moto.terminate()
        moto.wait()


if __name__ == "__main__":
    main()
