"""The port from EC2's records to the VPC fabric (`cloudlet/engines/network/`).

Every operation that changes what packets may do calls one method here, after its
validation and inside its transaction, with the records as they will be committed:

    with self.records.write(account, region) as view:
        ... validate, view.put(...)
        self.fabric.subnet_changed(view, subnet)      # raises -> the transaction rolls back

The fabric is told the VPC's new state and changes only what differs from what it last
built (`FabricState`): a security group's chains, one interface, a subnet's routes. When
the fabric refuses a change the transaction rolls back, and the VPC is built again from
what the store then holds, so nothing half-applied stays in either.

    method                        called by
    vpc_created / vpc_deleted     CreateVpc, CreateDefaultVpc (and the default VPC made on
                                  first use) / DeleteVpc
    vpc_changed                   Associate/DisassociateVpcCidrBlock, ModifyVpcAttribute
                                  (DNS support and hostnames), AssociateDhcpOptions
    subnet_changed / _deleted     CreateSubnet, CreateDefaultSubnet, ModifySubnetAttribute /
                                  DeleteSubnet
    route_table_changed / _deleted  CreateRouteTable, Create/Replace/DeleteRoute,
                                  Associate/Disassociate/ReplaceRouteTableAssociation,
                                  a gateway endpoint's routes / DeleteRouteTable
    network_acl_changed / _deleted  CreateNetworkAcl, Create/Replace/DeleteNetworkAclEntry,
                                  ReplaceNetworkAclAssociation (both ACLs) / DeleteNetworkAcl
    security_group_changed / _deleted  CreateSecurityGroup, Authorize/Revoke*, Modify-
                                  SecurityGroupRules (the group with all its rules) /
                                  DeleteSecurityGroup
    interface_changed / _deleted  ENIs: an instance's are plumbed into its namespace
    gateway_changed / _deleted    internet, egress-only and NAT gateways
    address_changed / _released   Elastic IPs
    endpoint_changed / _deleted   VPC endpoints
    flow_logs_changed / _deleted  CreateFlowLogs / DeleteFlowLogs

For the compute half and the VPC's own servers:

    available, reason                  whether packets are enforced here, and why not
    host_namespace(instance_id)        "/run/netns/<name>": where an instance's ENIs are
    remove_host(instance_id)           its namespace and interfaces, gone
    resolver_address(vpc_id)           the VPC's resolver (base + 2)
    add_router_service(start)          start(account, region, vpc_id, make_socket) -> stop,
                                       for every VPC (IMDS, the resolver); make_socket(family,
                                       type) is a socket made in the VPC's router namespace
    interface_counters(eni_id)         (rx_bytes, tx_bytes, rx_packets, tx_packets)

Each Cloudlet has a prefix of its own for what it builds (`cl` and three characters drawn
from its data directory), held by a lock file while it runs, so several Cloudlets on one
machine never take each other's namespaces, and the next start with the same data
directory reclaims what a `kill -9` left. Leftovers whose prefix no running Cloudlet holds
are removed at start.
"""

from __future__ import annotations

import fcntl
import hashlib
import ipaddress
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from cloudlet.engines import network as engine
from cloudlet.engines.network import netns
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.network import translate
from cloudlet.services.ec2.network.prefix_lists import managed_lists
from cloudlet.services.ec2.store import Records, View

log = logging.getLogger("cloudlet.ec2.fabric")

LOCK_DIR = Path("/run/cloudlet")
PREFIX_LOCK = "fabric-{}.lock"
OTHER_PREFIX = re.compile(r"^(cl[0-9a-z]{3})(?:-[rgxh]-|_public$)")

RouterService = Callable[..., Callable[[], None]]


def prefix_for(root: Path) -> str:
    """`cl` and three base-36 characters of the data directory's path."""
    digest = int(hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest(), 16)
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "cl" + "".join(chars[(digest >> (6 * i)) % 36] for i in range(3))


