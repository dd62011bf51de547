"""EC2's servers on a test-made fabric: the VPC resolver (network/resolver.py) on the router,
AWS's endpoints (network/api_endpoints.py) through real in-cloud listeners in the internet
gateway's and an S3 endpoint's namespaces, and flow-log delivery (network/flow_delivery.py)
of the packet filter's ACCEPT and REJECT verdicts."""

from __future__ import annotations

import socket
import ssl
import threading
import time

import pytest
import uvicorn
from fabric_support import connect

from cloudlet.ca import cloudlet_ca
from cloudlet.engines.network import (
    Endpoint,
    Interface,
    InternetGateway,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
)
from cloudlet.gateway.listeners import CloudListeners
from cloudlet.server import Server
from cloudlet.services.ec2.network.api_endpoints import ApiEndpoints
from cloudlet.services.ec2.network.flow_delivery import Captured, FlowLogDelivery, FlowLogSpec
from cloudlet.services.ec2.network.names import VpcNames
from cloudlet.services.ec2.network.prefix_lists import API_ADDRESS, S3_ADDRESS
from cloudlet.services.ec2.network.resolver import Resolver

NET = "vpc-svcs"
OPEN = (Rule(cidrs=("0.0.0.0/0",)),)


async def echo(scope, receive, send):
    if scope["type"] != "http":
        return
    body = f"{scope.get('cloudlet.origin', '-')} {scope['scheme']}".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
def listeners():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = Server(uvicorn.Config(echo, host="127.0.0.1", port=port, lifespan="off",
                                   log_level="warning"))
    server.listeners = CloudListeners()
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.01)
    yield server.listeners
    server.should_exit = True
    thread.join(10)


def network(fabric):
    public = f"{fabric.public_range.rsplit('.', 1)[0]}.7"
    fabric.put_network(NET, ["10.9.0.0/16"])
    fabric.put_security_group(NET, SecurityGroup("sg-a", ingress=(
        Rule("tcp", (80, 80), cidrs=("10.9.0.0/16",)),), egress=OPEN))
    fabric.put_subnet(NET, Subnet("sub-pub", "10.9.1.0/24",
                                  routes=(Route("0.0.0.0/0", "internet-gateway"),)))
    fabric.put_subnet(NET, Subnet("sub-iso", "10.9.2.0/24",
                                  routes=(Route("", "endpoint", "vpce-s3"),)))
    igw = fabric.put_internet_gateway(NET, InternetGateway("igw-1", (API_ADDRESS, S3_ADDRESS)))
    endpoint = fabric.put_endpoint(NET, Endpoint("vpce-s3", ("198.19.0.0/24",), (S3_ADDRESS,)))
    fabric.put_interface(NET, Interface("eni-pub", "sub-pub", "pub", ("10.9.1.10",),
                                        groups=("sg-a",), public_address=public))
    fabric.put_interface(NET, Interface("eni-nopub", "sub-pub", "nopub", ("10.9.1.11",),
                                        groups=("sg-a",)))
    fabric.put_interface(NET, Interface("eni-iso", "sub-iso", "iso", ("10.9.2.10",),
                                        groups=("sg-a",)))
    return igw, endpoint


