"""Routes decide where packets may go: subnets, interfaces as targets, blackholes, the
internet gateway, and nothing beyond what Cloudlet serves."""

import pytest
from fabric_support import connect
from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from cloudlet.engines.network import (
    FabricError,
    Interface,
    InternetGateway,
    InvalidSpec,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
)

NET = "vpc-rt"
SERVICE = "198.18.0.10"
OPEN = SecurityGroup("sg-open", ingress=(Rule(cidrs=("0.0.0.0/0",)),),
                     egress=(Rule(cidrs=("0.0.0.0/0",)),))


def network(fabric, public_address=None):
    fabric.put_network(NET, ["10.0.0.0/16"])
    fabric.put_security_group(NET, OPEN)
    fabric.put_subnet(NET, Subnet("sub-pub", "10.0.1.0/24",
                                  routes=(Route("0.0.0.0/0", "internet-gateway"),)))
    fabric.put_subnet(NET, Subnet("sub-priv", "10.0.2.0/24"))
    fabric.put_internet_gateway(NET, InternetGateway("igw-1", services=(SERVICE,)))
    fabric.put_interface(NET, Interface("eni-pub", "sub-pub", "pub", ("10.0.1.10",),
                                        groups=("sg-open",), public_address=public_address))
    fabric.put_interface(NET, Interface("eni-priv", "sub-priv", "priv", ("10.0.2.10",),
                                        groups=("sg-open",)))
    return fabric.host_namespace_name("pub"), fabric.host_namespace_name("priv")


def test_subnets_reach_each_other_through_the_local_route(fabric, listen):
    pub, priv = network(fabric)
    listen(priv, "10.0.2.10", 22)
    listen(pub, "10.0.1.10", 22)
    assert connect(fabric, pub, "10.0.2.10", 22) == "open"
    assert connect(fabric, priv, "10.0.1.10", 22) == "open"
    assert connect(fabric, pub, "10.0.9.9", 22) != "open"  # in the VPC, nobody there


def test_the_service_address_needs_a_route_and_a_public_address(fabric, listen):
    public = str(next(iter(__import__("ipaddress").ip_network(fabric.public_range).hosts())))
    pub, priv = network(fabric, public_address=public)
    service = listen(fabric.gateway_namespace(NET), SERVICE, 443)
    assert connect(fabric, pub, SERVICE, 443) == "open"
    assert service.last_peer() == public  # the gateway's 1:1 NAT: from its public address
    assert connect(fabric, priv, SERVICE, 443) == "timeout"  # a private subnet: no route
    fabric.put_interface(NET, Interface("eni-pub", "sub-pub", "pub", ("10.0.1.10",),
                                        groups=("sg-open",)))
    assert connect(fabric, pub, SERVICE, 443) == "timeout"  # no public address: no internet


def test_a_packet_to_outside_the_machine_is_dropped_inside(fabric):
    public = str(next(iter(__import__("ipaddress").ip_network(fabric.public_range).hosts())))
    pub, _ = network(fabric, public_address=public)
    before = fabric.dropped_outside(NET)
    assert connect(fabric, pub, "192.0.2.1", 80) == "timeout"
    assert fabric.dropped_outside(NET) > before  # counted and dropped at the gateway


def test_routes_to_an_interface_and_its_destination_check(fabric, listen):
    pub, priv = network(fabric)
    fabric.put_subnet(NET, Subnet("sub-priv", "10.0.2.0/24", routes=(
        Route("192.168.50.0/24", "interface", "eni-pub"),)))
    with fabric.inside(pub), IPRoute() as ipr:
        ipr.addr("add", index=ipr.link_lookup(ifname="lo")[0], address="192.168.50.5",
                 prefixlen=32)
    listen(pub, "192.168.50.5", 80)
    assert connect(fabric, priv, "192.168.50.5", 80) == "timeout"  # destination check on
    fabric.put_interface(NET, Interface("eni-pub", "sub-pub", "pub", ("10.0.1.10",),
                                        groups=("sg-open",), source_dest_check=False))
    assert connect(fabric, priv, "192.168.50.5", 80) == "open"
    fabric.put_subnet(NET, Subnet("sub-priv", "10.0.2.0/24", routes=(
        Route("192.168.50.0/24", "blackhole"),)))
    assert connect(fabric, priv, "192.168.50.5", 80) == "timeout"


