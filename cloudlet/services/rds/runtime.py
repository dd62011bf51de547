"""The engine room: the running servers behind the records.

Each instance has a `Runtime`: its primary server, for Multi-AZ a synchronous standby, and
its TCP front.

The endpoint port: a new instance's primary listens on the endpoint port itself, so clients
reach the server with no hop in between (a userspace hop costs ~30 us per round trip here,
+40% on a simple query, whatever does the copying; socat measures the same). When a
failover promotes the standby, which listens on a private port, the front takes the
endpoint port at once and points at it; it stays in front (and moves on later failovers)
until the instance is deleted. A stopped instance has neither, so connections are refused.

Work that takes seconds (launching, restoring, stopping, snapshots, failover) runs on a
small worker pool, one task at a time per instance (the runtime's lock), never on a request
thread. The request sets the record's status (`creating`, `stopping`, ...) and the task
moves it on (`available`, `stopped`, ...). The supervisor (supervisor.py) watches the
servers and submits its work here too.

Times that age read the service clock; times handed to an engine (WAL timestamps) are real
epoch seconds, `real = service - clock.offset()`.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from cloudlet import clock
from cloudlet.ca import CertificateAuthority
from cloudlet.engines.db.front import Front
from cloudlet.engines.db.server import DatabaseServer, ServerSpec, engine_class
from cloudlet.events import Bus
from cloudlet.services.rds.endpoints import Endpoints
from cloudlet.services.rds.records import Records

log = logging.getLogger("cloudlet.rds")

Key = tuple[str, str, str]  # account, region, DBInstanceIdentifier
DAY = 86400.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def arn(key: Key, kind: str = "db") -> str:
    account, region, name = key
    return f"arn:aws:rds:{region}:{account}:{kind}:{name}"


@dataclass
class Runtime:
    key: Key
    front: Front
    primary: DatabaseServer | None = None
    standby: DatabaseServer | None = None
    lock: threading.RLock = field(default_factory=threading.RLock)
    busy: int = 0
    cpu: tuple[float, float] | None = None  # (monotonic time, cpu seconds) last sampled
    next_metrics: float = 0.0
    latest: float | None = None  # LatestRestorableTime (real), refreshed by the supervisor
    latest_at: float = 0.0


class Fleet:
    def __init__(self, root: Path, records: Records, bus: Bus):
        self.root = root
        self.records = records
        self.bus = bus
        self.ca = CertificateAuthority(root / "ca")
        self.endpoints = Endpoints(root)
        self.runtimes: dict[Key, Runtime] = {}
        self.cluster_fronts: dict[Key, tuple[Front, Front]] = {}  # writer, reader
        self.pool = ThreadPoolExecutor(max_workers=6, thread_name_prefix="rds-work")

    # -- records -------------------------------------------------------------------------

    def record(self, key: Key) -> dict | None:
        return self.records.get("instances", *key)

    def update(self, key: Key, **fields) -> dict | None:
        """Set fields; a task finishing never takes an instance out of `deleting`."""
        def change(record):
            if record.get("DBInstanceStatus") == "deleting":
                fields.pop("DBInstanceStatus", None)
            record.update(fields)
        return self.records.update("instances", *key, change)

    def event(self, key: Key, message: str, *categories: str) -> None:
        self.records.event(key[0], key[1], "db-instance", key[2], message, list(categories),
                           arn(key))

    # -- tasks ---------------------------------------------------------------------------

    def runtime(self, key: Key, port: int | None = None) -> Runtime:
        rt = self.runtimes.get(key)
        if rt is None:
            rt = self.runtimes[key] = Runtime(key, Front(port or 0))
        return rt

    def submit(self, key: Key, task: Callable[[Runtime], None], *, failed: str | None = None):
        """Run task(runtime) on the pool under the instance's lock. An exception logs, writes
        an event and, with `failed`, sets that status."""
        rt = self.runtime(key)
        rt.busy += 1

        def run():
            try:
                with rt.lock:
                    task(rt)
            except Exception as e:
                log.exception("RDS task for %s failed", key[2])
                with contextlib.suppress(Exception):
                    self.event(key, f"Cloudlet could not complete the operation: {e}",
                               "failure")
                    if failed:
                        self.update(key, DBInstanceStatus=failed)
            finally:
                rt.busy -= 1
        return self.pool.submit(run)

    # -- specs and servers ---------------------------------------------------------------

    def spec(self, record: dict, node: dict, *, archive: bool = True) -> ServerSpec:
        directory = Path(record["_dir"])
        return ServerSpec(
            data_dir=directory / node["name"], port=node["port"],
            master_username=record["MasterUsername"], master_password=record["_password"],
            db_name=record.get("DBName"), parameters=dict(record.get("_parameters") or {}),
            tls_cert=directory / "tls" / "server.crt", tls_key=directory / "tls" / "server.key",
            archive_dir=(Path(record["_backup_dir"]) / "archive"
                         if archive and record.get("BackupRetentionPeriod", 0) > 0
                         and not record.get("ReadReplicaSourceDBInstanceIdentifier") else None),
            memory_mb=record["_memory_mb"], max_connections=record.get("_max_connections"),
        )

    def new_node(self, key: Key) -> dict:
        def change(record):
            record["_seq"] = record.get("_seq", 0) + 1
        record = self.records.update("instances", *key, change)
        return {"name": f"n{record['_seq']}", "port": free_port()}

    def server(self, record: dict, node: dict) -> DatabaseServer:
        return engine_class(record["Engine"])(self.spec(record, node))

    def issue_certificate(self, record: dict) -> None:
        tls = Path(record["_dir"]) / "tls"
        self.ca.issue([record["Endpoint"]["Address"], *record.get("_extra_hosts", [])],
                      tls / "server.crt", tls / "server.key")

    # -- launching -----------------------------------------------------------------------

    def launch(self, key: Key, prepare: Callable[[dict, dict], DatabaseServer],
               after: Callable[[], None] | None = None) -> None:
        """A new instance: prepare(record, node) makes its primary's data directory (initdb,
        a restore, a replica) and returns the server, which listens on the endpoint port;
        then the standby, the first backup."""
        def task(rt: Runtime):
            record = self.record(key)
            self.issue_certificate(record)
            node = {**self.new_node(key), "port": record["Endpoint"]["Port"]}
            self.update(key, _nodes={"primary": node, "standby": None})
            record = self.record(key)
            rt.front.close()  # the port was held since the request; the server takes it now
            try:
                server = prepare(record, node)
                if not server.running():
                    server.start()
                rt.primary = server
                if record.get("MultiAZ"):
                    self.build_standby(rt)
                self.first_backup(rt)
            except Exception:
                # A failed instance keeps its record (AWS's `failed`), not its servers.
                self.discard_servers(rt)
                shutil.rmtree(record["_dir"], ignore_errors=True)
                shutil.rmtree(record["_backup_dir"], ignore_errors=True)
                self.update(key, _bases=[])
                raise
            self.update(key, DBInstanceStatus="available")
            self.event(key, "DB instance created", "creation")
            if after is not None:
                after()
        self.submit(key, task, failed="failed")

    def first_backup(self, rt: Runtime) -> None:
        record = self.record(rt.key)
        if self.spec(record, record["_nodes"]["primary"]).archive_dir is None:
            return
        self.update(rt.key, DBInstanceStatus="backing-up")
        self.event(rt.key, "Backing up DB instance", "backup")
        self.base_backup(rt)
        self.event(rt.key, "Finished DB Instance backup", "backup")

    def base_backup(self, rt: Runtime) -> None:
        record = self.record(rt.key)
        real = time.time()
        dest = Path(record["_backup_dir"]) / "base" / f"{int(real * 1000)}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        rt.primary.base_backup(dest)
        bases = [*record.get("_bases", []), {"time": real, "path": str(dest)}]
        self.update(rt.key, _bases=bases, _last_backup=clock.timestamp())
        self.prune_backups(rt.key)

    def prune_backups(self, key: Key) -> None:
        """Keep the base backups the retention window needs: every one inside it and the
        newest before it."""
        record = self.record(key)
        bases = sorted(record.get("_bases", []), key=lambda b: b["time"])
        horizon = time.time() - record.get("BackupRetentionPeriod", 0) * DAY
        keep = [b for b in bases if b["time"] >= horizon]
        older = [b for b in bases if b["time"] < horizon]
        if older:
            keep.insert(0, older[-1])
        for gone in older[:-1]:
            shutil.rmtree(gone["path"], ignore_errors=True)
        if len(keep) != len(bases):
            self.update(key, _bases=keep)

    def build_standby(self, rt: Runtime) -> None:
        record = self.record(rt.key)
        node = self.new_node(rt.key)
        spec = self.spec(record, node)
        rt.standby = rt.primary.create_replica(spec, synchronous=True)

        def change(r):
            r["_nodes"]["standby"] = node
        self.records.update("instances", *rt.key, change)

    def discard_servers(self, rt: Runtime) -> None:
        rt.front.close()
        for server in (rt.standby, rt.primary):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()
        rt.primary = rt.standby = None

    def remove_node(self, record: dict, node: dict | None) -> None:
        if node:
            shutil.rmtree(Path(record["_dir"]) / node["name"], ignore_errors=True)

    # -- failover ------------------------------------------------------------------------

    def failover(self, rt: Runtime, reason: str) -> None:
        """The standby becomes the primary behind the same endpoint; a new standby follows."""
        key = rt.key
        record = self.record(key)
        self.event(key, f"Multi-AZ instance failover started. {reason}", "failover")
        old, rt.primary, rt.standby = rt.primary, rt.standby, None
        with contextlib.suppress(Exception):
            old.stop()
        rt.primary.promote()
        nodes = record["_nodes"]

        def change(r):
            r["_nodes"] = {"primary": nodes["standby"], "standby": None}
            r["AvailabilityZone"], r["SecondaryAvailabilityZone"] = (
                r.get("SecondaryAvailabilityZone"), r.get("AvailabilityZone"))
        self.records.update("instances", *key, change)
        self.point_front(rt, nodes["standby"]["port"])
        self.event(key, "Multi-AZ instance failover completed", "failover")
        self.remove_node(record, nodes["primary"])
        self.build_standby(rt)
        self.event(key, "The secondary instance is available again: a new standby was "
                   "created from the new primary", "availability")

    def point_front(self, rt: Runtime, port: int) -> None:
        """The front takes the endpoint port (freed when the old primary died) and points
        at `port`; already in front, it just moves."""
        if rt.front.target is not None:
            rt.front.retarget(port)
            return
        deadline = time.monotonic() + 10
        while True:
            try:
                rt.front.open(port)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def fronted(self, record: dict) -> bool:
        return record["_nodes"]["primary"]["port"] != record["Endpoint"]["Port"]

    def recover(self, rt: Runtime) -> None:
        """A single-AZ primary that died is restarted (crash recovery)."""
        with contextlib.suppress(Exception):
            rt.primary.stop()
        rt.primary.start()
        self.event(rt.key, "DB instance restarted", "availability")

    def rebuild_standby(self, rt: Runtime) -> None:
        record = self.record(rt.key)
        with contextlib.suppress(Exception):
            rt.standby.stop()
        rt.standby = None
        self.remove_node(record, record["_nodes"].get("standby"))
        self.build_standby(rt)
        self.event(rt.key, "The standby was rebuilt", "availability")

    # -- lifecycle -----------------------------------------------------------------------

    def start_servers(self, rt: Runtime) -> None:
        record = self.record(rt.key)
        nodes = record["_nodes"]
        rt.primary = self.server(record, nodes["primary"])
        rt.primary.start()
        if nodes.get("standby"):
            rt.standby = self.server(record, nodes["standby"])
            try:
                rt.standby.start()
            except Exception:
                log.exception("standby of %s did not start; rebuilding it", rt.key[2])
                self.rebuild_standby(rt)
        if self.fronted(record):
            self.point_front(rt, nodes["primary"]["port"])

    def stop_servers(self, rt: Runtime) -> None:
        rt.front.close()
        for server in (rt.standby, rt.primary):
            if server is not None:
                with contextlib.suppress(Exception):
                    server.stop()

    def restart(self, rt: Runtime) -> None:
        """Restart the servers with their records' current settings (class, parameters)."""
        record = self.record(rt.key)
        for server, name in ((rt.primary, "primary"), (rt.standby, "standby")):
            if server is None:
                continue
            server.stop()
            server.spec = self.spec(record, record["_nodes"][name])
            server.start()

    def latest_restorable(self, rt: Runtime | None, record: dict, *,
                          fresh: bool = False) -> float | None:
        """Real epoch seconds: asked of the engine when `fresh` (a restore, a stop), else
        what the supervisor last learned (every few seconds; describing stays cheap)."""
        if rt is not None and rt.primary is not None and record.get("BackupRetentionPeriod"):
            if fresh:
                self.refresh_latest(rt)
            if rt.latest is not None:
                return rt.latest
        return record.get("_latest_restorable")

    def refresh_latest(self, rt: Runtime) -> None:
        server = rt.primary
        rt.latest_at = time.monotonic()
        try:
            latest = server.latest_restorable_time() if server is not None else None
        except Exception:
            latest = None
        if latest is not None:
            rt.latest = latest

    # -- stopping ------------------------------------------------------------------------

    def stop(self) -> None:
        # Queued work is dropped; work under way (a launch) finishes first, briefly, so it
        # starts no server after the servers are stopped.
        draining = threading.Thread(target=self.pool.shutdown,
                                    kwargs={"wait": True, "cancel_futures": True}, daemon=True)
        draining.start()
        draining.join(15)
        threads = []
        for rt in list(self.runtimes.values()):
            t = threading.Thread(target=self.stop_servers, args=(rt,), daemon=True)
            t.start()
            threads.append(t)
        for writer, reader in self.cluster_fronts.values():
            writer.close()
            reader.close()
        for t in threads:
            t.join(20)
        hosts = [r["Endpoint"]["Address"] for r in self.records.list("instances")
                 if r.get("Endpoint")]
        self.endpoints.remove(*hosts)


def resource_id() -> str:
    return "db-" + uuid.uuid4().hex.upper()[:26]