def https(fabric, where, address, name, ca, port=443):
    sock = fabric.socket(fabric.host_namespace_name(where))
    sock.settimeout(2)
    try:
        sock.connect((address, port))
        if ca is not None:
            sock = ssl.create_default_context(cafile=str(ca.bundle_path)).wrap_socket(
                sock, server_hostname=name)
        sock.sendall(f"GET / HTTP/1.1\r\nHost: {name}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(4096):
            data += chunk
        return data.partition(b"\r\n\r\n")[2].decode()
    except TimeoutError:
        return "timeout"
    finally:
        sock.close()


def test_endpoints_in_the_gateways_namespaces_follow_the_routes(fabric, listeners, tmp_path):
    igw, endpoint = network(fabric)
    ca = cloudlet_ca(tmp_path)
    endpoints = ApiEndpoints(listeners.serve, ca, tmp_path / "tls")
    stops = [endpoints.start("1", "us-east-1", NET, (API_ADDRESS, S3_ADDRESS),
                             lambda f, t: fabric.socket(igw, f, t)),
             endpoints.start("1", "us-east-1", NET, (S3_ADDRESS,),
                             lambda f, t: fabric.socket(endpoint, f, t))]
    try:
        assert https(fabric, "pub", API_ADDRESS, "sts.us-east-1.amazonaws.com", ca) == (
            "cloud https")
        assert https(fabric, "pub", S3_ADDRESS, "bucket.s3.amazonaws.com", ca) == "cloud https"
        assert https(fabric, "pub", API_ADDRESS, "sts.amazonaws.com", None, 80) == "cloud http"
        # no public address: the internet gateway lets nothing of it through, as on AWS
        assert https(fabric, "nopub", API_ADDRESS, "sts.amazonaws.com", None, 80) == "timeout"
        # the isolated subnet's only route leads to the S3 endpoint
        assert https(fabric, "iso", S3_ADDRESS, "s3.us-east-1.amazonaws.com", ca) == (
            "cloud https")
        assert https(fabric, "iso", API_ADDRESS, "sts.amazonaws.com", None, 80) == "timeout"
    finally:
        for stop in stops:
            stop()
    # stopped: nothing listens there any more (the namespace stays until the endpoint goes)
    assert connect(fabric, fabric.host_namespace_name("iso"), S3_ADDRESS, 443) == "refused"


def test_the_resolver_on_the_router_follows_its_settings(fabric):
    from inside_vpc import ask

    network(fabric)
    settings = {NET: VpcNames("eu-west-1", True, ("10.9.0.0/16",),
                              ("eu-west-1.compute.internal",))}
    rds = {"db.x.eu-west-1.rds.amazonaws.com": "10.9.2.77"}
    resolver = Resolver(settings.get, lambda a, r, v, name: rds.get(name),
                        fabric.resolver_address)
    router = fabric.router_namespace(NET)
    stop = resolver.start("1", "eu-west-1", NET, lambda f, t: fabric.socket(router, f, t))
    where, address = fabric.host_namespace_name("iso"), fabric.resolver_address(NET)
    try:
        for name, found in (("sts.eu-west-1.amazonaws.com", API_ADDRESS),
                            ("b.s3.eu-west-1.amazonaws.com", S3_ADDRESS),
                            ("db.x.eu-west-1.rds.amazonaws.com", "10.9.2.77"),
                            ("ip-10-9-2-10.eu-west-1.compute.internal", "10.9.2.10")):
            for tcp in (False, True):
                assert [str(r.rdata) for r in ask(where, address, name, tcp=tcp).rr] == [found]
        settings[NET] = VpcNames("eu-west-1", False, ("10.9.0.0/16",), ())
        assert ask(where, address, "sts.amazonaws.com", timeout=0.3) is None
    finally:
        stop()


class Bus:
    def __init__(self):
        self.events: list[dict] = []

    def publish(self, topic, event):
        assert topic == "logs:put"
        self.events.append(event)


def test_flow_delivery_of_accepted_and_rejected_connections(fabric, listen):
    network(fabric)
    bus = Bus()
    delivery = FlowLogDelivery(bus)
    spec = FlowLogSpec.of({"FlowLogId": "fl-1", "TrafficType": "ALL", "LogGroupName": "g",
                           "MaxAggregationInterval": 60})
    delivery.interfaces("111122223333", "us-east-1", NET, {"eni-pub": Captured(
        "eni-pub", "sub-pub", "i-1", ("10.9.1.10",), (spec,))})
    fabric.watch_flows(NET, "eni-pub", lambda flow: delivery.record(NET, flow), interval=0.2)
    listen(fabric.host_namespace_name("pub"), "10.9.1.10", 80)
    listen(fabric.host_namespace_name("pub"), "10.9.1.10", 81)
    nopub = fabric.host_namespace_name("nopub")
    assert connect(fabric, nopub, "10.9.1.10", 80) == "open"
    assert connect(fabric, nopub, "10.9.1.10", 81, timeout=0.5) == "timeout"
    fabric.unwatch_flows(NET, "eni-pub")  # hands over what it has
    delivery.deliver_due(everything=True)
    records = [e["message"].split() for event in bus.events for e in event["events"]]
    assert {(event["log_group"], event["log_stream"]) for event in bus.events} == {
        ("g", "eni-pub-all")}
    seen = {(r[3], r[4], r[6], r[12]) for r in records}
    assert ("10.9.1.11", "10.9.1.10", "80", "ACCEPT") in seen
    assert ("10.9.1.10", "10.9.1.11", "80", "ACCEPT") not in seen  # replies: source port 80
    assert ("10.9.1.11", "10.9.1.10", "81", "REJECT") in seen
    assert all(r[:3] == ["2", "111122223333", "eni-pub"] and r[13] == "OK" for r in records)
