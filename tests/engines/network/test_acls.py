"""Network ACLs: stateless, at subnet boundaries only, in rule-number order."""

from fabric_support import connect

from cloudlet.engines.network import Acl, AclEntry, Interface, Rule, SecurityGroup, Subnet

NET = "vpc-acl"
OPEN = SecurityGroup("sg-open", ingress=(Rule(cidrs=("0.0.0.0/0",)),),
                     egress=(Rule(cidrs=("0.0.0.0/0",)),))
IN_80 = AclEntry(100, egress=False, allow=True, cidr="10.0.2.0/24", protocol="tcp",
                 ports=(80, 80))
OUT_EPHEMERAL = AclEntry(100, egress=True, allow=True, cidr="10.0.2.0/24", protocol="tcp",
                         ports=(1024, 65535))


def network(fabric, entries):
    fabric.put_network(NET, ["10.0.0.0/16"])
    fabric.put_acl(NET, Acl("acl-srv", entries))
    fabric.put_subnet(NET, Subnet("sub-srv", "10.0.1.0/24", acl="acl-srv"))
    fabric.put_subnet(NET, Subnet("sub-cli", "10.0.2.0/24"))
    fabric.put_security_group(NET, OPEN)
    for eni, subnet, host, address in (("eni-srv", "sub-srv", "srv", "10.0.1.10"),
                                       ("eni-near", "sub-srv", "near", "10.0.1.11"),
                                       ("eni-cli", "sub-cli", "cli", "10.0.2.10")):
        fabric.put_interface(NET, Interface(eni, subnet, host, (address,), groups=("sg-open",)))
    return [fabric.host_namespace_name(h) for h in ("srv", "near", "cli")]


def test_replies_need_an_outbound_ephemeral_rule(fabric, listen):
    srv, _, cli = network(fabric, (IN_80,))
    listen(srv, "10.0.1.10", 80)
    # the security group would track the reply; the ACL is stateless and drops it
    assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"
    fabric.put_acl(NET, Acl("acl-srv", (IN_80, OUT_EPHEMERAL)))
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"


def test_lowest_rule_number_wins(fabric, listen):
    deny = AclEntry(50, egress=False, allow=False, cidr="10.0.2.0/24", protocol="tcp",
                    ports=(80, 80))
    srv, _, cli = network(fabric, (IN_80, OUT_EPHEMERAL, deny))
    listen(srv, "10.0.1.10", 80)
    assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"
    later = AclEntry(150, egress=False, allow=False, cidr="10.0.2.0/24", protocol="tcp",
                     ports=(80, 80))
    fabric.put_acl(NET, Acl("acl-srv", (later, IN_80, OUT_EPHEMERAL)))
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"


def test_traffic_inside_a_subnet_does_not_cross_its_acl(fabric, listen):
    srv, near, cli = network(fabric, ())  # a custom ACL with no entries denies everything
    listen(srv, "10.0.1.10", 80)
    assert connect(fabric, near, "10.0.1.10", 80) == "open"
    assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"


def test_reassociating_a_subnet_with_another_acl(fabric, listen):
    srv, _, cli = network(fabric, ())
    listen(srv, "10.0.1.10", 80)
    assert connect(fabric, cli, "10.0.1.10", 80) == "timeout"
    everything = (AclEntry(100, egress=False, allow=True, cidr="0.0.0.0/0"),
                  AclEntry(100, egress=True, allow=True, cidr="0.0.0.0/0"))
    fabric.put_acl(NET, Acl("acl-default", everything))
    fabric.put_subnet(NET, Subnet("sub-srv", "10.0.1.0/24", acl="acl-default"))
    assert connect(fabric, cli, "10.0.1.10", 80) == "open"
