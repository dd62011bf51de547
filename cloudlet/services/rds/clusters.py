"""Aurora clusters: CreateDBCluster, DescribeDBClusters, DeleteDBCluster, FailoverDBCluster,
and the cluster's instances (CreateDBInstance with DBClusterIdentifier).

A cluster runs on the same engines: its first instance is the writer (a fresh server),
every later one a reader (a streaming replica of the writer). Each instance has its own
endpoint; the cluster's writer endpoint (127.0.0.1:Port) and reader endpoint (127.0.0.2,
same Port) are TCP fronts pointing at the writer and at a reader (the writer while there is
none). A failover promotes a reader, moves the writer endpoint to it and rebuilds the other
members as its replicas. Not here: cluster snapshots and point-in-time restore, cluster
parameter groups, Serverless, global databases."""

from __future__ import annotations

import contextlib
import uuid

from cloudlet import clock
from cloudlet.engines.db.front import Front, port_free
from cloudlet.services.rds import errors, rules
from cloudlet.services.rds.admission import HOSTED_ZONE, admit, build, claimed_ports, initialize
from cloudlet.services.rds.records import public
from cloudlet.services.rds.runtime import Fleet, Key, Runtime, arn, free_port
from cloudlet.services.rds.shared import describe, own_identifier, paginate, tags_of

READER_ADDRESS = "127.0.0.2"


def cluster_error(code: str, message: str, status: int = 400):
    return errors.error(code, message, status)


def not_found(identifier: str):
    return cluster_error("DBClusterNotFoundFault", f"DBCluster {identifier} not found.", 404)


def cluster_hosts(fleet: Fleet, key: Key) -> tuple[str, str]:
    host = fleet.endpoints.hostname(*key)
    if host == "localhost":
        return host, host
    name, rest = host.split(".", 1)
    return f"{name}.cluster-{rest}", f"{name}.cluster-ro-{rest}"


