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
    flow_logs_changed / _deleted  CreateFlowLogs / DeleteFlowLogs (fabric_flows.py)

For the compute half and the VPC's own servers (fabric_services.py):

    available, reason                  whether packets are enforced here, and why not
    host_namespace(instance_id)        "/run/netns/<name>": where an instance's ENIs are
    remove_host(instance_id)           its namespace and interfaces, gone
    resolver_address(vpc_id)           the VPC's resolver (base + 2)
    add_router_service(start)          start(account, region, vpc_id, make_socket) -> stop,
                                       for every VPC (IMDS, the resolver); make_socket(family,
                                       type) is a socket made in the VPC's router namespace
    add_edge_service(start)            start(account, region, vpc_id, addresses, make_socket)
                                       -> stop, in every namespace that carries AWS's endpoint
                                       addresses: a VPC's internet gateway while attached, each
                                       gateway endpoint (AWS's endpoints, network/api_endpoints)
    add_names(callback)                callback(account, region, vpc_id, name) -> address(es)
                                       | None: names the VPCs' resolvers answer, asked first
                                       (the port's own: instances' public DNS names, inside
                                       their VPC, give the private address)
    dns_settings(vpc_id)               the resolver's names.VpcNames, as last committed
    flow_delivery                      a network/flow_delivery.FlowLogDelivery: told what the
                                       flow logs capture after every change (ENIs that come
                                       later too); the engine's verdicts go to it
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
import logging
import re
import threading
from collections.abc import Callable
from pathlib import Path

from cloudlet.engines import network as engine
from cloudlet.engines.network import netns
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.fabric_flows import FlowLogsPort
from cloudlet.services.ec2.fabric_services import EdgeService, RouterService, Servers
from cloudlet.services.ec2.fabric_state import (
    FabricState,
    desired_state,
    prefix_lists,
    put_changed,
    remove_missing,
    resolver,
    state_of,
    vpcs,
)
from cloudlet.services.ec2.network import names, translate
from cloudlet.services.ec2.store import Records, View

log = logging.getLogger("cloudlet.ec2.fabric")

LOCK_DIR = Path("/run/cloudlet")
PREFIX_LOCK = "fabric-{}.lock"
OTHER_PREFIX = re.compile(r"^(cl[0-9a-z]{3})(?:-[rgxh]-|_public$)")


def prefix_for(root: Path) -> str:
    """`cl` and three base-36 characters of the data directory's path."""
    digest = int(hashlib.sha256(str(Path(root).resolve()).encode()).hexdigest(), 16)
    chars = "0123456789abcdefghijklmnopqrstuvwxyz"
    return "cl" + "".join(chars[(digest >> (6 * i)) % 36] for i in range(3))


class Fabric(FlowLogsPort):
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
        self.servers = Servers()
        self._records: Records | None = None
        self._dns: dict[str, names.VpcNames] = {}
        self._names: list[Callable] = [self._public_names]
        self.flow_delivery = None  # network/flow_delivery.FlowLogDelivery
        self._flow_logs: dict[str, list[dict]] = {}  # vpc -> its flow logs, as committed
        self._watched: dict[str, dict[str, tuple]] = {}  # vpc -> engine id -> (spec, what)
        self._nat_enis: dict[str, str] = {}  # NAT gateway -> its ENI
        self._zones: dict[str, str] = {}  # subnet -> its Availability Zone's id

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
                self._resolvers[vpc_id] = resolver(state["vpc"])
                self._note(state)
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
                self._states[network.id] = state_of(network)
        self.available, self.reason = True, ""
        if self.flow_delivery is not None:
            self.flow_delivery.start()
        for network, _ in networks:
            self._start_services(network.id)
            with self._lock:
                self._sync_edges(network.id)
                self._sync_flows(network.id)

    def stop(self) -> None:
        """At Cloudlet's stop: the VPCs' servers stop, open flow-log windows are delivered
        and the fabric is torn down."""
        self.servers.stop()
        if self.available and self.engine is not None:
            with self._lock:
                self.engine.teardown()  # its watchers hand over what they hold
                self._states.clear()
        if self.flow_delivery is not None:
            self.flow_delivery.stop()
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
                    gone = [i for i, s in state.interfaces.items() if s.host == instance_id]
                    for eni_id in gone:
                        del state.interfaces[eni_id]
                    if gone:
                        self._sync_flows(state.id)

    def resolver_address(self, vpc_id: str) -> str:
        return self._resolvers[vpc_id]

    def add_router_service(self, start: RouterService) -> None:
        """`start(account, region, vpc_id, make_socket) -> stop` for every VPC, now and as
        they come; `stop()` when a VPC goes or the fabric stops."""
        self.servers.router_services.append(start)
        for vpc_id in list(self._states):
            self._start_services(vpc_id, [start])

    def add_edge_service(self, start: EdgeService) -> None:
        """`start(account, region, vpc_id, addresses, make_socket) -> stop` in every service
        namespace (internet gateways while attached, gateway endpoints), now and as they
        come; `stop()` when one goes, its addresses change, or the fabric stops."""
        with self._lock:
            self.servers.add_edge_service(start, self._places, self._socket_in)

    def add_names(self, callback: Callable) -> None:
        """`callback(account, region, vpc_id, name) -> address | [address] | None`: names the
        VPCs' resolvers answer (RDS endpoints, say), asked before AWS's own names."""
        self._names.append(callback)

    def names(self, account: str, region: str, vpc_id: str, name: str):
        for callback in self._names:
            try:
                found = callback(account, region, vpc_id, name)
            except Exception:
                log.exception("a name callback failed for %s", name)
                continue
            if found:
                return found
        return None

    def dns_settings(self, vpc_id: str) -> names.VpcNames | None:
        return self._dns.get(vpc_id)

    def _public_names(self, account: str, region: str, vpc_id: str, name: str) -> str | None:
        """An instance's public DNS name, asked inside its own VPC: its private address, as
        AWS's resolver answers (other VPCs' public names are NXDOMAIN here)."""
        public, state = names.public_address(name), self._states.get(vpc_id)
        if public is None or state is None:
            return None
        return next((i.addresses[0] for i in list(state.interfaces.values())
                     if i.public_address == public), None)

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

    def _start_services(self, vpc_id: str, services: list[RouterService] | None = None
                        ) -> None:
        account, region = self._places[vpc_id]
        self.servers.start_router(account, region, vpc_id,
                                  self._socket_in(self.engine.router_namespace(vpc_id)),
                                  services)

    def _socket_in(self, namespace: str) -> Callable:
        def make_socket(family, type):
            return self.engine.socket(namespace, family, type)
        return make_socket

    def _sync_edges(self, vpc_id: str) -> None:
        """The edge services follow the VPC's service namespaces (under self._lock)."""
        state, wanted = self._states.get(vpc_id), {}
        if state is not None and state.gateway is not None and state.gateway.services:
            wanted[self.engine.gateway_namespace(vpc_id)] = state.gateway.services
        for endpoint in (state.endpoints.values() if state is not None else ()):
            if endpoint.services:
                wanted[self.engine.endpoint_namespace(vpc_id, endpoint.id)] = endpoint.services
        if vpc_id in self._places:
            self.servers.sync_edges(*self._places[vpc_id], vpc_id, wanted, self._socket_in)

    def _note(self, state: dict) -> None:
        """What the resolver and the flow logs read of a VPC's records (as committed)."""
        vpc = state["vpc"]
        region = self._places[vpc["VpcId"]][1]
        self._dns[vpc["VpcId"]] = names.settings(region, vpc, state.get("dhcp_options"),
                                                 translate.cidrs(vpc))
        self._flow_logs[vpc["VpcId"]] = state.get("flow_logs") or []
        self._note_records(state)

    # -- the port ------------------------------------------------------------------------
    def vpc_created(self, view: View, vpc: dict) -> None:
        self._places[vpc["VpcId"]] = (view.account, view.region)
        self._resolvers[vpc["VpcId"]] = resolver(vpc)
        self._note_vpc(view, vpc)
        self._sync(view, vpc["VpcId"])
        if self.available and not self.servers.router_running(vpc["VpcId"]):
            view.after_commit.append(lambda: self._start_services(vpc["VpcId"]))

    def vpc_changed(self, view: View, vpc: dict) -> None:
        self._note_vpc(view, vpc)
        self._sync(view, vpc["VpcId"])

    def vpc_deleted(self, view: View, vpc: dict) -> None:
        vpc_id = vpc["VpcId"]
        view.after_commit.append(lambda: self._forget(vpc_id))
        if not self.available:
            return
        self._guard(view, vpc_id)
        self.servers.stop_router(vpc_id)
        with self._lock:
            if self._states.pop(vpc_id, None) is not None:
                self.engine.remove_network(vpc_id)
            self._sync_edges(vpc_id)
            self._sync_flows(vpc_id)
        view.after_rollback.append(lambda: self._start_services(vpc_id))

    def _forget(self, vpc_id: str) -> None:
        for held in (self._dns, self._flow_logs, self._watched):
            held.pop(vpc_id, None)

    def _note_vpc(self, view: View, vpc: dict) -> None:
        """The resolver follows the VPC's DNS attribute, CIDRs and DHCP options once they
        are committed."""
        found = names.settings(view.region, vpc, view.get(vpc.get("DhcpOptionsId") or "",
                                                          "dhcp-options"),
                               translate.cidrs(vpc))
        view.after_commit.append(lambda: self._dns.__setitem__(vpc["VpcId"], found))

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
        spec = translate.security_group(group, rules, prefix_lists(view))
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
            self._sync_flows(vpc_id)

    def interface_deleted(self, view: View, interface: dict) -> None:
        vpc_id = interface["VpcId"]
        state = self._states.get(vpc_id)
        if not self.available or state is None:
            return
        self._guard(view, vpc_id)
        with self._lock:
            if state.interfaces.pop(interface["NetworkInterfaceId"], None) is not None:
                self.engine.remove_interface(vpc_id, interface["NetworkInterfaceId"])
            self._sync_flows(vpc_id)

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
        self._note_records(state)
        with self._lock:
            if not state:
                if self._states.pop(vpc_id, None) is not None:
                    self.engine.remove_network(vpc_id)
                self._sync_edges(vpc_id)
                self._sync_flows(vpc_id)
                return
            current = self._states.get(vpc_id)
            if only == "subnets" and current is not None:
                put_changed(self.engine, vpc_id, current.subnets, translate.subnets(state),
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
        put_changed(e, vpc_id, state.acls, want.acls, e.put_acl, None)
        put_changed(e, vpc_id, state.groups, want.security_groups, e.put_security_group,
                     None)
        put_changed(e, vpc_id, state.subnets, want.subnets, e.put_subnet, None)
        if want.internet_gateway != state.gateway:
            if want.internet_gateway is None:
                e.remove_internet_gateway(vpc_id)
            else:
                e.put_internet_gateway(vpc_id, want.internet_gateway)
            state.gateway = want.internet_gateway
        put_changed(e, vpc_id, state.endpoints, want.endpoints, e.put_endpoint, None)
        put_changed(e, vpc_id, state.nats, want.nat_gateways, e.put_nat_gateway, None)
        put_changed(e, vpc_id, state.interfaces, want.interfaces, e.put_interface,
                     e.remove_interface)
        remove_missing(vpc_id, state.nats, want.nat_gateways, e.remove_nat_gateway)
        remove_missing(vpc_id, state.endpoints, want.endpoints, e.remove_endpoint)
        remove_missing(vpc_id, state.subnets, want.subnets, e.remove_subnet)
        remove_missing(vpc_id, state.groups, want.security_groups, e.remove_security_group)
        remove_missing(vpc_id, state.acls, want.acls, e.remove_acl)
        self._sync_edges(vpc_id)
        self._sync_flows(vpc_id)
