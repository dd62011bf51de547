"""Lambda benchmark: Cloudlet's Invoke, with moto's server on the same warm invoke.

Measures:
  - cold start: a Python hello-world function never invoked before, Invoke to response
    (each sample a new function, so a new execution environment);
  - warm invoke: p50/p99 of Invoke through the API on one keep-alive connection, the request
    signed once with SigV4 beforehand (the server verifies every request; the client does
    no per-request signing), for Cloudlet and moto;
  - 100 concurrent invokes of a function that sleeps 50 ms (after one round that starts the
    environments): all complete? errors? each request's latency and the REPORT Duration.

moto's server cannot run code without Docker: it answers 200 with FunctionError "Handled"
and the Docker error as the payload. Its figure is the time to give that answer.

Run: .venv/bin/python bench/lambda.py   (BENCH_WARM=N sets the warm sample count)
"""

from __future__ import annotations

import base64
import http.client
import io
import json
import os
import platform
import re
import statistics
import sys
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent))
from gateway import free_port, start_cloudlet, start_moto  # noqa: E402

WARM = int(os.environ.get("BENCH_WARM", "3000"))
COLD = int(os.environ.get("BENCH_COLD", "10"))
CONCURRENT = 100
HELLO = ("def handler(event, context):\n"
         "    return {'statusCode': 200, 'body': 'Hello, world!'}\n")
SLEEP50 = "import time\ndef handler(event, context):\n    time.sleep(0.05)\n    return 'ok'\n"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [{
    "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
    "Action": "sts:AssumeRole"}]})


