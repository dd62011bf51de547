"""VPC API benchmark: Cloudlet against moto's server, in the same run, on this machine.

Measures, for each server:
  - DescribeSecurityGroups with 1,000 groups in one VPC and a filter: p50/p99 latency for a
    selective filter (one group name), a tag filter (100 of the 1,000) and `vpc-id` (all);
  - API throughput of CreateSecurityGroup + DescribeSecurityGroups (the new group, by
    name) pairs, over 4 keep-alive connections, requests signed ahead so the client's
    signing is not measured.

Prints the figures and the Cloudlet/moto ratios. Run: `python bench/vpc.py`. Every loop is
bounded (BENCH_VPC_GROUPS, BENCH_VPC_PAIRS) and talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import os
import platform
import re
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

sys.path.insert(0, str(Path(__file__).parent))
from gateway import free_port, start_cloudlet, start_moto  # noqa: E402

GROUPS = int(os.environ.get("BENCH_VPC_GROUPS", "1000"))
PAIRS = int(os.environ.get("BENCH_VPC_PAIRS", "400"))
THREADS = 4
SAMPLES = 50
BUDGET = 15.0  # seconds of samples per figure at most (moto takes seconds per request)
CREDENTIALS = Credentials("test", "test")


def signed(endpoint: str, params: dict) -> tuple[dict, bytes]:
    body = urlencode({**params, "Version": "2016-11-15"}).encode()
    request = AWSRequest("POST", endpoint + "/", data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
    SigV4Auth(CREDENTIALS, "ec2", "us-east-1").add_auth(request)
    return dict(request.headers.items()), body


def send(conn: http.client.HTTPConnection, headers: dict, body: bytes) -> bytes:
    conn.request("POST", "/", body=body, headers=headers)
    reply = conn.getresponse()
    answer = reply.read()
    if reply.status != 200:
        raise RuntimeError(f"HTTP {reply.status}: {answer[:300]!r}")
    return answer


class RawConnection:
    """Prepared requests over one keep-alive socket, with the least client work per request
    (the load client shares the 2 cores with the server under test)."""

    def __init__(self, port: int):
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    @staticmethod
    def prepare(host: str, headers: dict, body: bytes) -> bytes:
        lines = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        return (f"POST / HTTP/1.1\r\nHost: {host}\r\n{lines}"
                f"Content-Length: {len(body)}\r\n\r\n").encode() + body

    def exchange(self, request: bytes, again: bool = True) -> int:
        """Send one request, read its answer; its status. A server that closes the
        connection after each answer (moto's speaks HTTP/1.0) gets a new one."""
        try:
            self.sock.sendall(request)
            while b"\r\n\r\n" not in self.buffer:
                self.buffer += self._recv()
        except (ConnectionError, EOFError):
            if not again:
                raise
            self.reconnect()
            return self.exchange(request, again=False)
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        found = re.search(rb"(?i)content-length:\s*(\d+)", head)
        if found is None:
            raise RuntimeError(f"an answer without Content-Length: {head[:200]!r}")
        length = int(found.group(1))
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        if b"HTTP/1.0" in head[:8] or re.search(rb"(?i)connection:\s*close", head):
            self.reconnect()
        return int(head[9:12])

    def _recv(self) -> bytes:
        chunk = self.sock.recv(65536)
        if not chunk:
            raise EOFError("the server closed the connection")
        return chunk

    def reconnect(self) -> None:
        self.sock.close()
        self.sock = socket.create_connection(("127.0.0.1", self.port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()


def filter_params(name: str, value: str) -> dict:
    return {"Action": "DescribeSecurityGroups", "Filter.1.Name": name, "Filter.1.Value.1": value}


def populate(endpoint: str) -> str:
    """A VPC with GROUPS security groups, each with one inbound rule; every tenth tagged."""
    ec2 = boto3.client("ec2", endpoint_url=endpoint, region_name="us-east-1",
                       aws_access_key_id="test", aws_secret_access_key="test")
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    for i in range(GROUPS):
        tags = [{"ResourceType": "security-group",
                 "Tags": [{"Key": "tier", "Value": "web" if i % 10 == 0 else "app"}]}]
        group = ec2.create_security_group(GroupName=f"bench-{i}", Description="bench",
                                          VpcId=vpc, TagSpecifications=tags)["GroupId"]
        ec2.authorize_security_group_ingress(GroupId=group, IpPermissions=[
            {"IpProtocol": "tcp", "FromPort": 443, "ToPort": 443,
             "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}])
    return vpc


def latency(endpoint: str, params: dict) -> tuple[float, float, int]:
    headers, body = signed(endpoint, params)
    host, port = endpoint.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port))
    for _ in range(3):
        size = len(send(conn, headers, body))
    samples, budget = [], time.perf_counter() + BUDGET
    while len(samples) < SAMPLES and (len(samples) < 5 or time.perf_counter() < budget):
        start = time.perf_counter()
        send(conn, headers, body)
        samples.append(time.perf_counter() - start)
    conn.close()
    samples.sort()
    return statistics.median(samples), samples[max(0, int(len(samples) * 0.99) - 1)], size


def throughput(endpoint: str, vpc: str, label: str) -> tuple[float, int]:
    """Pairs per second of CreateSecurityGroup + DescribeSecurityGroups(group-name), and the
    count of requests that did not answer 200."""
    work = []
    host = endpoint.split("//", 1)[1]
    for i in range(PAIRS):
        name = f"{label}-{i}"
        create = {"Action": "CreateSecurityGroup", "GroupName": name, "GroupDescription": "t",
                  "VpcId": vpc}
        work.append((RawConnection.prepare(host, *signed(endpoint, create)),
                     RawConnection.prepare(host, *signed(endpoint, filter_params("group-name",
                                                                                  name)))))
    port = int(endpoint.rsplit(":", 1)[1])
    chunks = [work[i::THREADS] for i in range(THREADS)]
    failed = [0] * THREADS

    def run(index, chunk):
        conn, done = RawConnection(port), 0
        try:
            for create, describe in chunk:
                failed[index] += (conn.exchange(create) != 200) + (conn.exchange(describe) != 200)
                done += 1
        except (OSError, RuntimeError, EOFError) as e:
            print(f"  {label}: connection {index} stopped: {e}")
            failed[index] += 2 * (len(chunk) - done)
        finally:
            conn.close()

    threads = [threading.Thread(target=run, args=(i, chunk)) for i, chunk in enumerate(chunks)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return PAIRS / (time.perf_counter() - start), sum(failed)


def main() -> None:
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}")
    print(f"{GROUPS} security groups in one VPC (one rule each, every tenth tagged tier=web); "
          f"{PAIRS} Create+Describe pairs over {THREADS} connections\n")
    servers = {}
    cloudlet_port, moto_port = free_port(), free_port()
    cloudlet, _ = start_cloudlet(cloudlet_port)
    moto = start_moto(moto_port)
    try:
        for name, port in (("cloudlet", cloudlet_port), ("moto", moto_port)):
            endpoint = f"http://127.0.0.1:{port}"
            t0 = time.perf_counter()
            vpc = populate(endpoint)
            print(f"{name}: {GROUPS} groups made in {time.perf_counter() - t0:.1f} s")
            figures = {}
            for label, params in (("group-name (1 match)", filter_params("group-name",
                                                                         "bench-500")),
                                  ("tag:tier=web (a tenth)", filter_params("tag:tier", "web")),
                                  ("vpc-id (all)", filter_params("vpc-id", vpc))):
                p50, p99, size = latency(endpoint, params)
                figures[label] = p50
                print(f"  DescribeSecurityGroups {label:22s} p50 {p50 * 1e3:7.2f} ms  "
                      f"p99 {p99 * 1e3:7.2f} ms  ({size // 1024} KiB)")
            figures["pairs"], failed = throughput(endpoint, vpc, f"{name}-t")
            print(f"  CreateSecurityGroup + DescribeSecurityGroups: {figures['pairs']:.0f} "
                  f"pairs/s ({failed} of {2 * PAIRS} requests did not answer 200)")
            servers[name] = figures
    finally:
        for proc in (cloudlet, moto):
            proc.terminate()
            proc.wait()
    ours, theirs = servers["cloudlet"], servers["moto"]
    print("\nratios (moto / cloudlet latency; cloudlet / moto throughput):")
    for label in ours:
        if label == "pairs":
            print(f"  throughput               {ours[label] / theirs[label]:6.1f}x  (target >= 10x)")
        else:
            print(f"  {label:24s} {theirs[label] / ours[label]:6.1f}x")
    print(f"target: DescribeSecurityGroups with a filter < 30 ms: "
          f"{ours['group-name (1 match)'] * 1e3:.1f} ms (one match), "
          f"{ours['vpc-id (all)'] * 1e3:.1f} ms (all {GROUPS})")


if __name__ == "__main__":
    main()
