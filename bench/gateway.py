"""Gateway benchmark: Cloudlet against moto's server, in the same run, on this machine.

Measures, for each server:
  - requests/s and p50/p99 latency of a signed STS GetCallerIdentity (a pre-signed URL,
    so the load client does no signing), over many keep-alive connections, with `wrk`;
  - for Cloudlet: the time from process start to the first served request.

Prints the figures and the Cloudlet/moto ratio. Run with `make bench`.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import boto3

REPO = Path(__file__).resolve().parents[1]
# Throughput is compared at 16 connections; latency without queueing at 1.
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONNECTIONS", "16,1").split(",")]
DURATION = os.environ.get("BENCH_DURATION", "10s")
THREADS = os.environ.get("BENCH_THREADS", "1")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(url: str, proc: subprocess.Popen, timeout: float = 30) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1) as reply:
                reply.read()
                return time.monotonic() - start
        except OSError:
            time.sleep(0.002)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def spawn_cloudlet(port: int) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "cloudlet", "up", "--port", str(port), "--ephemeral",
         "--log-level", "warning"], cwd=REPO, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)


def start_cloudlet(port: int) -> tuple[subprocess.Popen, float]:
    t0 = time.monotonic()
    proc = spawn_cloudlet(port)
    wait_until_serving(f"http://127.0.0.1:{port}/_cloudlet/health", proc)
    return proc, time.monotonic() - t0


def start_moto(port: int) -> subprocess.Popen:
    moto = shutil.which("moto_server", path=str(Path(sys.executable).parent)) or "moto_server"
    proc = subprocess.Popen([moto, "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    wait_until_serving(f"http://127.0.0.1:{port}/moto-api/", proc)
    return proc


def presigned_get_caller_identity(endpoint: str) -> str:
    sts = boto3.client("sts", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    return sts.generate_presigned_url("get_caller_identity", ExpiresIn=3600, HttpMethod="GET")


def wrk(url: str, connections: int, duration: str = DURATION, script: Path | None = None) -> dict:
    """Load `url` with wrk; requests/s, p50/p99 in ms and the count of non-2xx answers."""
    extra = ["-s", str(script)] if script else []
    out = subprocess.run(
        ["wrk", "-t", THREADS, "-c", str(connections), "-d", duration, "--latency", *extra, url],
        capture_output=True, text=True, check=True).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}
    for pct in ("50", "99"):
        value, unit = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s)", out).groups()
        figures[f"p{pct}_ms"] = float(value) * {"us": 1e-3, "ms": 1, "s": 1e3}[unit]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    figures["non_2xx"] = int(errors.group(1)) if errors else 0
    return figures


def startup_times(runs: int = 5) -> tuple[list[float], list[float]]:
    """Seconds from process start to the first served health check, and to the first
    served AWS request (a signed GetCallerIdentity), each from its own fresh process."""
    to_health, to_sts = [], []
    for _ in range(runs):
        proc, elapsed = start_cloudlet(free_port())
        to_health.append(elapsed)
        proc.terminate()
        proc.wait()
        port = free_port()
        url = presigned_get_caller_identity(f"http://127.0.0.1:{port}")
        t0 = time.monotonic()
        proc = spawn_cloudlet(port)
        wait_until_serving(url, proc)
        to_sts.append(time.monotonic() - t0)
        proc.terminate()
        proc.wait()
    return to_health, to_sts


def median_ms(values: list[float]) -> str:
    return f"median {sorted(values)[len(values) // 2] * 1000:.0f} ms " \
           f"(runs: {', '.join(f'{v * 1000:.0f}' for v in values)})"


def main() -> None:
    if shutil.which("wrk") is None:
        sys.exit("bench: wrk is not installed (Debian package 'wrk'; `make bench` installs it)")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"load: wrk -t{THREADS} -c<connections> -d{DURATION}, pre-signed GET of STS "
          "GetCallerIdentity over keep-alive connections\n")
    results = {}
    cloudlet_port, moto_port = free_port(), free_port()
    cloudlet, _ = start_cloudlet(cloudlet_port)
    moto = start_moto(moto_port)
    try:
        for name, port in (("cloudlet", cloudlet_port), ("moto", moto_port)):
            url = presigned_get_caller_identity(f"http://127.0.0.1:{port}")
            with urllib.request.urlopen(url) as reply:  # warm up, and check it answers 200
                assert reply.status == 200, reply.status
            for connections in CONCURRENCY:
                results[name, connections] = wrk(url, connections)
    finally:
        for proc in (cloudlet, moto):
            proc.terminate()
            proc.wait()
    for connections in CONCURRENCY:
        print(f"{connections} connection(s):")
        for name in ("cloudlet", "moto"):
            r = results[name, connections]
            print(f"  {name:<9} {r['rps']:>9.0f} req/s   p50 {r['p50_ms']:.3f} ms   "
                  f"p99 {r['p99_ms']:.3f} ms   non-2xx {r['non_2xx']}")
        ratio = results["cloudlet", connections]["rps"] / results["moto", connections]["rps"]
        print(f"  ratio cloudlet/moto requests/s: {ratio:.1f}x\n")
    to_health, to_sts = startup_times()
    print(f"cloudlet start to first served request (health): {median_ms(to_health)}")
    print(f"cloudlet start to first served GetCallerIdentity:  {median_ms(to_sts)}")


if __name__ == "__main__":
    with tempfile.TemporaryDirectory():
        main()