class ClusterOperations:
    fleet: Fleet

    # -- records -------------------------------------------------------------------------

    def cluster(self, ctx, identifier) -> dict:
        if not identifier:
            raise errors.missing("DBClusterIdentifier")
        identifier = own_identifier(ctx, identifier, "cluster", not_found)
        record = self.fleet.records.get("clusters", ctx.account_id, ctx.region,
                                        identifier.lower())
        if record is None:
            raise not_found(identifier)
        return record

    def members(self, account: str, region: str, cluster_id: str) -> list[dict]:
        return [r for r in self.fleet.records.list("instances", account, region)
                if r.get("DBClusterIdentifier") == cluster_id]

    def shape(self, record: dict) -> dict:
        shape = public(record)
        writer = record.get("_writer")
        shape["DBClusterMembers"] = [
            {"DBInstanceIdentifier": m["DBInstanceIdentifier"],
             "IsClusterWriter": m["DBInstanceIdentifier"] == writer,
             "DBClusterParameterGroupStatus": "in-sync", "PromotionTier": 1}
            for m in self.members(record["_account"], record["_region"],
                                  record["DBClusterIdentifier"])]
        shape["MultiAZ"] = len(shape["DBClusterMembers"]) > 1
        return shape

    # -- operations ----------------------------------------------------------------------

    def create_db_cluster(self, ctx, params):
        identifier = rules.identifier(params.get("DBClusterIdentifier"), "DBClusterIdentifier")
        engine = params.get("Engine")
        if engine not in rules.AURORA:
            raise errors.invalid_value(f"Invalid DB engine for a cluster: {engine}. Cloudlet "
                                       "runs aurora-postgresql and aurora-mysql clusters.")
        rules.engine_available(engine)
        version = rules.engine_version(engine, params.get("EngineVersion"))
        username = rules.master_username(engine, params.get("MasterUsername"))
        password = rules.master_password(engine, params.get("MasterUserPassword"))
        database = rules.db_name(engine, params.get("DatabaseName"))
        retention = rules.backup_retention(params.get("BackupRetentionPeriod"))
        port = rules.port(params.get("Port"), engine)
        if params.get("Port") is None and (port in claimed_ports(self.fleet) or
                                           port in self.cluster_ports() or
                                           not port_free("127.0.0.1", port)):
            port = free_port()
        key = (ctx.account_id, ctx.region, identifier)
        writer_host, reader_host = cluster_hosts(self.fleet, key)
        now = clock.timestamp()
        record = {
            "AllocatedStorage": 1,
            "AvailabilityZones": [f"{ctx.region}{z}" for z in "abc"],
            "BackupRetentionPeriod": retention, "DBClusterIdentifier": identifier,
            "DBClusterParameterGroup": f"default.{rules.family(engine, version)}",
            "Status": "available", "Endpoint": writer_host, "ReaderEndpoint": reader_host,
            "MultiAZ": False, "Engine": engine, "EngineVersion": version, "Port": port,
            "MasterUsername": username,
            "PreferredBackupWindow": rules.backup_window(params.get("PreferredBackupWindow")),
            "PreferredMaintenanceWindow": rules.maintenance_window(
                params.get("PreferredMaintenanceWindow")),
            "ReadReplicaIdentifiers": [], "DBClusterMembers": [],
            "VpcSecurityGroups": [{"VpcSecurityGroupId": sg, "Status": "active"}
                                  for sg in params.get("VpcSecurityGroupIds") or []],
            "HostedZoneId": HOSTED_ZONE,
            "StorageEncrypted": bool(params.get("StorageEncrypted", False)),
            "DbClusterResourceId": "cluster-" + uuid.uuid4().hex.upper()[:26],
            "DBClusterArn": arn(key, "cluster"), "ClusterCreateTime": now,
            "EngineMode": "provisioned",
            "DeletionProtection": bool(params.get("DeletionProtection", False)),
            "CopyTagsToSnapshot": bool(params.get("CopyTagsToSnapshot", False)),
            "TagList": tags_of(params), "StorageType": "aurora", "NetworkType": "IPV4",
            "IAMDatabaseAuthenticationEnabled": False, "CrossAccountClone": False,
            "_account": ctx.account_id, "_region": ctx.region, "_password": password,
            "_writer": None,
        }
        if database:
            record["DatabaseName"] = database
        if params.get("DBSubnetGroupName"):
            record["DBSubnetGroup"] = params["DBSubnetGroupName"]
        writer, reader = Front(port), Front(port, READER_ADDRESS)
        with self.fleet.records.lock:
            if self.fleet.records.get("clusters", *key) is not None:
                raise cluster_error("DBClusterAlreadyExistsFault",
                                    "DB Cluster already exists")
            if params.get("Port") is not None and (port in claimed_ports(self.fleet)
                                                   or port in self.cluster_ports()):
                raise errors.invalid_value(f"The port {port} is already in use on this host: "
                                           "choose another Port for the DB cluster.")
            try:
                writer.bind()
                reader.bind()
            except OSError:
                writer.close()
                reader.close()
                raise errors.invalid_value(f"The port {port} is already in use on this host: "
                                           "choose another Port for the DB cluster.") from None
            self.fleet.records.insert("clusters", *key, record)
            self.fleet.cluster_fronts[key] = (writer, reader)
        self.fleet.endpoints.add(writer_host)
        self.fleet.endpoints.add(reader_host, READER_ADDRESS)
        self.fleet.records.event(ctx.account_id, ctx.region, "db-cluster", identifier,
                                 "DB cluster created", ["creation"], record["DBClusterArn"])
        return {"DBCluster": self.shape(record)}

    def cluster_ports(self) -> set[int]:
        return {c["Port"] for c in self.fleet.records.list("clusters")}

    def describe_db_clusters(self, ctx, params):
        identifier = params.get("DBClusterIdentifier")
        if identifier:
            records = [self.cluster(ctx, identifier)]
        else:
            records = self.fleet.records.list("clusters", ctx.account_id, ctx.region)
        for f in params.get("Filters") or []:
            if f.get("Name") == "db-cluster-id":
                records = [r for r in records if r["DBClusterIdentifier"] in f.get("Values", [])
                           or r["DBClusterArn"] in f.get("Values", [])]
            elif f.get("Name") == "engine":
                records = [r for r in records if r["Engine"] in f.get("Values", [])]
            else:
                raise errors.invalid_value(f"Unrecognized filter name: {f.get('Name')}")
        page, marker = paginate(records, params, "DBClusterIdentifier")
        out = {"DBClusters": [self.shape(r) for r in page]}
        if marker:
            out["Marker"] = marker
        return out

    def delete_db_cluster(self, ctx, params):
        record = self.cluster(ctx, params.get("DBClusterIdentifier"))
        key = (ctx.account_id, ctx.region, record["DBClusterIdentifier"])
        if record.get("DeletionProtection"):
            raise errors.invalid_combination("Cannot delete protected Cluster, please disable "
                                             "deletion protection and try again.")
        if self.members(*key):
            raise cluster_error("InvalidDBClusterStateFault", "Cluster cannot be deleted, it "
                                "still contains DB instances in non-deleting state.")
        if not params.get("SkipFinalSnapshot"):
            raise errors.invalid_combination("Cloudlet takes no cluster snapshots: set "
                                             "SkipFinalSnapshot.")
        for front in self.fleet.cluster_fronts.pop(key, ()):
            front.close()
        self.fleet.endpoints.remove(record["Endpoint"], record["ReaderEndpoint"])
        self.fleet.records.delete("clusters", *key)
        self.fleet.records.event(ctx.account_id, ctx.region, "db-cluster", key[2],
                                 "DB cluster deleted", ["deletion"], record["DBClusterArn"])
        return {"DBCluster": {**self.shape(record), "Status": "deleting"}}

    def failover_db_cluster(self, ctx, params):
        record = self.cluster(ctx, params.get("DBClusterIdentifier"))
        key = (ctx.account_id, ctx.region, record["DBClusterIdentifier"])
        target = (params.get("TargetDBInstanceIdentifier") or "").lower() or None
        readers = [m for m in self.members(*key)
                   if m["DBInstanceIdentifier"] != record["_writer"]
                   and m["DBInstanceStatus"] == "available"]
        if target is not None and target not in [m["DBInstanceIdentifier"] for m in readers]:
            raise cluster_error("InvalidDBInstanceState",
                                f"Cannot fail over to {target}: it is not an available "
                                "reader of the cluster.")
        if not readers:
            raise cluster_error("InvalidDBClusterStateFault",
                                "Cannot fail over: the cluster has no available reader.")
        if record["Status"] != "available":
            raise cluster_error("InvalidDBClusterStateFault",
                                f"DB cluster {key[2]} is not in available state.")
        self.start_failover(key, target or readers[0]["DBInstanceIdentifier"])
        return {"DBCluster": self.shape(self.fleet.records.get("clusters", *key))}

    # -- the cluster's instances ---------------------------------------------------------

    def create_cluster_instance(self, ctx, params):
        cluster = self.cluster(ctx, params.get("DBClusterIdentifier"))
        ckey = (ctx.account_id, ctx.region, cluster["DBClusterIdentifier"])
        if params.get("Engine") != cluster["Engine"]:
            raise errors.invalid_combination(
                f"The engine name requested for your DB instance ({params.get('Engine')}) "
                f"doesn't match the engine name of your DB cluster ({cluster['Engine']}).")
        for name in ("MasterUsername", "MasterUserPassword", "AllocatedStorage"):
            if params.get(name) is not None:
                raise errors.invalid_combination(
                    f"The requested DB Instance will be a member of a DB Cluster. Set {name} "
                    "for the DB Cluster.")
        base = {"Engine": cluster["Engine"], "EngineVersion": cluster["EngineVersion"],
                "MasterUsername": cluster["MasterUsername"], "_password": cluster["_password"],
                "DBName": cluster.get("DatabaseName"), "AllocatedStorage": 1,
                "StorageType": "aurora", "BackupRetentionPeriod": 0}
        instance_params = {k: v for k, v in params.items() if k not in (
            "BackupRetentionPeriod", "StorageType", "Port", "MultiAZ")}
        instance_params["BackupRetentionPeriod"] = 0
        record = build(self.fleet, ctx, instance_params, base)
        record["DBClusterIdentifier"] = ckey[2]
        record["PromotionTier"] = params.get("PromotionTier", 1)
        record["_extra_hosts"] = [h for h in (cluster["Endpoint"], cluster["ReaderEndpoint"])
                                  if h != "localhost"]
        with self.fleet.records.lock:
            writer_id = self.fleet.records.get("clusters", *ckey)["_writer"]
            key = admit(self.fleet, record)
            if writer_id is None:
                self.fleet.records.update("clusters", *ckey,
                                          lambda c: c.update(_writer=key[2]))
        if writer_id is None:
            prepare = lambda rec, node: initialize(rec, node, self.fleet)  # noqa: E731
        else:
            writer_key = (ctx.account_id, ctx.region, writer_id)

            def prepare(rec, node):
                source = self.fleet.runtimes.get(writer_key)
                if source is None or source.primary is None:
                    raise RuntimeError("the cluster's writer is not running")
                with source.lock:
                    return source.primary.create_replica(self.fleet.spec(rec, node))
        self.fleet.launch(key, prepare, after=lambda: self.point_cluster(ckey))
        return {"DBInstance": describe(self.fleet, record)}

    def point_cluster(self, ckey: Key) -> None:
        """The writer endpoint at the writer, the reader endpoint at a reader (the writer
        while there is none)."""
        cluster = self.fleet.records.get("clusters", *ckey)
        fronts = self.fleet.cluster_fronts.get(ckey)
        if cluster is None or fronts is None:
            return
        members = {m["DBInstanceIdentifier"]: m for m in self.members(*ckey)
                   if m["DBInstanceStatus"] in ("available", "backing-up", "modifying")}
        writer = members.get(cluster["_writer"])
        readers = [m for i, m in sorted(members.items()) if i != cluster["_writer"]]
        for front, member in ((fronts[0], writer), (fronts[1], (readers or [writer])[0])):
            if member is None:
                front.close()
                continue
            port = member["_nodes"]["primary"]["port"]
            if front.target is None:
                with contextlib.suppress(OSError):
                    front.open(port)
            else:
                front.retarget(port)

    def start_failover(self, ckey: Key, target: str) -> None:
        account, region, _ = ckey
        self.fleet.records.update("clusters", *ckey, lambda c: c.update(Status="failing-over"))
        target_key = (account, region, target)

        def task(rt: Runtime):
            cluster = self.fleet.records.get("clusters", *ckey)
            old_writer = cluster["_writer"]
            self.fleet.records.event(account, region, "db-cluster", ckey[2],
                                     f"Started cluster failover to DB instance {target}.",
                                     ["failover"], cluster["DBClusterArn"])
            rt.primary.promote()
            self.fleet.records.update("clusters", *ckey, lambda c: c.update(_writer=target))
            self.point_cluster(ckey)
            for member in self.members(*ckey):
                if member["DBInstanceIdentifier"] == target:
                    continue
                self.rebuild_member(ckey, (account, region, member["DBInstanceIdentifier"]),
                                    rt)
            self.point_cluster(ckey)
            self.fleet.records.update("clusters", *ckey, lambda c: c.update(Status="available"))
            self.fleet.records.event(account, region, "db-cluster", ckey[2],
                                     f"Completed failover to DB instance {target}; "
                                     f"{old_writer} is a reader now.", ["failover"],
                                     cluster["DBClusterArn"])
        self.fleet.submit(target_key, task)

    def rebuild_member(self, ckey: Key, key: Key, writer: Runtime) -> None:
        """A member that followed the old writer starts over as a replica of the new one,
        on its own endpoint port."""
        rt = self.fleet.runtime(key)
        rt.busy += 1  # the supervisor must not "recover" the server being replaced
        try:
            self._rebuild(key, rt, writer)
        finally:
            rt.busy -= 1

    def _rebuild(self, key: Key, rt: Runtime, writer: Runtime) -> None:
        with rt.lock:
            record = self.fleet.record(key)
            old = record["_nodes"]["primary"]
            with contextlib.suppress(Exception):
                if rt.primary is not None:
                    rt.primary.stop()
            self.fleet.remove_node(record, old)
            node = {**self.fleet.new_node(key), "port": record["Endpoint"]["Port"]}
            self.fleet.update(key, _nodes={"primary": node, "standby": None})
            rt.primary = writer.primary.create_replica(self.fleet.spec(self.fleet.record(key),
                                                                       node))

    def member_gone(self, ckey: Key, identifier: str) -> None:
        def forget(c):
            if c["_writer"] == identifier:
                c["_writer"] = None
        self.fleet.records.update("clusters", *ckey, forget)
        self.point_cluster(ckey)

    def writer_lost(self, key: Key, record: dict) -> bool:
        """The supervisor found a cluster writer's server dead: fail over to a reader."""
        ckey = (key[0], key[1], record["DBClusterIdentifier"])
        cluster = self.fleet.records.get("clusters", *ckey)
        if cluster is None:
            return False
        if cluster["Status"] == "failing-over":
            return True  # the failover under way rebuilds this member
        if cluster["_writer"] != key[2]:
            return False
        readers = [m for m in self.members(*ckey) if m["DBInstanceIdentifier"] != key[2]
                   and m["DBInstanceStatus"] == "available"]
        if not readers:
            return False
        self.start_failover(ckey, readers[0]["DBInstanceIdentifier"])
        return True

