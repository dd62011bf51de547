"""IMDS: the instance metadata service at 169.254.169.254, served into every VPC.

    metadata_tree.py     the tree an instance reads (versions, meta-data, dynamic, user-data)
    metadata_handler.py  the protocol: IMDSv1/v2 tokens, hop limit, errors
    metadata_http.py     the HTTP server (asyncio + h11), one listening socket per VPC
    identity.py          the signed instance identity document, its key and certificate
    instance_credentials.py  the instance profile's role sessions, rotated before expiry

How it is served. The fabric adapter calls `serve_vpc(account, region, vpc_id,
make_socket)` for every VPC whose router namespace exists (at start, and as VPCs are
made) and the stop() it returns when the VPC goes. `make_socket` creates a socket inside
that router namespace, where 169.254.169.254 is an address on `lo`: a packet to it is INPUT
there, never FORWARD, so security groups and network ACLs do not apply, as on AWS. Bound to
port 80, it is served by one asyncio loop for all VPCs.

Who is asking. The source address of the connection is the instance's private address in
that VPC (any of its interfaces' addresses). Each VPC keeps an index address -> instance
id, rebuilt from the records when an address is not (or no longer) found; every request
then reads the instance's record afresh, so ModifyInstanceMetadataOptions, tags and a new
instance profile apply at once.

The identity document's certificate is public at `/_cloudlet/ec2/instance-identity.pem`.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path

from cloudlet.services.base import Route
from cloudlet.services.ec2.compute.identity import CERT_PATH, IdentitySigner
from cloudlet.services.ec2.compute.instance_credentials import RoleSessions
from cloudlet.services.ec2.compute.metadata_handler import MetadataHandler, Tokens
from cloudlet.services.ec2.compute.metadata_http import MetadataServers
from cloudlet.services.ec2.compute.metadata_tree import InstanceFacts
from cloudlet.services.ec2.store import Records, View
from cloudlet.services.iam.reads import IamReads
from cloudlet.services.sts.reads import StsReads

log = logging.getLogger("cloudlet.ec2.imds")

METADATA_ADDRESS = "169.254.169.254"
SERVICE_PRINCIPAL = "ec2.amazonaws.com"
REINDEX_AT_MOST_EVERY = 0.5  # seconds, per VPC: strangers cannot make it read all the time


def addresses_of(instance: dict) -> set[str]:
    found = {instance.get("PrivateIpAddress")}
    for eni in instance.get("NetworkInterfaces") or []:
        found.add(eni.get("PrivateIpAddress"))
        found.update(a.get("PrivateIpAddress") for a in eni.get("PrivateIpAddresses") or [])
    found.discard(None)
    return found


class _Index:
    def __init__(self):
        self.addresses: dict[str, str] = {}
        self.built = float("-inf")
        self.lock = threading.Lock()


class MetadataService:
    def __init__(self, records: Records, identity_dir: Path):
        self.records = records
        self.iam, self.sts = IamReads(None), StsReads(None)
        self.tokens = Tokens()
        self.signer = IdentitySigner(identity_dir)
        self.sessions = RoleSessions(self._mint)
        self.servers = MetadataServers()
        self._indexes: dict[tuple[str, str, str], _Index] = {}
        self._lock = threading.Lock()

    # -- serving ----------------------------------------------------------------------------
    def serve_vpc(self, account: str, region: str, vpc_id: str,
                  make_socket: Callable[[int, int], socket.socket]) -> Callable[[], None]:
        sock = make_socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((METADATA_ADDRESS, 80))
            sock.listen(128)
        except OSError:
            sock.close()
            raise
        handler = MetadataHandler(lambda peer: self.facts(account, region, vpc_id, peer),
                                  self.tokens)
        stop_server = self.servers.serve(sock, handler)

        def stop() -> None:
            stop_server()
            with self._lock:
                self._indexes.pop((account, region, vpc_id), None)

        return stop

    def close(self) -> None:
        self.servers.close()

    # -- who is asking ----------------------------------------------------------------------
    def facts(self, account: str, region: str, vpc_id: str, peer: str) -> InstanceFacts | None:
        view = self.records.read(account, region)
        instance = self._instance_at(view, vpc_id, peer)
        if instance is None:
            return None
        return self.instance_facts(view, instance)

    def _instance_at(self, view: View, vpc_id: str, peer: str) -> dict | None:
        with self._lock:
            index = self._indexes.setdefault((view.account, view.region, vpc_id), _Index())
        found = self._indexed(view, index, vpc_id, peer)
        if found is not None:
            return found
        with index.lock:  # one rebuild at a time; those who waited may find theirs done
            found = self._indexed(view, index, vpc_id, peer)
            if found is not None:
                return found
            wait = REINDEX_AT_MOST_EVERY - (time.monotonic() - index.built)
            if wait > 0:  # an instance that just booted is found, a stranger waits
                time.sleep(wait)
            index.addresses = {
                address: doc["InstanceId"]
                for doc in view.find("instance", vpc_ids=[vpc_id])
                if (doc.get("State") or {}).get("Name") != "terminated"
                for address in addresses_of(doc)}
            index.built = time.monotonic()
        return self._indexed(view, index, vpc_id, peer)

    @staticmethod
    def _indexed(view: View, index: _Index, vpc_id: str, peer: str) -> dict | None:
        instance_id = index.addresses.get(peer)
        doc = view.get(instance_id, "instance") if instance_id else None
        if (doc is None or doc.get("VpcId") != vpc_id or peer not in addresses_of(doc)
                or (doc.get("State") or {}).get("Name") == "terminated"):
            return None
        return doc

    def instance_facts(self, view: View, instance: dict) -> InstanceFacts:
        account, instance_id = view.account, instance["InstanceId"]
        subnet_ids = {eni.get("SubnetId") for eni in instance.get("NetworkInterfaces") or []}
        subnet_ids.add(instance.get("SubnetId"))
        subnets = {s["SubnetId"]: s for s in view.find("subnet", ids=[i for i in subnet_ids if i])}
        group_ids = {g.get("GroupId") for eni in instance.get("NetworkInterfaces") or []
                     for g in eni.get("Groups") or []}
        groups = {g["GroupId"]: g.get("GroupName") or "" for g in view.find(
            "security-group", ids=[g for g in group_ids if g])} if group_ids else {}
        profile = self._profile(account, instance)
        roles = (profile or {}).get("Roles") or []
        credentials = None
        if roles:
            role_arn = roles[0]["Arn"]

            def credentials() -> dict:
                return self.sessions.current(account, instance_id, role_arn)

        return InstanceFacts(
            account=account, region=view.region, instance=instance,
            vpc=view.get(instance.get("VpcId") or "", "vpc"), subnets=subnets, groups=groups,
            tags=view.tags_of([instance_id]).get(instance_id, []), profile=profile,
            credentials=credentials, sign=self.signer.sign)

    def _profile(self, account: str, instance: dict) -> dict | None:
        arn = (instance.get("IamInstanceProfile") or {}).get("Arn")
        if not arn:
            return None
        return self.iam.instance_profile(account, arn.rsplit("/", 1)[-1])

    def _mint(self, role_arn: str, instance_id: str, seconds: int):
        return self.sts.service_session(role_arn, SERVICE_PRINCIPAL, session_name=instance_id,
                                        seconds=seconds)


class MetadataOperations:
    """The provider's side of IMDS: started and stopped with it, reading IAM and STS
    through their `reads` modules, and serving the identity certificate."""

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.metadata = MetadataService(self.records, store.root / "ec2" / "identity")

    def attach(self, providers: dict) -> None:
        super().attach(providers)
        self.metadata.iam = IamReads(providers.get("iam"))
        self.metadata.sts = StsReads(providers.get("sts"))

    def start(self) -> None:
        self.fabric.add_router_service(self.metadata.serve_vpc)
        super().start()

    def stop(self) -> None:
        super().stop()
        self.metadata.close()

    def routes(self) -> list[Route]:
        return [*super().routes(), Route(prefix=CERT_PATH, methods=frozenset({"GET", "HEAD"}),
                                         handler=self.identity_certificate_route)]

    def identity_certificate_route(self, request) -> tuple[int, dict[str, str], bytes]:
        if request.path != CERT_PATH:
            return 404, {"Content-Type": "text/plain"}, b"Not Found"
        return 200, {"Content-Type": "application/x-pem-file"}, self.metadata.signer.certificate()
