"""AWS's endpoints seen from inside a VPC: a running Cloudlet (`cloudlet up`, its own data
directory), a VPC with a public subnet, an internet gateway and a NAT gateway (an ENI with an
Elastic IP); the client runs in the NAT gateway's namespace, as code on an instance would.

Measures:
  - the VPC resolver (base + 2): one A query for sts.us-east-1.amazonaws.com over UDP, p50
    and p99 of BENCH_DNS (1000), and over TCP (a connection per query) of BENCH_DNS / 10;
  - a TCP connect and TLS handshake to sts.us-east-1.amazonaws.com:443 (the certificate,
    with its ~200 names, verified against Cloudlet's CA), p50/p99 of BENCH_CALLS (200);
  - GetCallerIdentity signed by botocore with an IAM user's key, HTTPS with Cloudlet's CA,
    AWS's default endpoint (no endpoint URL): a warm client (keep-alive), p50/p99 of
    BENCH_CALLS; a fresh client per call (its creation and a new TLS connection), p50 of
    BENCH_CALLS / 4; and the same warm call from the host to http://127.0.0.1 for scale.

No peer serves AWS's names inside a VPC, so there is no side-by-side run. Prints figures;
asserts nothing. Needs root, namespaces and nftables.
Run: .venv/bin/python bench/vpc_endpoints.py
"""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "support"))

from harness import CloudletProcess  # noqa: E402
from inside_vpc import InsideVpc, ask  # noqa: E402

from cloudlet.services.ec2.fabric import prefix_for  # noqa: E402

DNS = int(os.environ.get("BENCH_DNS", "1000"))
CALLS = int(os.environ.get("BENCH_CALLS", "200"))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def report(name: str, samples: list[float]) -> None:
    print(f"{name:<62} p50 {statistics.median(samples) * 1000:7.2f} ms   "
          f"p99 {percentile(samples, 0.99) * 1000:7.2f} ms   (n={len(samples)})")


def timed(fn, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def network(server: CloudletProcess) -> tuple[str, str]:
    ec2 = server.client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.77.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.77.1.0/24")["Subnet"]["SubnetId"]
    igw = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2.attach_internet_gateway(InternetGatewayId=igw, VpcId=vpc)
    table = ec2.describe_route_tables(Filters=[{"Name": "vpc-id", "Values": [vpc]}])[
        "RouteTables"][0]["RouteTableId"]
    ec2.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=igw)
    address = ec2.allocate_address(Domain="vpc")["AllocationId"]
    nat = ec2.create_nat_gateway(SubnetId=subnet, AllocationId=address)["NatGateway"]
    return f"{prefix_for(server.data_dir)}-h-{nat['NatGatewayId']}", "10.77.0.2"


def main() -> None:
    if os.geteuid() != 0:
        sys.exit("needs root (network namespaces, nftables)")
    data = Path(tempfile.mkdtemp(prefix="bench-vpc-endpoints-")) / "data"
    server = CloudletProcess(data_dir=data).start()
    try:
        print(f"Cloudlet {server.endpoint}, data dir {data}")
        where, resolver = network(server)
        iam = server.client("iam")
        iam.create_user(UserName="bench")
        key = iam.create_access_key(UserName="bench")["AccessKey"]
        ca = str(data / "ca" / "ca-bundle.pem")
        config = Config(retries={"max_attempts": 1}, ignore_configured_endpoint_urls=True)

        def sts():
            return boto3.client("sts", region_name="us-east-1", verify=ca, config=config,
                                aws_access_key_id=key["AccessKeyId"],
                                aws_secret_access_key=key["SecretAccessKey"])

        def query(tcp=False):
            assert ask(where, resolver, "sts.us-east-1.amazonaws.com", tcp=tcp).rr

        query()
        report("resolver, UDP A query", timed(query, DNS))
        report("resolver, TCP A query (new connection each)",
               timed(lambda: query(tcp=True), max(DNS // 10, 10)))
        inside = InsideVpc(where, resolver)
        context = ssl.create_default_context(cafile=ca)

        def handshakes():
            def one():
                with socket.create_connection(("sts.us-east-1.amazonaws.com", 443), 5) as raw, \
                        context.wrap_socket(raw, server_hostname="sts.us-east-1.amazonaws.com"):
                    pass
            one()
            return timed(one, CALLS)

        report("TCP connect + TLS handshake inside the VPC", inside.run(handshakes, timeout=600))

        def warm():
            client = sts()
            client.get_caller_identity()
            return timed(client.get_caller_identity, CALLS)

        def fresh():
            return timed(lambda: sts().get_caller_identity(), max(CALLS // 4, 10))

        report("GetCallerIdentity inside the VPC, HTTPS, keep-alive", inside.run(warm, timeout=600))
        report("GetCallerIdentity inside the VPC, HTTPS, new client+TLS each",
               inside.run(fresh, timeout=600))
        host = server.client("sts", aws_access_key_id=key["AccessKeyId"],
                             aws_secret_access_key=key["SecretAccessKey"])
        host.get_caller_identity()
        report("GetCallerIdentity from the host, http://127.0.0.1, keep-alive",
               timed(host.get_caller_identity, CALLS))
    finally:
        server.stop()
        shutil.rmtree(data.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
