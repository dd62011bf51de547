"""IMDS in namespaces, over real HTTP (curl inside `ip netns exec`): the server's socket is
made inside a router namespace (169.254.169.254 on its lo), an instance namespace asks
it through a veth, and a container namespace one hop behind the instance (forwarded and
masqueraded by the instance, as Docker's bridge does) shows the hop limit: with
HttpPutResponseHopLimit 1 the token's answer dies at that hop and the container's PUT times
out, while the instance itself gets it; with 2 the container gets it too.

Every namespace and link is the test's own (`cltest-*`, `clt*`), linked to nothing else,
and removed at the end."""

from __future__ import annotations

import itertools
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass

import pytest

from cloudlet.engines.network import netns
from cloudlet.services.ec2.compute.metadata_handler import MetadataHandler, Tokens
from cloudlet.services.ec2.compute.metadata_http import MetadataServers
from tests.services.test_ec2_metadata import facts

_numbers = itertools.count(20)


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "namespaces need root"
    for tool in ("ip", "nft", "curl"):
        if not shutil.which(tool):
            return f"{tool} is not installed"
    return netns.available()[1] or None


def _run(*args: str) -> None:
    subprocess.run(list(args), check=True, capture_output=True)


@dataclass
class Triple:
    tag: str
    n: int

    @property
    def router(self) -> str:
        return f"cltest-{self.tag}-m"

    @property
    def instance(self) -> str:
        return f"cltest-{self.tag}-i"

    @property
    def container(self) -> str:
        return f"cltest-{self.tag}-c"

    @property
    def instance_address(self) -> str:
        return f"10.203.{self.n}.5"

    def create(self) -> None:
        t, n = self.tag, self.n
        for ns in (self.router, self.instance, self.container):
            _run("ip", "netns", "add", ns)
            _run("ip", "-n", ns, "link", "set", "lo", "up")
        _run("ip", "link", "add", f"clt{t}m", "type", "veth", "peer", "name", f"clt{t}i")
        _run("ip", "link", "set", f"clt{t}m", "netns", self.router)
        _run("ip", "link", "set", f"clt{t}i", "netns", self.instance)
        _run("ip", "link", "add", f"clt{t}j", "type", "veth", "peer", "name", f"clt{t}c")
        _run("ip", "link", "set", f"clt{t}j", "netns", self.instance)
        _run("ip", "link", "set", f"clt{t}c", "netns", self.container)
        # the router: the metadata address on lo, the instance's link
        _run("ip", "-n", self.router, "addr", "add", "169.254.169.254/32", "dev", "lo")
        _run("ip", "-n", self.router, "addr", "add", f"10.203.{n}.1/24", "dev", f"clt{t}m")
        _run("ip", "-n", self.router, "link", "set", f"clt{t}m", "up")
        # the instance: eth0 towards the router, a bridge-like link to its container
        _run("ip", "-n", self.instance, "link", "set", f"clt{t}i", "name", "eth0")
        _run("ip", "-n", self.instance, "addr", "add", f"{self.instance_address}/24", "dev", "eth0")
        _run("ip", "-n", self.instance, "link", "set", "eth0", "up")
        _run("ip", "-n", self.instance, "route", "add", "169.254.169.254/32", "via",
             f"10.203.{n}.1")
        _run("ip", "-n", self.instance, "addr", "add", f"10.204.{n}.1/24", "dev", f"clt{t}j")
        _run("ip", "-n", self.instance, "link", "set", f"clt{t}j", "up")
        _run("ip", "netns", "exec", self.instance, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        nat = ("table ip cltest_nat {\n chain post {\n"
               "  type nat hook postrouting priority 100;\n"
               '  oifname "eth0" masquerade\n }\n}\n')
        subprocess.run(["ip", "netns", "exec", self.instance, "nft", "-f", "-"], input=nat,
                       text=True, check=True, capture_output=True)
        # the container: one hop behind the instance
        _run("ip", "-n", self.container, "addr", "add", f"10.204.{n}.2/24", "dev", f"clt{t}c")
        _run("ip", "-n", self.container, "link", "set", f"clt{t}c", "up")
        _run("ip", "-n", self.container, "route", "add", "default", "via", f"10.204.{n}.1")

    def remove(self) -> None:
        for ns in (self.router, self.instance, self.container):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def curl(ns: str, path: str, *args: str, timeout: float = 2) -> tuple[int, str, str]:
    """(curl's exit code, HTTP status, body) for a request from inside namespace `ns`."""
    done = subprocess.run(
        ["ip", "netns", "exec", ns, "curl", "-s", "-m", str(timeout), "-w", "\n%{http_code}",
         *args, f"http://169.254.169.254{path}"], capture_output=True, text=True, timeout=30)
    body, _, status = done.stdout.rpartition("\n")
    return done.returncode, status, body


def put_token(ns: str, *args: str, timeout: float = 2) -> tuple[int, str, str]:
    return curl(ns, "/latest/api/token", "-X", "PUT", "-H",
                "X-aws-ec2-metadata-token-ttl-seconds: 60", *args, timeout=timeout)


@pytest.fixture
def imds():
    missing = _missing()
    if missing:
        pytest.skip(missing)
    triple = Triple(uuid.uuid4().hex[:6], (os.getpid() * 7 + next(_numbers)) % 250 + 1)
    servers = MetadataServers()
    try:
        triple.create()
        found = {"facts": facts()}
        sock = netns.socket(triple.router)
        sock.bind(("169.254.169.254", 80))
        sock.listen(16)
        handler = MetadataHandler(
            lambda peer: found["facts"] if peer == triple.instance_address else None, Tokens())
        stop = servers.serve(sock, handler)
        yield triple, found["facts"]
        stop()
    finally:
        servers.close()
        triple.remove()


def test_the_instance_reads_its_metadata_v1_and_v2(imds):
    triple, _ = imds
    code, status, body = curl(triple.instance, "/latest/meta-data/instance-id")
    assert (code, status, body) == (0, "200", "i-0123456789abcdef0")
    code, status, token = put_token(triple.instance)
    assert code == 0 and status == "200" and token
    code, status, body = curl(triple.instance, "/latest/meta-data/placement/availability-zone/",
                              "-H", f"X-aws-ec2-metadata-token: {token}")
    assert (status, body) == ("200", "us-east-1a")
    code, status, _ = curl(triple.instance, "/latest/meta-data/", "-H",
                           "X-aws-ec2-metadata-token: not-a-token")
    assert status == "401"


def test_tokens_required_is_401_without_a_token(imds):
    triple, instance = imds
    instance.instance["MetadataOptions"]["HttpTokens"] = "required"
    assert curl(triple.instance, "/latest/meta-data/")[1] == "401"
    _, _, token = put_token(triple.instance)
    assert curl(triple.instance, "/latest/meta-data/instance-id", "-H",
                f"X-aws-ec2-metadata-token: {token}")[1:] == ("200", "i-0123456789abcdef0")


def test_hop_limit_1_keeps_the_token_from_a_container_behind_the_instance(imds):
    triple, instance = imds
    # the container reaches IMDS (masqueraded as the instance): v1 GETs are not limited
    assert curl(triple.container, "/latest/meta-data/instance-id")[1:] == (
        "200", "i-0123456789abcdef0")
    assert put_token(triple.instance)[1] == "200"
    code, status, body = put_token(triple.container, timeout=2)
    assert code == 28 and status == "000" and body == ""  # curl: operation timed out
    instance.instance["MetadataOptions"]["HttpPutResponseHopLimit"] = 2
    code, status, token = put_token(triple.container)
    assert code == 0 and status == "200" and token
