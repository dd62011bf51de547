"""CloudWatch Logs Insights: query times over 1,000,000 events (~200 MB), Cloudlet beside moto.

Writes BENCH_INSIGHTS_EVENTS (default 1,000,000) JSON log lines of ~200 bytes through
PutLogEvents (SigV4-signed raw requests, 4 connections), then times each query from
StartQuery until GetQueryResults says Complete (median of BENCH_INSIGHTS_ROUNDS, default 3),
and checks each answer against one computed here from the generated events. moto gets the
same events and queries; where its answer is wrong the figure is marked WRONG rather than
compared. BENCH_INSIGHTS_SERVERS=cloudlet skips moto. Prints figures; asserts nothing. Run: .venv/bin/python bench/cloudwatch.py insights
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from cw_logs import client, signed  # noqa: E402
from gateway import free_port, start_cloudlet, start_moto  # noqa: E402

EVENTS = int(os.environ.get("BENCH_INSIGHTS_EVENTS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_INSIGHTS_ROUNDS", "3"))
SERVERS = os.environ.get("BENCH_INSIGHTS_SERVERS", "cloudlet,moto").split(",")
BATCH = 4_000                  # 4,000 x ~226 bytes stays under PutLogEvents' 1 MiB
CLIENTS = 4
GROUP, STREAM = "/bench/insights", "app"
STEP_MS = 80                   # 1,000,000 events span ~22 hours
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]

QUERIES = {
    "filter+sort+limit (seed)": 'fields @timestamp, @message | filter @message like /ERROR/ '
                                '| filter requestId = "abc-123" | sort @timestamp desc '
                                '| limit 100',
    "filter+sort+limit (numeric)": "fields @timestamp, latency | filter latency > 990 "
                                   "| sort latency desc, @timestamp desc | limit 100",
    "stats count(*) by bin(5m)": "stats count(*) by bin(5m)",
    "orders over $100 by region": "filter amount > 100 | stats count(*), sum(amount) by region",
    "stats pct(latency, 99) by region": "stats pct(latency, 99) by region",
}


def record(i: int) -> dict:
    level = "ERROR" if i % 20 == 0 else "INFO"
    return {"level": level, "requestId": "abc-123" if i % 997 == 0 else f"req-{i % 9973:04d}",
            "region": REGIONS[i % 3], "latency": (i * 7919) % 1000,
            "amount": round((i * 31) % 30000 / 100, 2), "path": f"/api/orders/{i:07d}",
            "msg": f"{level} order {i:07d} processed by the checkout handler for tenant "
                   f"t-{i % 50:02d}"}


def message(i: int) -> str:
    return json.dumps(record(i), separators=(",", ":"))


def expected(start_ms: int) -> dict:
    """Each query's answer, computed from the generated events."""
    seed, numeric, bins, orders, latencies = [], [], {}, {}, {r: [] for r in REGIONS}
    for i in range(EVENTS):
        r, ts = record(i), start_ms + i * STEP_MS
        if r["level"] == "ERROR" and r["requestId"] == "abc-123":
            seed.append(ts)
        if r["latency"] > 990:
            numeric.append((r["latency"], ts))
        b = ts // 300_000 * 300_000
        bins[b] = bins.get(b, 0) + 1
        if r["amount"] > 100:
            count, total = orders.get(r["region"], (0, 0.0))
            orders[r["region"]] = (count + 1, total + r["amount"])
        latencies[r["region"]].append(r["latency"])
    p99 = {}
    for region, values in latencies.items():
        values.sort()
        p99[region] = (values[int((len(values) - 1) * 0.99)], values[-(-len(values) * 99 // 100) - 1])
    return {"seed": sorted(seed, reverse=True)[:100],
            "numeric": [ts for _, ts in sorted(numeric, reverse=True)[:100]],
            "bins": bins, "orders": orders, "p99": p99}


def load(port: int, start_ms: int) -> float:
    logs = client(port)
    logs.create_log_group(logGroupName=GROUP)
    for c in range(CLIENTS):
        logs.create_log_stream(logGroupName=GROUP, logStreamName=f"{STREAM}-{c}")
    batches = list(range(0, EVENTS, BATCH))
    failures = []

    def run(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
        for first in batches[c::CLIENTS]:
            events = [{"timestamp": start_ms + i * STEP_MS, "message": message(i)}
                      for i in range(first, min(first + BATCH, EVENTS))]
            body = json.dumps({"logGroupName": GROUP, "logStreamName": f"{STREAM}-{c}",
                               "logEvents": events}).encode()
            conn.request("POST", "/", body=body, headers=signed(port, body))
            reply = conn.getresponse()
            data = reply.read()
            if reply.status != 200 or b"rejectedLogEventsInfo" in data:
                failures.append((reply.status, data[:200]))

    t0 = time.monotonic()
    threads = [threading.Thread(target=run, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        print(f"    ingestion failures: {len(failures)}, first {failures[0]}")
    return time.monotonic() - t0


def run_query(logs, query: str, start_ms: int) -> tuple[float, dict]:
    t0 = time.monotonic()
    qid = logs.start_query(logGroupName=GROUP, queryString=query,
                           startTime=start_ms // 1000 - 1,
                           endTime=(start_ms + EVENTS * STEP_MS) // 1000 + 1)["queryId"]
    while True:
        result = logs.get_query_results(queryId=qid)
        if result["status"] not in ("Scheduled", "Running"):
            return time.monotonic() - t0, result
        time.sleep(0.005)


def stamp(ms: int) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(ms // 1000)) + f".{ms % 1000:03d}"


def correct(name: str, result: dict, want: dict) -> bool:
    if result.get("status") != "Complete":
        return False
    rows = [{f["field"]: f["value"] for f in row} for row in result.get("results", [])]
    try:
        if name.startswith("filter+sort+limit (seed)"):
            return [r.get("@timestamp") for r in rows] == [stamp(t) for t in want["seed"]]
        if name.startswith("filter+sort+limit (numeric)"):
            return [r.get("@timestamp") for r in rows] == [stamp(t) for t in want["numeric"]]
        if name.startswith("stats count(*) by bin"):
            return {r["bin(5m)"]: int(r["count(*)"]) for r in rows} == {
                stamp(k): v for k, v in want["bins"].items()}
        if name.startswith("orders"):
            got = {r["region"]: (int(r["count(*)"]), float(r["sum(amount)"])) for r in rows}
            return got.keys() == want["orders"].keys() and all(
                got[k][0] == c and abs(got[k][1] - s) < 1e-6 * max(s, 1)
                for k, (c, s) in want["orders"].items())
        if name.startswith("stats pct"):
            got = {r["region"]: float(r["pct(latency, 99)"]) for r in rows}
            return got.keys() == want["p99"].keys() and all(
                min(lo, hi) <= got[k] <= max(lo, hi) for k, (lo, hi) in want["p99"].items())
    except (KeyError, ValueError):
        return False
    return False


def measure(name: str, port: int, start_ms: int, want: dict) -> dict:
    print(f"  {name}: loading {EVENTS:,} events ...", flush=True)
    seconds = load(port, start_ms)
    print(f"    ingested in {seconds:.1f} s ({EVENTS / seconds:,.0f} events/s)")
    logs = client(port)
    figures = {}
    for label, query in QUERIES.items():
        times, ok = [], True
        for _ in range(ROUNDS):
            elapsed, result = run_query(logs, query, start_ms)
            times.append(elapsed)
            ok = ok and correct(label, result, want)
            if not ok:          # a wrong answer is reported once, not timed again
                break
        figures[label] = (statistics.median(times), ok, result.get("statistics", {}))
        median = statistics.median(times)
        print(f"    {label:34s} {median * 1000:8.0f} ms  "
              f"{'correct' if ok else 'WRONG'}  "
              f"(matched {result.get('statistics', {}).get('recordsMatched', '?')}, "
              f"rows {len(result.get('results', []))})", flush=True)
    return figures


def main() -> None:
    start_ms = (int(time.time()) - EVENTS * STEP_MS // 1000 - 600) * 1000
    print(f"CloudWatch Logs Insights: {EVENTS:,} events (~{len(message(1)) * EVENTS / 1e6:,.0f} "
          f"MB of messages), median of {ROUNDS} runs from StartQuery to Complete")
    want = expected(start_ms)
    results = {}
    for name, starter in (("cloudlet", lambda p: start_cloudlet(p)[0]), ("moto", start_moto)):
        if name not in SERVERS:
            continue
        port = free_port()
        proc = starter(port)
        try:
            results[name] = measure(name, port, start_ms, want)
        except Exception as e:  # noqa: BLE001 - a server that fails is a figure, not a crash
            print(f"    {name} failed: {e!r}")
        finally:
            proc.terminate()
            proc.wait()
    if "cloudlet" in results and "moto" in results:
        for label in QUERIES:
            (ct, cok, _), (mt, mok, _) = results["cloudlet"][label], results["moto"][label]
            verdict = f"{mt / ct:.1f}x faster than moto" if mok else "moto's answer is wrong"
            print(f"  {label:34s} cloudlet {'ok' if cok else 'WRONG'}; {verdict}")


if __name__ == "__main__":
    main()