class FabricState:
    """What the engine was last told for one VPC: the specs, by object id."""

    def __init__(self, vpc_id: str, cidrs: tuple[str, ...]):
        self.id, self.cidrs = vpc_id, cidrs
        self.acls: dict[str, engine.Acl] = {}
        self.groups: dict[str, engine.SecurityGroup] = {}
        self.subnets: dict[str, engine.Subnet] = {}
        self.gateway: engine.InternetGateway | None = None
        self.endpoints: dict[str, engine.Endpoint] = {}
        self.nats: dict[str, engine.NatGateway] = {}
        self.interfaces: dict[str, engine.Interface] = {}


class Fabric:
    def __init__(self, root: Path | None = None, public_range: str = "127.100.0.0/16"):
        self.root = root
        self.prefix = prefix_for(root) if root is not None else "cl"
        self.public_range = public_range
        self.engine: engine.Fabric | None = None
        self.available = False  # whether packets are enforced (shown by status and health)
        self.reason = "the VPC fabric has not started"
        self._states: dict[str, FabricState] = {}
        self._places: dict[str, tuple[str, str]] = {}  # vpc -> (account, region)
        self._resolvers: dict[str, str] = {}
        self._lock = threading.RLock()
        self._lock_file = None
        self._services: list[RouterService] = []
        self._running: dict[str, list[Callable[[], None]]] = {}
        self._records: Records | None = None

    # -- life cycle --------------------------------------------------------------------
    def start(self, records: Records) -> None:
        """At Cloudlet's start: take this data directory's prefix, remove what no running
        Cloudlet holds, and build every VPC of the store again."""
        self._records = records
        if self.root is None:
            self.reason = "no data directory"
            return
        self.engine = engine.Fabric(prefix=self.prefix, public_range=self.public_range)
        available, reason = self.engine.status()
        if not available:
            self.available, self.reason = False, f"packets are not enforced: {reason}"
            log.warning("VPC fabric unavailable: %s", reason)
            return
        self._hold_prefix()
        self._remove_orphans()
        networks = []
        for account, region, vpc_id in vpcs(records):
            view = records.read(account, region)
            state = desired_state(view, vpc_id)
            if state:
                self._places[vpc_id] = (account, region)
                self._resolvers[vpc_id] = _resolver(state["vpc"])
                networks.append((translate.network(state), state))
        with self._lock:
            try:
                self.engine.reconcile([n for n, _ in networks])
            except Exception as exc:
                log.exception("the VPCs could not be built again")
                self.engine.teardown()
                self.available, self.reason = False, f"the VPCs could not be built: {exc}"
                return
            for network, _ in networks:
                self._states[network.id] = _state_of(network)
        self.available, self.reason = True, ""
        for network, _ in networks:
            self._start_services(network.id)

    def stop(self) -> None:
        """At Cloudlet's stop: the VPCs' servers stop and the fabric is torn down."""
        for vpc_id in list(self._running):
            self._stop_services(vpc_id)
        if self.available and self.engine is not None:
            with self._lock:
                self.engine.teardown()
                self._states.clear()
        self.available = False
        self.reason = "the VPC fabric has stopped"
        if self._lock_file is not None:
            self._lock_file.close()
            self._lock_file = None

    def _hold_prefix(self) -> None:
        LOCK_DIR.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._lock_file = open(LOCK_DIR / PREFIX_LOCK.format(self.prefix), "a")  # noqa: SIM115
        try:
            fcntl.flock(self._lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._lock_file.close()
            self._lock_file = None
            raise RuntimeError(f"another Cloudlet with this data directory holds the VPC "
                               f"fabric's prefix {self.prefix}") from None

    def _remove_orphans(self) -> None:
        """Namespaces and host tables of other prefixes whose Cloudlet is gone."""
        found = {m.group(1) for name in netns.names("cl")
                 if (m := OTHER_PREFIX.match(name))}
        found |= {m.group(1) for name in self.engine.host_tables()
                  if (m := OTHER_PREFIX.match(name))}
        for prefix in sorted(found - {self.prefix}):
            with open(LOCK_DIR / PREFIX_LOCK.format(prefix), "a") as held:
                try:
                    fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # a running Cloudlet's
                log.info("removing the VPC fabric of a Cloudlet that is gone (%s)", prefix)
                engine.Fabric(prefix=prefix).teardown()
            (LOCK_DIR / PREFIX_LOCK.format(prefix)).unlink(missing_ok=True)

    # -- what instances and the VPC's servers ask ---------------------------------------
    def host_namespace(self, instance_id: str) -> str:
        self._require()
        return self.engine.host_namespace(instance_id)

    def remove_host(self, instance_id: str) -> None:
        if self.available:
            with self._lock:
                self.engine.remove_host(instance_id)
                for state in self._states.values():
                    for eni_id in [i for i, s in state.interfaces.items()
                                   if s.host == instance_id]:
                        del state.interfaces[eni_id]

    def resolver_address(self, vpc_id: str) -> str:
        return self._resolvers[vpc_id]

    def add_router_service(self, start: RouterService) -> None:
        """`start(account, region, vpc_id, make_socket) -> stop` for every VPC, now and as
        they come; `stop()` when a VPC goes or the fabric stops."""
        self._services.append(start)
        for vpc_id in list(self._states):
            self._start_service(vpc_id, start)

    def interface_counters(self, eni_id: str) -> tuple[int, int, int, int]:
        """(rx_bytes, tx_bytes, rx_packets, tx_packets) as the instance sees its ENI."""
        self._require()
        vpc_id = next((v for v, s in self._states.items() if eni_id in s.interfaces), None)
        if vpc_id is None:
            raise KeyError(eni_id)
        return self.engine.interface_counters(vpc_id, eni_id)

    def _require(self) -> None:
        if not self.available:
            raise errors.UnsupportedOperation(
                message=f"Cloudlet cannot do this on this machine: {self.reason}")

    def _start_services(self, vpc_id: str) -> None:
        for start in self._services:
            self._start_service(vpc_id, start)

    def _start_service(self, vpc_id: str, start: RouterService) -> None:
        account, region = self._places[vpc_id]
        router = self.engine.router_namespace(vpc_id)

        def make_socket(family, type):
            return self.engine.socket(router, family, type)

        try:
            self._running.setdefault(vpc_id, []).append(
                start(account, region, vpc_id, make_socket))
        except Exception:
            log.exception("a service of VPC %s did not start", vpc_id)

    def _stop_services(self, vpc_id: str) -> None:
        for stop in self._running.pop(vpc_id, []):
            try:
                stop()
            except Exception:
                log.exception("a service of VPC %s did not stop", vpc_id)

    # -- the port ------------------------------------------------------------------------
    def vpc_created(self, view: View, vpc: dict) -> None:
        self._places[vpc["VpcId"]] = (view.account, view.region)
        self._resolvers[vpc["VpcId"]] = _resolver(vpc)
        self._sync(view, vpc["VpcId"])
        if self.available and vpc["VpcId"] not in self._running:
            view.after_commit.append(lambda: self._start_services(vpc["VpcId"]))

    def vpc_changed(self, view: View, vpc: dict) -> None:
        self._sync(view, vpc["VpcId"])

    def vpc_deleted(self, view: View, vpc: dict) -> None:
        vpc_id = vpc["VpcId"]
        if not self.available:
            return
        self._guard(view, vpc_id)
        self._stop_services(vpc_id)
        with self._lock:
            if self._states.pop(vpc_id, None) is not None:
                self.engine.remove_network(vpc_id)
        view.after_rollback.append(lambda: self._start_services(vpc_id))

    def subnet_changed(self, view: View, subnet: dict) -> None:
        self._sync(view, subnet["VpcId"], only="subnets")

    def subnet_deleted(self, view: View, subnet: dict) -> None:
        self._sync(view, subnet["VpcId"])

    def route_table_changed(self, view: View, table: dict) -> None:
        self._sync(view, table["VpcId"], only="subnets")

    def route_table_deleted(self, view: View, table: dict) -> None:
        self._sync(view, table["VpcId"], only="subnets")

    def network_acl_changed(self, view: View, acl: dict) -> None:
        self._sync(view, acl["VpcId"])

    def network_acl_deleted(self, view: View, acl: dict) -> None:
        self._sync(view, acl["VpcId"])

    def security_group_changed(self, view: View, group: dict, rules: list[dict]) -> None:
        """The hot path of a rule change: this group's chains only."""
        vpc_id = group.get("VpcId")
        if not self.available or not vpc_id:
            return
        state = self._states.get(vpc_id)
        if state is None:
            self._sync(view, vpc_id)
            return
        self._guard(view, vpc_id)
        spec = translate.security_group(group, rules, _lists(view))
        with self._lock:
            if state.groups.get(spec.id) != spec:
                self.engine.put_security_group(vpc_id, spec)
                state.groups[spec.id] = spec

    def security_group_deleted(self, view: View, group: dict) -> None:
        if group.get("VpcId"):
            self._sync(view, group["VpcId"])

    def interface_changed(self, view: View, interface: dict) -> None:
        """One ENI: plumbed into its instance's namespace when it is attached to one."""
        vpc_id = interface["VpcId"]
        if not self.available:
            return
        state = self._states.get(vpc_id)
        if state is None:
            self._sync(view, vpc_id)
            return
        self._guard(view, vpc_id)
        spec = translate.interface(interface)
        with self._lock:
            old = state.interfaces.get(interface["NetworkInterfaceId"])
            if spec is None and old is not None:
                self.engine.remove_interface(vpc_id, old.id)
                del state.interfaces[old.id]
            elif spec is not None and spec != old:
                for group_id in spec.groups:  # a group made in this same transaction
                    if group_id not in state.groups:
                        self._sync(view, vpc_id)
                        return
                self.engine.put_interface(vpc_id, spec)
                state.interfaces[spec.id] = spec

    def interface_deleted(self, view: View, interface: dict) -> None:
        vpc_id = interface["VpcId"]
        state = self._states.get(vpc_id)
        if not self.available or state is None:
            return
        self._guard(view, vpc_id)
        with self._lock:
            if state.interfaces.pop(interface["NetworkInterfaceId"], None) is not None:
                self.engine.remove_interface(vpc_id, interface["NetworkInterfaceId"])

    def gateway_changed(self, view: View, kind: str, gateway: dict) -> None:
        """`kind`: internet-gateway, egress-only-internet-gateway or natgateway."""
        for vpc_id in self._gateway_vpcs(gateway):
            self._sync(view, vpc_id)

    def gateway_deleted(self, view: View, kind: str, gateway: dict) -> None:
        self.gateway_changed(view, kind, gateway)

    def address_changed(self, view: View, address: dict) -> None:
        eni = view.get(address.get("NetworkInterfaceId") or "", "network-interface")
        if eni is not None:
            self._sync(view, eni["VpcId"])

    def address_released(self, view: View, address: dict) -> None:
        self.address_changed(view, address)

    def endpoint_changed(self, view: View, endpoint: dict) -> None:
        self._sync(view, endpoint["VpcId"])

    def endpoint_deleted(self, view: View, endpoint: dict) -> None:
        self._sync(view, endpoint["VpcId"])

    def flow_logs_changed(self, view: View, flow_log: dict) -> None:
        """Delivery of flow-log records is wired separately (flow logs are kept)."""

    def flow_logs_deleted(self, view: View, flow_log: dict) -> None: ...

    # -- telling the engine -----------------------------------------------------------------
    def _gateway_vpcs(self, gateway: dict) -> set[str]:
        found = {a["VpcId"] for a in gateway.get("Attachments") or [] if a.get("VpcId")}
        if gateway.get("VpcId"):
            found.add(gateway["VpcId"])
        gateway_id = gateway.get("InternetGatewayId")
        found |= {vpc for vpc, s in self._states.items()
                  if s.gateway is not None and s.gateway.id == gateway_id}
        return found

    def _guard(self, view: View, vpc_id: str) -> None:
        """After a rollback, the VPC is built again from what the store holds."""
        if not getattr(view, "_fabric_guarded", set()).__contains__(vpc_id):
            guarded = getattr(view, "_fabric_guarded", set())
            guarded.add(vpc_id)
            view._fabric_guarded = guarded
            view.after_rollback.append(lambda: self.resync(view.account, view.region, vpc_id))

    def resync(self, account: str, region: str, vpc_id: str) -> None:
        if self._records is not None and self.available:
            try:
                self._sync(self._records.read(account, region), vpc_id, guard=False)
            except Exception:
                log.exception("VPC %s could not be rebuilt from the store", vpc_id)

    def _sync(self, view: View, vpc_id: str, only: str | None = None, guard: bool = True
              ) -> None:
        """Tell the engine what differs between the VPC in `view` and what it last built
        (only its subnets' routes and ACLs, with `only="subnets"`)."""
        if not self.available:
            return
        if guard:
            self._guard(view, vpc_id)
        state = desired_state(view, vpc_id)
        with self._lock:
            if not state:
                if self._states.pop(vpc_id, None) is not None:
                    self.engine.remove_network(vpc_id)
                return
            current = self._states.get(vpc_id)
            if only == "subnets" and current is not None:
                _put_changed(self.engine, vpc_id, current.subnets, translate.subnets(state),
                             self.engine.put_subnet, self.engine.remove_subnet)
                return
            self._apply(translate.network(state))

    def _apply(self, want: engine.Network) -> None:
        e, vpc_id = self.engine, want.id
        state = self._states.get(vpc_id)
        if state is None or state.cidrs != want.cidrs:
            e.put_network(vpc_id, want.cidrs)
            if state is None:
                state = self._states[vpc_id] = FabricState(vpc_id, want.cidrs)
            state.cidrs = want.cidrs
        # in the order things depend on each other; removals in the reverse order
        _put_changed(e, vpc_id, state.acls, want.acls, e.put_acl, None)
        _put_changed(e, vpc_id, state.groups, want.security_groups, e.put_security_group,
                     None)
        _put_changed(e, vpc_id, state.subnets, want.subnets, e.put_subnet, None)
        if want.internet_gateway != state.gateway:
            if want.internet_gateway is None:
                e.remove_internet_gateway(vpc_id)
            else:
                e.put_internet_gateway(vpc_id, want.internet_gateway)
            state.gateway = want.internet_gateway
        _put_changed(e, vpc_id, state.endpoints, want.endpoints, e.put_endpoint, None)
        _put_changed(e, vpc_id, state.nats, want.nat_gateways, e.put_nat_gateway, None)
        _put_changed(e, vpc_id, state.interfaces, want.interfaces, e.put_interface,
                     e.remove_interface)
        _remove_missing(vpc_id, state.nats, want.nat_gateways, e.remove_nat_gateway)
        _remove_missing(vpc_id, state.endpoints, want.endpoints, e.remove_endpoint)
        _remove_missing(vpc_id, state.subnets, want.subnets, e.remove_subnet)
        _remove_missing(vpc_id, state.groups, want.security_groups, e.remove_security_group)
        _remove_missing(vpc_id, state.acls, want.acls, e.remove_acl)


def _put_changed(e, vpc_id: str, applied: dict, wanted, put, remove) -> None:
    """Put each spec that differs from the applied one; with `remove`, also remove the
    applied ones no longer wanted (afterwards)."""
    for spec in wanted:
        if applied.get(spec.id) != spec:
            put(vpc_id, spec)
            applied[spec.id] = spec
    if remove is not None:
        _remove_missing(vpc_id, applied, wanted, remove)


def _remove_missing(vpc_id: str, applied: dict, wanted, remove) -> None:
    keep = {spec.id for spec in wanted}
    for spec_id in [i for i in applied if i not in keep]:
        remove(vpc_id, spec_id)
        del applied[spec_id]


def _state_of(network: engine.Network) -> FabricState:
    state = FabricState(network.id, network.cidrs)
    state.acls = {a.id: a for a in network.acls}
    state.groups = {g.id: g for g in network.security_groups}
    state.subnets = {s.id: s for s in network.subnets}
    state.gateway = network.internet_gateway
    state.endpoints = {x.id: x for x in network.endpoints}
    state.nats = {n.id: n for n in network.nat_gateways}
    state.interfaces = {i.id: i for i in network.interfaces}
    return state


def _resolver(vpc: dict) -> str:
    """The Amazon-provided DNS server: the VPC's primary CIDR's base plus two."""
    return str(ipaddress.ip_network(vpc["CidrBlock"]).network_address + 2)


def _lists(view: View) -> dict[str, tuple[str, ...]]:
    return {pl["PrefixListId"]: tuple(pl["Cidrs"]) for pl in managed_lists(view.region)}


def vpcs(records: Records) -> list[tuple[str, str, str]]:
    """(account, region, vpc id) of every VPC in the store."""
    return [(r["account"], r["region"], r["id"]) for r in records.db.query(
        "SELECT account, region, id FROM ec2_resources WHERE kind='vpc' ORDER BY seq")]


def desired_state(view: View, vpc_id: str) -> dict:
    """Everything in one VPC that decides what its packets do, as plain dicts of records:
    the VPC, its subnets, route tables (routes and associations), network ACLs (entries and
    associations), security groups with their rules, interfaces, internet, egress-only and
    NAT gateways, Elastic IPs on its interfaces, endpoints, flow logs, its DHCP options and
    the managed prefix lists its routes and rules name."""
    vpc = view.get(vpc_id, "vpc")
    if vpc is None:
        return {}
    groups = view.find("security-group", vpc_ids=[vpc_id])
    rules = view.find("security-group-rule",
                      parents=[g["GroupId"] for g in groups]) if groups else []
    interfaces = view.find("network-interface", vpc_ids=[vpc_id])
    eni_ids = {eni["NetworkInterfaceId"] for eni in interfaces}
    gateways = [g for g in view.find("internet-gateway") + view.find(
        "egress-only-internet-gateway")
        if any(a.get("VpcId") == vpc_id for a in g.get("Attachments") or [])]
    return {
        "vpc": vpc,
        "dhcp_options": view.get(vpc.get("DhcpOptionsId") or "", "dhcp-options"),
        "subnets": view.find("subnet", vpc_ids=[vpc_id]),
        "route_tables": view.find("route-table", vpc_ids=[vpc_id]),
        "network_acls": view.find("network-acl", vpc_ids=[vpc_id]),
        "security_groups": [{**g, "_rules": [r for r in rules if r["GroupId"] == g["GroupId"]]}
                            for g in groups],
        "interfaces": interfaces,
        "gateways": gateways,
        "nat_gateways": [n for n in view.find("natgateway", vpc_ids=[vpc_id])
                         if n["State"] in ("pending", "available")],
        "addresses": [a for a in view.find("elastic-ip")
                      if a.get("NetworkInterfaceId") in eni_ids],
        "endpoints": view.find("vpc-endpoint", vpc_ids=[vpc_id]),
        "flow_logs": [f for f in view.find("vpc-flow-log")
                      if f.get("_vpc") == vpc_id],
        "prefix_lists": managed_lists(view.region),
    }
