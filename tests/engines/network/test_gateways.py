"""NAT gateways (out, never in), gateway endpoints, and the host's loopback public addresses."""

import ipaddress
import time

from fabric_support import connect, fetch

from cloudlet.engines.network import (
    Endpoint,
    Interface,
    InternetGateway,
    NatGateway,
    Route,
    Rule,
    SecurityGroup,
    Subnet,
)

NET = "vpc-gw"
SERVICE = "198.18.0.10"
S3 = "198.18.1.10"
OPEN_OUT = (Rule(cidrs=("0.0.0.0/0",)),)


def addresses(fabric, count):
    hosts = ipaddress.ip_network(fabric.public_range).hosts()
    return [str(next(hosts)) for _ in range(count)]


def network(fabric):
    nat_public, web_public = addresses(fabric, 2)
    fabric.put_network(NET, ["10.0.0.0/16"])
    fabric.put_security_group(NET, SecurityGroup(
        "sg-web", ingress=(Rule("tcp", (22, 23), cidrs=("0.0.0.0/0",)),), egress=OPEN_OUT))
    fabric.put_security_group(NET, SecurityGroup(
        "sg-app", ingress=(Rule(cidrs=("0.0.0.0/0",)),), egress=OPEN_OUT))
    fabric.put_subnet(NET, Subnet("sub-pub", "10.0.1.0/24",
                                  routes=(Route("0.0.0.0/0", "internet-gateway"),)))
    fabric.put_subnet(NET, Subnet("sub-priv", "10.0.2.0/24",
                                  routes=(Route("0.0.0.0/0", "nat-gateway", "nat-1"),)))
    fabric.put_subnet(NET, Subnet("sub-iso", "10.0.3.0/24",
                                  routes=(Route("", "endpoint", "vpce-s3"),)))
    fabric.put_internet_gateway(NET, InternetGateway("igw-1", services=(SERVICE, S3)))
    fabric.put_nat_gateway(NET, NatGateway("nat-1", "sub-pub", "10.0.1.5", nat_public))
    fabric.put_endpoint(NET, Endpoint("vpce-s3", cidrs=("198.18.1.0/24",), services=(S3,)))
    fabric.put_interface(NET, Interface("eni-web", "sub-pub", "web", ("10.0.1.10",),
                                        groups=("sg-web",), public_address=web_public))
    fabric.put_interface(NET, Interface("eni-app", "sub-priv", "app", ("10.0.2.10",),
                                        groups=("sg-app",)))
    fabric.put_interface(NET, Interface("eni-iso", "sub-iso", "iso", ("10.0.3.10",),
                                        groups=("sg-app",)))
    return nat_public, web_public


def test_nat_gateway_lets_traffic_out(fabric, listen):
    nat_public, _ = network(fabric)
    service = listen(fabric.gateway_namespace(NET), SERVICE, 443)
    assert connect(fabric, fabric.host_namespace_name("app"), SERVICE, 443) == "open"
    assert service.last_peer() == nat_public  # masqueraded, then the NAT's Elastic IP
    assert connect(fabric, fabric.host_namespace_name("iso"), SERVICE, 443) == "timeout"


def test_nat_gateway_lets_nothing_in(fabric, listen):
    nat_public, _ = network(fabric)
    listen(fabric.host_namespace_name("nat-1"), "10.0.1.5", 22)
    listen(fabric.host_namespace_name("app"), "10.0.2.10", 22)
    assert fetch(None, None, nat_public, 22, timeout=1.5) == "timeout"
    gateway = fabric.gateway_namespace(NET)
    assert connect(fabric, gateway, "10.0.2.10", 22) == "timeout"  # no public address
    assert connect(fabric, fabric.host_namespace_name("web"), "10.0.2.10", 22) == "open"


def test_gateway_endpoint_route_reaches_its_service(fabric, listen):
    network(fabric)
    endpoint = listen(fabric.endpoint_namespace(NET, "vpce-s3"), S3, 443, reply=b"s3")
    iso = fabric.host_namespace_name("iso")
    assert fetch(fabric, iso, S3, 443) == b"s3"
    assert endpoint.last_peer() == "10.0.3.10"  # endpoints see the private address
    assert connect(fabric, iso, SERVICE, 443) == "timeout"  # only the prefix list is routed
    fabric.put_subnet(NET, Subnet("sub-iso", "10.0.3.0/24"))  # the route goes: isolated
    assert connect(fabric, iso, S3, 443) == "timeout"


def test_public_address_from_the_host_enters_through_the_gateway(fabric, listen):
    _, web_public = network(fabric)
    web = fabric.host_namespace_name("web")
    ssh = listen(web, "10.0.1.10", 22, reply=b"SSH-2.0-test")
    listen(web, "10.0.1.10", 8080, reply=b"denied")
    assert fetch(None, None, web_public, 22) == b"SSH-2.0-test"
    assert ssh.last_peer() == fabric.client_address
    started = time.monotonic()
    assert fetch(None, None, web_public, 8080, timeout=1.5) == "timeout"  # the SG says no
    assert time.monotonic() - started >= 1.4
    assert fetch(None, None, web_public, 23) == "reset"  # allowed, nobody listens: refused
    unassigned = addresses(fabric, 5)[-1]
    assert fetch(None, None, unassigned, 22, timeout=1.5) == "timeout"


def test_public_address_in_a_private_subnet_is_unreachable(fabric, listen):
    network(fabric)
    extra = addresses(fabric, 3)[-1]
    fabric.put_interface(NET, Interface("eni-app", "sub-priv", "app", ("10.0.2.10",),
                                        groups=("sg-app",), public_address=extra))
    listen(fabric.host_namespace_name("app"), "10.0.2.10", 22)
    # the SYN arrives, but the reply's route leads to the NAT gateway, not the internet gateway
    assert fetch(None, None, extra, 22, timeout=1.5) == "timeout"