def zipped(code: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("app.py", code)
    return buffer.getvalue()


def clients(endpoint: str):
    kwargs = {"endpoint_url": endpoint, "region_name": "us-east-1",
              "aws_access_key_id": "test", "aws_secret_access_key": "test",
              "config": Config(retries={"total_max_attempts": 1}, read_timeout=120,
                               max_pool_connections=CONCURRENT + 10)}
    return boto3.client("iam", **kwargs), boto3.client("lambda", **kwargs)


def create(lam, role: str, name: str, code: str, wait: bool = True, **extra) -> None:
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": zipped(code)}, **extra)
    if wait:
        lam.get_waiter("function_active_v2").wait(
            FunctionName=name, WaiterConfig={"Delay": 0.1, "MaxAttempts": 200})


def signed(endpoint: str, name: str, body: bytes = b"{}", tail: bool = False) -> tuple:
    """(host, port, path, headers) of an Invoke request, signed once."""
    path = f"/2015-03-31/functions/{name}/invocations"
    request = AWSRequest(method="POST", url=endpoint + path, data=body,
                         headers={"Content-Type": "application/json",
                                  **({"X-Amz-Log-Type": "Tail"} if tail else {})})
    SigV4Auth(Credentials("test", "test"), "lambda", "us-east-1").add_auth(request)
    host, port = endpoint.split("//")[1].split(":")
    return host, int(port), path, dict(request.headers.items()), body


def timed_loop(target: tuple, count: int) -> tuple[list[float], int, bytes, dict]:
    host, port, path, headers, body = target
    conn = http.client.HTTPConnection(host, port, timeout=60)
    samples, errors, last, last_headers = [], 0, b"", {}
    for _ in range(count):
        t0 = time.perf_counter()
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        last = response.read()
        samples.append((time.perf_counter() - t0) * 1000)
        if response.status != 200:
            errors += 1
        last_headers = {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    return samples, errors, last, last_headers


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def one(target: tuple) -> tuple[float, int, dict]:
    host, port, path, headers, body = target
    conn = http.client.HTTPConnection(host, port, timeout=120)
    t0 = time.perf_counter()
    conn.request("POST", path, body=body, headers=headers)
    response = conn.getresponse()
    response.read()
    elapsed = (time.perf_counter() - t0) * 1000
    got = {k.lower(): v for k, v in response.getheaders()}
    conn.close()
    return elapsed, response.status, got


def concurrent_round(target: tuple) -> tuple[list[float], list[int], list[float], float]:
    t0 = time.perf_counter()
    with ThreadPoolExecutor(CONCURRENT) as pool:
        results = list(pool.map(lambda _: one(target), range(CONCURRENT)))
    wall = (time.perf_counter() - t0) * 1000
    durations = []
    for _, _, headers in results:
        text = base64.b64decode(headers.get("x-amz-log-result", "")).decode("utf-8", "replace")
        found = re.search(r"\tDuration: ([\d.]+) ms", text)
        if found:
            durations.append(float(found.group(1)))
    return [r[0] for r in results], [r[1] for r in results], durations, wall


def bench_cloudlet() -> dict:
    port = free_port()
    proc, _ = start_cloudlet(port)
    endpoint = f"http://127.0.0.1:{port}"
    figures: dict = {}
    try:
        iam, lam = clients(endpoint)
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        names = [f"cold-{i}" for i in range(COLD)]
        for name in names:
            create(lam, role, name, HELLO)
        cold = []
        for name in names:
            t0 = time.perf_counter()
            out = lam.invoke(FunctionName=name)
            out["Payload"].read()
            cold.append((time.perf_counter() - t0) * 1000)
        figures["cold"] = cold

        create(lam, role, "warm", HELLO)
        target = signed(endpoint, "warm")
        timed_loop(target, 200)  # start the environment, warm the server
        samples, errors, last, _ = timed_loop(target, WARM)
        figures["warm"], figures["warm_errors"], figures["warm_body"] = samples, errors, last

        create(lam, role, "sleep50", SLEEP50, Timeout=10)
        target = signed(endpoint, "sleep50", tail=True)
        concurrent_round(target)  # the first round starts 100 environments
        latencies, statuses, durations, wall = concurrent_round(target)
        figures["concurrent"] = (latencies, statuses, durations, wall)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return figures


def bench_moto() -> dict:
    port = free_port()
    proc = start_moto(port)
    endpoint = f"http://127.0.0.1:{port}"
    try:
        iam, lam = clients(endpoint)
        role = iam.create_role(RoleName="bench", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        create(lam, role, "warm", HELLO, wait=False)
        target = signed(endpoint, "warm")
        timed_loop(target, 20)
        samples, errors, last, headers = timed_loop(target, max(200, WARM // 10))
        return {"warm": samples, "warm_errors": errors, "warm_body": last,
                "function_error": headers.get("x-amz-function-error")}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    print(f"# Lambda benchmark, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}")
    cloudlet = bench_cloudlet()
    cold = cloudlet["cold"]
    print(f"cold start (Python hello-world, Invoke to response, {len(cold)} new functions): "
          f"p50 {statistics.median(cold):.1f} ms, min {min(cold):.1f}, max {max(cold):.1f}")
    warm = cloudlet["warm"]
    print(f"warm invoke, Cloudlet ({len(warm)} on one keep-alive connection): "
          f"p50 {percentile(warm, 50):.2f} ms, p99 {percentile(warm, 99):.2f} ms, "
          f"errors {cloudlet['warm_errors']}, answer {cloudlet['warm_body'][:60]!r}")
    latencies, statuses, durations, wall = cloudlet["concurrent"]
    ok = sum(1 for s in statuses if s == 200)
    print(f"{CONCURRENT} concurrent invokes of a 50 ms function: {ok}/{CONCURRENT} answered 200,"
          f" wall {wall:.0f} ms; request latency p50 {percentile(latencies, 50):.1f} ms, "
          f"max {max(latencies):.1f} ms; REPORT Duration p50 "
          f"{percentile(durations, 50) if durations else float('nan'):.1f} ms, max "
          f"{max(durations) if durations else float('nan'):.1f} ms")
    moto = bench_moto()
    mwarm = moto["warm"]
    print(f"warm invoke, moto ({len(mwarm)}): p50 {percentile(mwarm, 50):.2f} ms, p99 "
          f"{percentile(mwarm, 99):.2f} ms, FunctionError {moto['function_error']!r}, "
          f"answer {moto['warm_body'][:100]!r}")
    print(f"ratio moto/Cloudlet warm p50: {percentile(mwarm, 50) / percentile(warm, 50):.1f}x")


if __name__ == "__main__":
    main()
