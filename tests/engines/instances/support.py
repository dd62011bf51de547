"""Test networks for instances (a namespace for the instance, joined by a veth pair to a
client namespace, never to the host), SSH from the client namespace, and an engine."""

from __future__ import annotations

import itertools
import os
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

_numbers = itertools.count(10)


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass
class VethNet:
    """cl-t<id>-i (the instance's, eth0 = 10.201.N.10) and cl-t<id>-c (10.201.N.1)."""
    tag: str
    address: str
    client_address: str

    @property
    def instance_ns(self) -> str:
        return f"cltest-{self.tag}-i"

    @property
    def client_ns(self) -> str:
        return f"cltest-{self.tag}-c"

    @property
    def netns(self) -> str:
        return f"/run/netns/{self.instance_ns}"

    @classmethod
    def create(cls) -> VethNet:
        tag = uuid.uuid4().hex[:6]
        n = (os.getpid() * 7 + next(_numbers)) % 250 + 1
        net = cls(tag, f"10.201.{n}.10", f"10.201.{n}.1")
        _ip("netns", "add", net.instance_ns)
        _ip("netns", "add", net.client_ns)
        _ip("link", "add", f"clt{tag}i", "type", "veth", "peer", "name", f"clt{tag}c")
        _ip("link", "set", f"clt{tag}i", "netns", net.instance_ns)
        _ip("link", "set", f"clt{tag}c", "netns", net.client_ns)
        _ip("-n", net.instance_ns, "link", "set", f"clt{tag}i", "name", "eth0")
        _ip("-n", net.instance_ns, "addr", "add", f"{net.address}/24", "dev", "eth0")
        _ip("-n", net.instance_ns, "link", "set", "eth0", "up")
        _ip("-n", net.client_ns, "addr", "add", f"{net.client_address}/24", "dev", f"clt{tag}c")
        _ip("-n", net.client_ns, "link", "set", f"clt{tag}c", "up")
        _ip("-n", net.client_ns, "link", "set", "lo", "up")
        return net

    def remove(self) -> None:
        for ns in (self.instance_ns, self.client_ns):
            subprocess.run(["ip", "netns", "delete", ns], capture_output=True)


def make_key(directory: Path) -> Path:
    key = directory / "id_ed25519"
    if not key.exists():
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    return key


def ssh(net: VethNet, key: Path, command: str, user: str = "ec2-user", timeout: float = 60):
    """Run command over SSH from the client namespace; CompletedProcess (text)."""
    cmd = ["ip", "netns", "exec", net.client_ns, "ssh", "-i", str(key), "-o", "BatchMode=yes",
           "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
           "-o", "LogLevel=ERROR", "-o", "ConnectTimeout=10", f"{user}@{net.address}", command]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def root(net: VethNet, key: Path, command: str, timeout: float = 60):
    """command as root inside (sudo sh -c)."""
    quoted = command.replace("'", "'\"'\"'")
    return ssh(net, key, f"sudo sh -c '{quoted}'", timeout=timeout)


def wait_for(predicate, timeout: float = 30, step: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def cloud_init_done(net: VethNet, key: Path, timeout: float = 60) -> None:
    """Wait for this boot's cloud-init final stage (sshd answers before it, as on AWS)."""
    done = ssh(net, key, "i=0; while [ ! -e /run/cloud-init/result.json ] && [ $i -lt 1200 ]; "
                         "do sleep 0.05; i=$((i+1)); done; test -e /run/cloud-init/result.json",
               timeout=timeout)
    assert done.returncode == 0, done.stderr
