"""CloudWatch Logs ingestion: PutLogEvents events/s, Cloudlet beside moto, in the same run.

Each request is a full batch of 10,000 events (~70-byte JSON log lines, just under the
1 MiB batch limit), signed with SigV4 before the clock starts, so the load client only
sends bytes. BENCH_LOGS_CLIENTS connections (default 4) each write their own stream for
BENCH_LOGS_SECONDS (default 10). Afterwards the stored bytes are checked against what was
acknowledged, so a server that drops events cannot look fast.

Prints figures; asserts nothing. Run: .venv/bin/python bench/cloudwatch.py logs
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import threading
import time
from pathlib import Path

import boto3
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent))
from gateway import free_port, start_cloudlet, start_moto  # noqa: E402

BATCH = 10_000
CLIENTS = int(os.environ.get("BENCH_LOGS_CLIENTS", "4"))
SECONDS = float(os.environ.get("BENCH_LOGS_SECONDS", "10"))
BODIES_PER_CLIENT = 4
GROUP = "/bench/ingest"


def message(i: int) -> str:
    line = json.dumps({"level": "INFO", "requestId": f"r-{i % 9973:05d}",
                       "latency": i % 500, "path": "/api/orders"}, separators=(",", ":"))
    return line.ljust(72, " ")


def batch_body(stream: str, start_ms: int, seed: int) -> tuple[bytes, int]:
    events = [{"timestamp": start_ms + i // 10, "message": message(seed * BATCH + i)}
              for i in range(BATCH)]
    size = sum(len(e["message"]) for e in events)
    body = json.dumps({"logGroupName": GROUP, "logStreamName": stream, "logEvents": events})
    return body.encode(), size


def signed(port: int, body: bytes) -> dict:
    url = f"http://127.0.0.1:{port}/"
    request = AWSRequest(method="POST", url=url, data=body, headers={
        "Content-Type": "application/x-amz-json-1.1",
        "X-Amz-Target": "Logs_20140328.PutLogEvents"})
    botocore.auth.SigV4Auth(Credentials("test", "test"), "logs", "us-east-1").add_auth(request)
    return dict(request.headers)


def client(port: int):
    return boto3.client("logs", endpoint_url=f"http://127.0.0.1:{port}", region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test")


def cpu_seconds(pid: int) -> float:
    """User + system CPU time the process (all its threads) has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def ingest(port: int, seconds: float = SECONDS, clients: int = CLIENTS,
           pid: int | None = None) -> dict:
    logs = client(port)
    logs.create_log_group(logGroupName=GROUP)
    start_ms = int(time.time() * 1000) - 3_600_000
    work = []
    for c in range(clients):
        stream = f"stream-{c}"
        logs.create_log_stream(logGroupName=GROUP, logStreamName=stream)
        requests = []
        for b in range(BODIES_PER_CLIENT):
            body, size = batch_body(stream, start_ms + b * 1000, c * BODIES_PER_CLIENT + b)
            requests.append((body, signed(port, body), size))
        work.append(requests)
    sent = [0] * clients
    stored = [0] * clients
    failures = []
    stop = threading.Event()

    def run(index: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        i = 0
        while not stop.is_set():
            body, headers, size = work[index][i % BODIES_PER_CLIENT]
            conn.request("POST", "/", body=body, headers=headers)
            reply = conn.getresponse()
            answer = reply.read()
            if reply.status != 200 or b"rejectedLogEventsInfo" in answer:
                failures.append((reply.status, answer[:200]))
                return
            sent[index] += BATCH
            stored[index] += size
            i += 1
        conn.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(clients)]
    cpu0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    time.sleep(seconds)
    stop.set()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    cpu = cpu_seconds(pid) - cpu0 if pid else 0.0
    streams = logs.describe_log_streams(logGroupName=GROUP)["logStreams"]
    reported = sum(s.get("storedBytes", 0) for s in streams)
    return {"events": sum(sent), "seconds": elapsed, "events_per_s": sum(sent) / elapsed,
            "acknowledged_bytes": sum(stored), "stored_bytes": reported,
            "server_cpu_s": cpu, "events_per_cpu_s": sum(sent) / cpu if cpu else 0.0,
            "failures": failures[:3]}


def rules(port: int) -> list[str]:
    """Which of PutLogEvents' and retention's rules a server keeps (AWS keeps all)."""
    from botocore.exceptions import ClientError

    logs = client(port)
    group = "/bench/rules"
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)

    def refused(**kwargs) -> bool:
        try:
            logs.put_log_events(logGroupName=group, logStreamName="s", **kwargs)
        except ClientError:
            return True
        return False

    kept = {
        "batch over 1 MiB refused": refused(logEvents=[
            {"timestamp": now, "message": "x" * 200_000} for _ in range(6)]),
        "batch spanning > 24 h refused": refused(logEvents=[
            {"timestamp": now - 25 * 3_600_000, "message": "a"},
            {"timestamp": now, "message": "b"}]),
        "unsorted batch refused": refused(logEvents=[
            {"timestamp": now, "message": "b"}, {"timestamp": now - 1, "message": "a"}]),
    }
    try:
        logs.put_retention_policy(logGroupName=group, retentionInDays=2)
        kept["retention of 2 days refused"] = False
    except ClientError:
        kept["retention of 2 days refused"] = True
    logs.put_log_events(logGroupName=group, logStreamName="s", logEvents=[
        {"timestamp": now, "message": '{"status": 500, "latency": 150}'},
        {"timestamp": now + 1, "message": '{"status": 200, "latency": 150}'}])
    found = logs.filter_log_events(logGroupName=group,
                                   filterPattern="{ $.status = 500 && $.latency > 100 }")
    kept["JSON filter pattern matches exactly one"] = len(found["events"]) == 1
    return [f"{rule}: {'yes' if ok else 'NO'}" for rule, ok in kept.items()]


def report(name: str, figures: dict) -> None:
    print(f"  {name:9s} {figures['events_per_s']:>11,.0f} events/s  "
          f"({figures['events']:,} events in {figures['seconds']:.1f} s; "
          f"stored bytes {figures['stored_bytes']:,} of {figures['acknowledged_bytes']:,} "
          f"acknowledged)")
    print(f"  {'':9s} {figures['events_per_cpu_s']:>11,.0f} events per server CPU-second "
          f"({figures['server_cpu_s']:.1f} CPU-s){'  FAILURES: ' + str(figures['failures']) if figures['failures'] else ''}")


def main() -> None:
    print(f"CloudWatch Logs ingestion: PutLogEvents, batches of {BATCH:,} events, "
          f"{CLIENTS} connections, {SECONDS:.0f} s each; {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.1f} at start")
    port = free_port()
    proc, _ = start_cloudlet(port)
    try:
        cloudlet = ingest(port, pid=proc.pid)
        cloudlet_rules = rules(port)
    finally:
        proc.terminate()
        proc.wait()
    report("cloudlet", cloudlet)
    for line in cloudlet_rules:
        print(f"  {'':9s} {line}")
    port = free_port()
    proc = start_moto(port)
    try:
        moto = ingest(port, pid=proc.pid)
        moto_rules = rules(port)
    finally:
        proc.terminate()
        proc.wait()
    report("moto", moto)
    for line in moto_rules:
        print(f"  {'':9s} {line}")
    if moto["events_per_s"]:
        print(f"  ratio     {cloudlet['events_per_s'] / moto['events_per_s']:.1f}x moto")


if __name__ == "__main__":
    main()