def test_a_route_to_a_missing_target_is_a_blackhole(fabric, listen):
    pub, priv = network(fabric)
    fabric.put_subnet(NET, Subnet("sub-priv", "10.0.2.0/24", routes=(
        Route("0.0.0.0/0", "nat-gateway", "nat-missing"),)))
    assert connect(fabric, priv, SERVICE, 443) == "timeout"


def test_objects_in_use_are_refused(fabric):
    network(fabric)
    with pytest.raises(FabricError):
        fabric.remove_subnet(NET, "sub-pub")
    with pytest.raises(FabricError):
        fabric.remove_security_group(NET, "sg-open")


def test_detaching_the_internet_gateway_blackholes_its_routes(fabric, listen):
    public = str(next(iter(__import__("ipaddress").ip_network(fabric.public_range).hosts())))
    pub, _ = network(fabric, public_address=public)
    listen(fabric.gateway_namespace(NET), SERVICE, 443)
    fabric.remove_internet_gateway(NET)
    assert connect(fabric, pub, SERVICE, 443) == "timeout"
    fabric.put_internet_gateway(NET, InternetGateway("igw-2", services=(SERVICE,)))
    listen(fabric.gateway_namespace(NET), SERVICE, 443)  # a new namespace: listen again
    assert connect(fabric, pub, SERVICE, 443) == "open"


def router_links(fabric):
    with fabric.inside(fabric.router_namespace(NET)), IPRoute() as ipr:
        return sorted(link.get("ifname") for link in ipr.get_links())


def test_bad_interfaces_are_refused_and_leave_nothing_behind(fabric, listen):
    pub, priv = network(fabric)
    with pytest.raises(InvalidSpec):  # the address of another interface
        fabric.put_interface(NET, Interface("eni-dup", "sub-priv", "dup", ("10.0.2.10",)))
    with pytest.raises(InvalidSpec):  # outside its subnet
        fabric.put_interface(NET, Interface("eni-out", "sub-priv", "out", ("10.0.1.99",)))
    with pytest.raises(InvalidSpec):
        fabric.put_interface(NET, Interface("eni-mac", "sub-priv", "mac", ("10.0.2.21",),
                                            mac="not-a-mac"))
    with fabric.inside(fabric.host_namespace("bad")), IPRoute() as ipr:
        ipr.link("add", ifname="eth0", kind="veth", peer="eth9")  # the next eth0 is refused
    before = router_links(fabric)
    with pytest.raises(NetlinkError):
        fabric.put_interface(NET, Interface("eni-bad", "sub-priv", "bad", ("10.0.2.20",),
                                            groups=("sg-open",)))
    assert router_links(fabric) == before
    with fabric.inside(fabric.host_namespace("bad")), IPRoute() as ipr:
        ipr.link("del", index=ipr.link_lookup(ifname="eth0")[0])
    fabric.put_interface(NET, Interface("eni-bad", "sub-priv", "bad", ("10.0.2.20",),
                                        groups=("sg-open",)))
    listen(fabric.host_namespace_name("bad"), "10.0.2.20", 22)
    assert connect(fabric, pub, "10.0.2.20", 22) == "open"


def test_a_secondary_cidr_is_local_to_every_subnet(fabric, listen):
    pub, _ = network(fabric)
    fabric.put_network(NET, ["10.0.0.0/16", "100.64.0.0/16"])
    fabric.put_subnet(NET, Subnet("sub-second", "100.64.1.0/24"))
    fabric.put_interface(NET, Interface("eni-second", "sub-second", "second", ("100.64.1.10",),
                                        groups=("sg-open",)))
    listen(fabric.host_namespace_name("second"), "100.64.1.10", 22)
    assert connect(fabric, pub, "100.64.1.10", 22) == "open"
    with pytest.raises(InvalidSpec):
        fabric.put_subnet(NET, Subnet("sub-outside", "192.168.0.0/24"))
