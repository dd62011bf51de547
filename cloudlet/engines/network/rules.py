"""The fabric's nftables rulesets, as nft batch text. Pure: no I/O, testable anywhere.

The router's table (`inet <prefix>_vpc`), evaluated for every forwarded packet in four base
chains of the `forward` hook. An `accept` ends only its own base chain, so a packet must pass
all four; a `drop` anywhere is final:

    acl_out   (priority -20)  iifname vmap @acl_out   -> s_<subnet>_out: leaving the subnet?
                                                          then a_<acl>_out, first match wins
    acl_in    (priority -10)  oifname vmap @acl_in    -> s_<subnet>_in, a_<acl>_in
    egress    (priority 0)    ct established/related accept, invalid drop,
                              iifname vmap @eni_egress  -> e_<eni>: source check, then each
                                                          group's g_<sg>_eg; else drop
    ingress   (priority 10)   ct established/related accept,
                              oifname vmap @eni_ingress -> i_<eni>: destination check, then
                                                          each g_<sg>_in; else drop;
                              from an interface to a gateway: accept; anything else: drop

Network ACLs are stateless (no conntrack in their chains); security groups are stateful.
A security group's rules live once in its own chains, and `m_<sg>` holds its members'
addresses for rules that name the group, so changing a rule rewrites one chain whatever the
number of interfaces. The router's own `input` admits only its service addresses (the
resolver and the metadata service), so security groups do not apply to them, as on AWS.
"""

from __future__ import annotations

import ipaddress
import re

from .model import AclEntry, InvalidSpec, Rule, network_of, protocol_number

_NOT_IDENT = re.compile(r"[^A-Za-z0-9_]")


def ident(value: str) -> str:
    """An id as an nft identifier (`sg-0a1b` -> `sg_0a1b`)."""
    return _NOT_IDENT.sub("_", value)


def protocol_match(protocol: str, ports: tuple[int, int] | None,
                   icmp: tuple[int, int] | None) -> str:
    number = protocol_number(protocol)
    if number is None:
        return ""
    if number in (6, 17):
        name = "tcp" if number == 6 else "udp"
        if ports is None or (ports[0] <= 0 and ports[1] >= 65535) or ports[0] < 0:
            return f"meta l4proto {name}"
        low, high = ports
        if not 0 <= low <= high <= 65535:
            raise InvalidSpec(f"bad port range {low}-{high}")
        span = str(low) if low == high else f"{low}-{high}"
        return f"meta l4proto {name} th dport {span}"
    if number in (1, 58):
        name, field = ("icmp", "icmp") if number == 1 else ("ipv6-icmp", "icmpv6")
        match = f"meta l4proto {name}"
        if icmp is not None:
            kind, code = icmp
            if kind is not None and kind >= 0:
                match += f" {field} type {kind}"
                if code is not None and code >= 0:
                    match += f" {field} code {code}"
        return match
    return f"meta l4proto {number}"


def _address_matches(side: str, cidrs: tuple[str, ...]) -> list[str]:
    """One match per family: `ip saddr { ... }`, `ip6 saddr { ... }` (everything: nfproto)."""
    v4 = [network_of(c) for c in cidrs if network_of(c).version == 4]
    v6 = [network_of(c) for c in cidrs if network_of(c).version == 6]
    matches = []
    for family, nets, proto in (("ip", v4, "ipv4"), ("ip6", v6, "ipv6")):
        if not nets:
            continue
        if any(net.prefixlen == 0 for net in nets):
            matches.append(f"meta nfproto {proto}")
        else:
            matches.append(f"{family} {side} {{ {', '.join(str(n) for n in nets)} }}")
    return matches


def sg_rule_lines(rule: Rule, ingress: bool) -> list[str]:
    side = "saddr" if ingress else "daddr"
    proto = protocol_match(rule.protocol, rule.ports, rule.icmp)
    peers = _address_matches(side, rule.cidrs)
    peers += [f"ip {side} @m_{ident(group)}" for group in rule.groups]
    return [" ".join(part for part in (peer, proto, "accept") if part) for peer in peers]


def acl_line(entry: AclEntry) -> str:
    side = "daddr" if entry.egress else "saddr"
    peer = _address_matches(side, (entry.cidr,))[0]
    proto = protocol_match(entry.protocol, entry.ports, entry.icmp)
    verdict = "accept" if entry.allow else "drop"
    return " ".join(part for part in (peer, proto, verdict) if part)


