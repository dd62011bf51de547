"""The port's flow-log half (a mixin of fabric.Fabric): which interfaces the VPC's flow logs
capture (the VPC's, a subnet's, one ENI's, and ENIs that come later), watched in the engine,
their verdicts handed to `flow_delivery` (network/flow_delivery.py), which writes the records.

    flow_logs_changed / _deleted      CreateFlowLogs / DeleteFlowLogs: once committed
    _sync_flows(vpc_id)               after every change of the VPC's interfaces (under the
                                      port's lock): watch what is captured, unwatch the rest
A NAT gateway's interface is the engine's NAT host; its records name the NAT's ENI.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from cloudlet.services.ec2.network.flow_delivery import Captured, captured_by
from cloudlet.services.ec2.store import View

log = logging.getLogger("cloudlet.ec2.fabric")

FLOW_INTERVAL = 1.0  # seconds between the engine's hand-overs of flows


class FlowLogsPort:
    flow_delivery: object | None  # a FlowLogDelivery
    _flow_logs: dict[str, list[dict]]  # vpc -> its flow logs, as committed
    _watched: dict[str, dict[str, tuple]]  # vpc -> engine id -> (spec, Captured)
    _nat_enis: dict[str, str]  # NAT gateway -> its ENI
    _zones: dict[str, str]  # subnet -> its Availability Zone's id

    def flow_logs_changed(self, view: View, flow_log: dict) -> None:
        """Once committed, the engine watches what the VPC's flow logs capture."""
        vpc_id, account, region = flow_log["_vpc"], view.account, view.region
        view.after_commit.append(lambda: self._flow_logs_committed(account, region, vpc_id))

    def flow_logs_deleted(self, view: View, flow_log: dict) -> None:
        self.flow_logs_changed(view, flow_log)

    def _flow_logs_committed(self, account: str, region: str, vpc_id: str) -> None:
        if self._records is None:
            return
        self._flow_logs[vpc_id] = [f for f in self._records.read(account, region).find(
            "vpc-flow-log") if f.get("_vpc") == vpc_id]
        if self.available:
            with self._lock:
                self._sync_flows(vpc_id)

    def _sync_flows(self, vpc_id: str) -> None:
        """The engine watches the interfaces the VPC's flow logs capture, and the delivery
        knows what each captures (under self._lock)."""
        if self.flow_delivery is None or vpc_id not in self._places:
            return
        logs, state = self._flow_logs.get(vpc_id) or [], self._states.get(vpc_id)
        watched = self._watched.setdefault(vpc_id, {})
        if not logs and not watched:
            return
        wanted: dict[str, tuple] = {}
        if logs and state is not None:
            for spec in state.interfaces.values():
                chosen = captured_by(logs, vpc_id, spec.subnet, spec.id)
                if chosen:
                    wanted[spec.id] = (spec, Captured(spec.id, spec.subnet, spec.host,
                                                      spec.addresses, chosen,
                                                      self._zones.get(spec.subnet)))
            for nat in state.nats.values():  # a NAT gateway's interface is its own
                eni_id = self._nat_enis.get(nat.id, nat.id)
                chosen = captured_by(logs, vpc_id, nat.subnet, eni_id)
                if chosen:
                    wanted[nat.id] = (nat, Captured(eni_id, nat.subnet, None, (nat.address,),
                                                    chosen, self._zones.get(nat.subnet)))
        try:  # flow logs never fail the operation that changed the VPC
            for engine_id in [i for i in watched if i not in wanted]:
                del watched[engine_id]
                if state is not None:
                    self.engine.unwatch_flows(vpc_id, engine_id)
            for engine_id, (spec, what) in wanted.items():
                if watched.get(engine_id, (None,))[0] != spec:  # new, or built again
                    self.engine.watch_flows(vpc_id, engine_id, self._flow_callback(vpc_id),
                                            FLOW_INTERVAL)
                watched[engine_id] = (spec, what)
        except Exception:
            log.exception("the flow logs of VPC %s are not all watched", vpc_id)
        self.flow_delivery.interfaces(*self._places[vpc_id], vpc_id,
                                      {i: what for i, (_, what) in wanted.items()})

    def _flow_callback(self, vpc_id: str) -> Callable:
        delivery = self.flow_delivery
        return lambda flow: delivery.record(vpc_id, flow)

    def _note_records(self, state: dict) -> None:
        """What flow-log records name and the engine does not know: a NAT gateway's ENI (the
        engine knows the NAT), a subnet's zone id."""
        for subnet in state.get("subnets") or []:
            self._zones[subnet["SubnetId"]] = subnet.get("AvailabilityZoneId")
        for nat in state.get("nat_gateways") or []:
            eni = next(iter(nat.get("NatGatewayAddresses") or []), {}).get("NetworkInterfaceId")
            if eni:
                self._nat_enis[nat["NatGatewayId"]] = eni
