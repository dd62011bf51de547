"""RDS: real database servers behind AWS's API. One class composed of its operation
families:

    instances.py    Create/Describe/Modify/Stop/Start/Reboot/Delete DBInstance
    clusters.py     Aurora clusters (Create/Describe/Delete/FailoverDBCluster), their
                    instances, writer and reader endpoints
    snapshots.py    DB snapshots, automated backups, restores (snapshot and point in time)
    sharing.py      sharing manual snapshots with other accounts (ModifyDBSnapshotAttribute)
    replicas.py     read replicas and their promotion
    parameters.py   parameter groups, engine default parameters, engine versions,
                    orderable options
    resources.py    events, event subscriptions (to SNS), tags, subnet groups

What the families share, below them (none of these imports a family):

    admission.py        a new instance's record from the request, and admitting it
    modifications.py    ModifyDBInstance's changes applied to a running instance
    backups.py          taking snapshots, automated snapshots, what a restore inherits
    parameter_groups.py finding a parameter group and the values it sets
    shared.py           instance keys and lookup, DescribeDBInstances' shape, tags, paging
    supervisor.py       the thread watching the servers: failover, recovery, backups, metrics
    runtime.py          the servers, the endpoint port, the worker pool (the Fleet)
    rules.py            input rules (identifiers, passwords, storage, classes, versions)
    records.py          the records in SQLite (tables made by migrations m0010 and m0015)
    endpoints.py        endpoint names in /etc/hosts
    errors.py           RDS's errors
"""

from __future__ import annotations

import logging

from cloudlet.engines.db.front import Front
from cloudlet.services.base import Provider
from cloudlet.services.rds.clusters import READER_ADDRESS, ClusterOperations
from cloudlet.services.rds.instances import InstanceOperations, delete_task
from cloudlet.services.rds.parameters import ParameterOperations
from cloudlet.services.rds.records import Records
from cloudlet.services.rds.replicas import ReplicaOperations
from cloudlet.services.rds.resources import ResourceOperations, SubscriptionOperations
from cloudlet.services.rds.runtime import Fleet
from cloudlet.services.rds.sharing import SharingOperations
from cloudlet.services.rds.snapshots import SnapshotOperations
from cloudlet.services.rds.supervisor import Supervisor

log = logging.getLogger("cloudlet.rds")

RUNNING = ("available", "backing-up", "modifying", "rebooting", "starting",
           "resetting-master-credentials", "storage-optimization")


class RdsProvider(InstanceOperations, ClusterOperations, SnapshotOperations, SharingOperations,
                  ReplicaOperations, ParameterOperations, ResourceOperations,
                  SubscriptionOperations, Provider):
    service = "rds"

    def __init__(self, store, bus=None):
        super().__init__(store, bus)
        self.records = Records(store)
        self.fleet = Fleet(store.root / "rds", self.records, self.bus)
        self.supervisor = Supervisor(self.fleet)
        self.records.on_event = self.notify
        self.supervisor.on_writer_lost = self.writer_lost

    def start(self) -> None:
        """Bring back what was running: sources before their read replicas, cluster
        writers before their readers, then the cluster endpoints."""
        for cluster in self.records.list("clusters"):
            ckey = (cluster["_account"], cluster["_region"], cluster["DBClusterIdentifier"])
            fronts = (Front(cluster["Port"]), Front(cluster["Port"], READER_ADDRESS))
            for front in fronts:
                try:
                    front.bind()
                except OSError:
                    log.warning("the port of DB cluster %s is taken", ckey[2])
            self.fleet.cluster_fronts[ckey] = fronts
            self.fleet.endpoints.add(cluster["Endpoint"])
            self.fleet.endpoints.add(cluster["ReaderEndpoint"], READER_ADDRESS)
        writers = {c["_writer"] for c in self.records.list("clusters")}
        records = self.records.list("instances")
        records.sort(key=lambda r: (bool(r.get("ReadReplicaSourceDBInstanceIdentifier")),
                                    bool(r.get("DBClusterIdentifier"))
                                    and r["DBInstanceIdentifier"] not in writers))
        for record in records:
            key = (record["_account"], record["_region"], record["DBInstanceIdentifier"])
            status = record["DBInstanceStatus"]
            self.fleet.endpoints.add(record["Endpoint"]["Address"])
            self.fleet.runtime(key, record["Endpoint"]["Port"])
            if status == "deleting":
                self.fleet.submit(key, lambda rt: delete_task(self.fleet, rt, True))
            elif status in ("creating", "failed") or not record.get("_nodes"):
                self.fleet.update(key, DBInstanceStatus="failed")
            elif status in ("stopping", "stopped"):
                self.fleet.update(key, DBInstanceStatus="stopped")
            elif status in RUNNING:
                self.fleet.update(key, DBInstanceStatus="starting")
                self.fleet.submit(key, self._restart, failed="failed")
        self.supervisor.start()

    def _restart(self, rt) -> None:
        self.fleet.start_servers(rt)
        self.fleet.update(rt.key, DBInstanceStatus="available")
        self.fleet.event(rt.key, "DB instance restarted", "availability")
        cluster = self.fleet.record(rt.key).get("DBClusterIdentifier")
        if cluster:
            self.point_cluster((rt.key[0], rt.key[1], cluster))

    def stop(self) -> None:
        self.supervisor.stop()
        self.fleet.stop()
        self.fleet.endpoints.remove(*[h for c in self.records.list("clusters")
                                      for h in (c["Endpoint"], c["ReaderEndpoint"])])