def chain(family_table: str, name: str, lines: list[str]) -> list[str]:
    """Create-or-replace a regular chain with `lines`, in one transaction."""
    return [f"add chain {family_table} {name}", f"flush chain {family_table} {name}"] + [
        f"add rule {family_table} {name} {line}" for line in lines]


def security_group_lines(ingress: tuple[Rule, ...], egress: tuple[Rule, ...]
                         ) -> dict[str, list[str]]:
    """The rules of a group's two chains, by chain suffix, without duplicates."""
    return {"in": list(dict.fromkeys(line for rule in ingress for line in sg_rule_lines(rule, True))),
            "eg": list(dict.fromkeys(line for rule in egress for line in sg_rule_lines(rule, False)))}


def member_set(table: str, group_id: str) -> str:
    return f"add set inet {table} m_{ident(group_id)} {{ type ipv4_addr; }}"


def acl(table: str, acl_id: str, entries: tuple[AclEntry, ...]) -> list[str]:
    ft = f"inet {table}"
    ordered = sorted(entries, key=lambda e: e.number)
    batch: list[str] = []
    for egress, suffix in ((True, "out"), (False, "in")):
        lines = [acl_line(e) for e in ordered if e.egress == egress] + ["drop"]
        batch += chain(ft, f"a_{ident(acl_id)}_{suffix}", lines)
    return batch


def subnet(table: str, subnet_id: str, cidr: str, acl_id: str | None) -> list[str]:
    """s_<subnet>_out/_in: traffic that stays in the subnet skips its ACL."""
    ft = f"inet {table}"
    family = "ip6" if network_of(cidr).version == 6 else "ip"
    batch: list[str] = []
    for suffix, side in (("out", "daddr"), ("in", "saddr")):
        lines = [f"{family} {side} {cidr} accept"]
        lines.append(f"jump a_{ident(acl_id)}_{suffix}" if acl_id else "accept")
        batch += chain(ft, f"s_{ident(subnet_id)}_{suffix}", lines)
    return batch


def interface(table: str, eni_id: str, addresses: tuple[str, ...], groups: tuple[str, ...],
              source_dest_check: bool, filtered: bool = True, log_group: int | None = None
              ) -> list[str]:
    """e_<eni> (what it sends) and i_<eni> (what it receives)."""
    ft = f"inet {table}"
    own = "{ " + ", ".join(str(ipaddress.ip_address(a)) for a in addresses) + " }"
    batch: list[str] = []
    for name, side, suffix in (("e", "saddr", "eg"), ("i", "daddr", "in")):  # sends, receives
        lines = ["meta nfproto ipv6 drop"]
        if source_dest_check:
            lines.append(f"ip {side} != {own} drop")
        if filtered:
            lines += [f"jump g_{ident(g)}_{suffix}" for g in groups]
            if log_group is not None:  # flow logs: what its groups refuse (REJECT)
                lines.append(f'log group {log_group} prefix "R {name}"')
            lines.append("drop")
        else:
            lines.append("accept")
        batch += chain(ft, f"{name}_{ident(eni_id)}", lines)
    return batch


def router(table: str, services: tuple[str, ...]) -> list[str]:
    ft = f"inet {table}"
    batch = [f"add table {ft}"]
    for name in ("acl_out", "acl_in", "eni_egress", "eni_ingress"):
        batch.append(f"add map {ft} {name} {{ type ifname : verdict; }}")
    batch.append(f"add set {ft} enis {{ type ifname; }}")
    batch.append(f"add set {ft} services {{ type ipv4_addr; }}")
    base = "type filter hook {hook} priority {prio}; policy {policy};"
    for name, hook, prio, policy, lines in (
        ("acl_out", "forward", -20, "accept", ["iifname vmap @acl_out"]),
        ("acl_in", "forward", -10, "accept", ["oifname vmap @acl_in"]),
        ("egress", "forward", 0, "accept", ["ct state established,related accept",
                                            "ct state invalid drop",
                                            "iifname vmap @eni_egress"]),
        ("ingress", "forward", 10, "drop", ["ct state established,related accept",
                                            "oifname vmap @eni_ingress",
                                            "iifname @enis accept"]),
        ("input", "input", 0, "drop", ["ct state established,related accept",
                                       "iifname lo accept",
                                       "ip daddr @services accept"]),
    ):
        batch.append(f"add chain {ft} {name} {{ {base.format(hook=hook, prio=prio, policy=policy)} }}")
        batch += [f"add rule {ft} {name} {line}" for line in lines]
    if services:
        batch.append(f"add element {ft} services {{ {', '.join(services)} }}")
    return batch


