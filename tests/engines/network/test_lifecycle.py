"""Start and stop: teardown leaves nothing; after a kill -9, reconcile finds the leftovers
and removes them, or rebuilds them, keeping the namespaces of hosts still wanted."""

import os
import signal
import subprocess
import sys
import textwrap

from fabric_support import Listener, connect, new_fabric

from cloudlet.engines.network import (
    Fabric,
    Interface,
    InternetGateway,
    Network,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
    netns,
)
from cloudlet.engines.network.nft import Nft, NftError

SUPPORT = os.path.join(os.path.dirname(__file__), "..", "..", "support")
OPEN = SecurityGroup("sg-open", ingress=(Rule(cidrs=("0.0.0.0/0",)),),
                     egress=(Rule(cidrs=("0.0.0.0/0",)),))


def desired(public_range):
    public = public_range.rsplit(".", 1)[0] + ".7"
    return Network(
        "vpc-life", ("10.0.0.0/16",),
        subnets=(Subnet("sub-a", "10.0.1.0/24", routes=(Route("0.0.0.0/0", "internet-gateway"),)),),
        security_groups=(OPEN,),
        interfaces=(Interface("eni-a", "sub-a", "a", ("10.0.1.10",), groups=("sg-open",),
                              public_address=public),
                    Interface("eni-b", "sub-a", "b", ("10.0.1.11",), groups=("sg-open",))),
        internet_gateway=InternetGateway("igw-1", services=("198.18.0.10",)))


def host_table_exists(prefix):
    try:
        Nft().list(f"list table ip {prefix}_public")
        return True
    except NftError:
        return False


def crashed_fabric():
    """A child process builds a fabric and is killed with SIGKILL; its prefix and range."""
    probe = new_fabric()
    prefix, public_range = probe.prefix, probe.public_range
    script = textwrap.dedent(f"""
        import sys, time
        sys.path[:0] = [{os.path.dirname(__file__)!r}, {SUPPORT!r}]
        from test_lifecycle import desired
        from cloudlet.engines.network import Fabric
        fabric = Fabric(prefix={prefix!r}, public_range={public_range!r})
        fabric.reconcile([desired({public_range!r})])
        print("ready", flush=True)
        time.sleep(60)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE,
                             env={**os.environ, "PYTHONPATH": os.getcwd()}, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    return prefix, public_range


def test_teardown_removes_every_namespace_and_table():
    fabric = new_fabric()
    fabric.reconcile([desired(fabric.public_range)])
    assert len(netns.names(f"{fabric.prefix}-")) == 4  # router, gateway, two hosts
    assert host_table_exists(fabric.prefix)
    fabric.teardown()
    assert netns.names(f"{fabric.prefix}-") == []
    assert not host_table_exists(fabric.prefix)


def test_reconcile_after_a_crash_removes_the_leftovers():
    prefix, public_range = crashed_fabric()
    assert len(netns.names(f"{prefix}-")) == 4 and host_table_exists(prefix)
    fabric = Fabric(prefix=prefix, public_range=public_range)
    try:
        report = fabric.reconcile()
        assert len(report["removed"]) == 5
        assert netns.names(f"{prefix}-") == []
        assert not host_table_exists(prefix)
    finally:
        fabric.teardown()


def test_reconcile_after_a_crash_rebuilds_and_keeps_wanted_hosts():
    prefix, public_range = crashed_fabric()
    host_a = netns.path(f"{prefix}-h-a")
    inode = os.stat(host_a).st_ino
    fabric = Fabric(prefix=prefix, public_range=public_range)
    want = desired(public_range)
    try:
        report = fabric.reconcile([want])
        assert sorted(report["kept"]) == [f"{prefix}-h-a", f"{prefix}-h-b"]
        assert os.stat(host_a).st_ino == inode  # the same namespace, processes and all
        listener = Listener(fabric, fabric.host_namespace_name("b"), "10.0.1.11", 80)
        try:
            assert connect(fabric, fabric.host_namespace_name("a"), "10.0.1.11", 80) == "open"
        finally:
            listener.close()
    finally:
        fabric.teardown()
    assert netns.names(f"{prefix}-") == []
