"""The nft text the fabric renders (pure: runs anywhere, root or not)."""

import pytest

from cloudlet.engines.network import AclEntry, Fabric, FabricUnavailable, InvalidSpec, Rule, rules


@pytest.mark.parametrize(("protocol", "ports", "icmp", "match"), [
    ("all", None, None, ""),
    ("-1", (0, 65535), None, ""),
    ("tcp", (22, 22), None, "meta l4proto tcp th dport 22"),
    ("udp", (1024, 65535), None, "meta l4proto udp th dport 1024-65535"),
    ("tcp", (0, 65535), None, "meta l4proto tcp"),
    ("icmp", None, (8, -1), "meta l4proto icmp icmp type 8"),
    ("icmp", None, (3, 4), "meta l4proto icmp icmp type 3 icmp code 4"),
    ("icmp", None, (-1, -1), "meta l4proto icmp"),
    ("icmpv6", None, (128, -1), "meta l4proto ipv6-icmp icmpv6 type 128"),
    ("50", None, None, "meta l4proto 50"),
])
def test_protocol_matches(protocol, ports, icmp, match):
    assert rules.protocol_match(protocol, ports, icmp) == match


@pytest.mark.parametrize("protocol", ["sctpx", "256", "-2"])
def test_unknown_protocols_are_refused(protocol):
    with pytest.raises(InvalidSpec):
        rules.protocol_match(protocol, None, None)


def test_rule_sources_one_line_per_family_and_group():
    rule = Rule("tcp", (443, 443), cidrs=("10.0.0.0/16", "2001:db8::/32", "192.168.1.0/24"),
                groups=("sg-alb",))
    assert rules.sg_rule_lines(rule, ingress=True) == [
        "ip saddr { 10.0.0.0/16, 192.168.1.0/24 } meta l4proto tcp th dport 443 accept",
        "ip6 saddr { 2001:db8::/32 } meta l4proto tcp th dport 443 accept",
        "ip saddr @m_sg_alb meta l4proto tcp th dport 443 accept"]
    assert rules.sg_rule_lines(Rule(cidrs=("0.0.0.0/0",)), ingress=False) == [
        "meta nfproto ipv4 accept"]


def test_acl_chains_are_rebuilt_whole_in_rule_number_order():
    entries = (AclEntry(200, False, True, "0.0.0.0/0"),
               AclEntry(100, False, False, "10.9.0.0/16", "tcp", (22, 22)),
               AclEntry(100, True, True, "0.0.0.0/0", "udp", (1024, 65535)))
    batch = rules.acl("cl_vpc", "acl-1", entries)
    inbound = [line for line in batch if line.split()[4] == "a_acl_1_in"]
    assert inbound == [
        "add chain inet cl_vpc a_acl_1_in", "flush chain inet cl_vpc a_acl_1_in",
        "add rule inet cl_vpc a_acl_1_in ip saddr { 10.9.0.0/16 } meta l4proto tcp th dport 22 drop",
        "add rule inet cl_vpc a_acl_1_in meta nfproto ipv4 accept",
        "add rule inet cl_vpc a_acl_1_in drop"]


def test_interface_chains_check_addresses_then_jump_to_each_group():
    batch = rules.interface("cl_vpc", "eni-1", ("10.0.1.5",), ("sg-a", "sg-b"), True)
    egress = [line.split("e_eni_1 ", 1)[1] for line in batch if line.startswith("add rule")
              and " e_eni_1 " in line]
    assert egress == ["meta nfproto ipv6 drop", "ip saddr != { 10.0.1.5 } drop",
                      "jump g_sg_a_eg", "jump g_sg_b_eg", "drop"]


def test_bad_records_are_refused_before_anything_is_built():
    fabric = Fabric(prefix="tz")
    fabric._status = (True, "")
    with pytest.raises(InvalidSpec):
        fabric.put_network("bad id!", ["10.0.0.0/16"])
    with pytest.raises(InvalidSpec):
        Fabric(prefix="toolongprefix")
    with pytest.raises(InvalidSpec):
        Fabric(public_range="10.0.0.0/8")  # public addresses must never leave the machine
    fabric.teardown()


def test_without_enforcement_every_change_refuses_with_the_reason():
    fabric = Fabric(prefix="tz")
    fabric._status = (False, "not running as root")
    assert fabric.status() == (False, "not running as root")
    with pytest.raises(FabricUnavailable, match="not running as root"):
        fabric.put_network("vpc-1", ["10.0.0.0/16"])
    fabric.teardown()