def interface_elements(table: str, op: str, link: str, eni_id: str, subnet_id: str) -> list[str]:
    """The four map entries and the set entry that tie a router-side link to its chains."""
    ft = f"inet {table}"
    e, s = ident(eni_id), ident(subnet_id)
    if op == "add":
        return [f'add element {ft} acl_out {{ "{link}" : jump s_{s}_out }}',
                f'add element {ft} acl_in {{ "{link}" : jump s_{s}_in }}',
                f'add element {ft} eni_egress {{ "{link}" : jump e_{e} }}',
                f'add element {ft} eni_ingress {{ "{link}" : jump i_{e} }}',
                f'add element {ft} enis {{ "{link}" }}']
    return [f'delete element {ft} {name} {{ "{link}" }}'
            for name in ("acl_out", "acl_in", "eni_egress", "eni_ingress", "enis")]


def gateway(table: str, link: str, services: tuple[str, ...], mapped: bool) -> list[str]:
    """An internet gateway's or endpoint's table (`ip` family): only its own addresses answer.

    Packets from the router to anything but a local address are counted (`outside`) and
    dropped before routing; the namespace forwards nothing. With `mapped` (the internet
    gateway), only private addresses that have a public one may reach the services, and
    they arrive from their public address (1:1 NAT); connections from the gateway itself
    (the relay's) may go only to such addresses. An endpoint starts no connection."""
    ft = f"ip {table}"
    batch = [f"add table {ft}", f"add set {ft} services {{ type ipv4_addr; }}",
             f"add counter {ft} outside",
             f"add chain {ft} pre {{ type filter hook prerouting priority -300; policy accept; }}",
             f'add rule {ft} pre iifname "{link}" fib daddr type != local counter name outside drop',
             f"add chain {ft} forward {{ type filter hook forward priority 0; policy drop; }}",
             f"add chain {ft} input {{ type filter hook input priority 0; policy drop; }}",
             f"add rule {ft} input ct state established,related accept",
             f"add rule {ft} input iifname lo accept",
             f"add chain {ft} output {{ type filter hook output priority 0; policy accept; }}"]
    if mapped:
        batch += [f"add set {ft} mapped {{ type ipv4_addr; }}",
                  f"add map {ft} public {{ type ipv4_addr : ipv4_addr; }}",
                  f'add rule {ft} input iifname "{link}" ip saddr @mapped ip daddr @services accept',
                  f'add rule {ft} output oifname "{link}" ct state new ip daddr != @mapped drop',
                  f"add chain {ft} snat_in {{ type nat hook input priority 100; }}",
                  f'add rule {ft} snat_in iifname "{link}" snat ip to ip saddr map @public']
    else:
        batch += [f'add rule {ft} input iifname "{link}" ip daddr @services accept',
                  f'add rule {ft} output oifname "{link}" ct state new drop']
    if services:
        batch.append(f"add element {ft} services {{ {', '.join(services)} }}")
    return batch


def nat_gateway(table: str, device: str, cidrs: tuple[str, ...]) -> list[str]:
    """A NAT gateway's table: out from the network is masqueraded, nothing comes in."""
    ft = f"ip {table}"
    v4 = ", ".join(str(network_of(c)) for c in cidrs if network_of(c).version == 4)
    return [f"add table {ft}", f"add set {ft} vpc {{ type ipv4_addr; flags interval; }}",
            f"flush set {ft} vpc", f"add element {ft} vpc {{ {v4} }}",
            f"add chain {ft} forward {{ type filter hook forward priority 0; policy drop; }}",
            f"flush chain {ft} forward",
            f"add rule {ft} forward ct state established,related accept",
            f'add rule {ft} forward iifname "{device}" ct state new ip saddr @vpc ip daddr != @vpc '
            "accept",
            f"add chain {ft} input {{ type filter hook input priority 0; policy drop; }}",
            f"flush chain {ft} input",
            f"add rule {ft} input ct state established,related accept",
            f"add rule {ft} input iifname lo accept",
            f"add chain {ft} post {{ type nat hook postrouting priority 100; }}",
            f"flush chain {ft} post",
            f'add rule {ft} post oifname "{device}" ip saddr @vpc ip daddr != @vpc masquerade']


def public_redirect(table: str, public_range: str, port: int) -> list[str]:
    """The host's own table: connects to a public address go to the relay on 127.0.0.1."""
    ft = f"ip {table}"
    return [f"add table {ft}", f"flush table {ft}",
            f"add chain {ft} output {{ type nat hook output priority -100; }}",
            f"add rule {ft} output ip daddr {network_of(public_range)} meta l4proto tcp "
            f"redirect to :{port}"]
