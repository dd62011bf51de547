"""The supervisor: one thread that looks at every instance of the fleet each second.

A dead primary fails over to the standby (Multi-AZ), or to a reader for an Aurora writer
(`on_writer_lost`), or is restarted; a dead standby is rebuilt. Daily base backups, pending
modifications in the maintenance window, the 7-day auto-start, the latest restorable time
and the minute's metrics happen here too, as tasks on the fleet's pool."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

from cloudlet import clock
from cloudlet.services.rds.modifications import apply_pending
from cloudlet.services.rds.rules import in_window
from cloudlet.services.rds.runtime import DAY, Fleet, Key, Runtime

log = logging.getLogger("cloudlet.rds")

AUTO_START_AFTER = 7 * DAY
METRICS_EVERY = 60.0
LATEST_EVERY = 2.0


class Supervisor:
    def __init__(self, fleet: Fleet):
        self.fleet = fleet
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # (key, record) -> True when an Aurora cluster fails over for its lost writer
        self.on_writer_lost: Callable[[Key, dict], bool] | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._supervise, name="rds-supervisor",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _supervise(self) -> None:
        while not self._stop.wait(1.0):
            for key, rt in list(self.fleet.runtimes.items()):
                try:
                    self.check(key, rt)
                except Exception:
                    log.exception("RDS supervisor: %s", key[2])

    def check(self, key: Key, rt: Runtime) -> None:
        record = self.fleet.record(key)
        if record is None:
            return
        status = record["DBInstanceStatus"]
        now = clock.timestamp()
        if status == "stopped":
            if not rt.busy and now - record.get("_stopped_at", now) >= AUTO_START_AFTER:
                self.auto_start(key)
            return
        if rt.busy or status not in ("available", "backing-up", "storage-optimization"):
            return
        if rt.primary is not None and not rt.primary.running():
            if record.get("DBClusterIdentifier") and self.on_writer_lost is not None \
                    and self.on_writer_lost(key, record):
                return
            if rt.standby is not None and rt.standby.running():
                self.fleet.submit(key, lambda rt: self.fleet.failover(
                    rt, "The primary DB instance process stopped; promoting the standby."))
            else:
                self.fleet.submit(key, self.fleet.recover)
            return
        if rt.standby is not None and not rt.standby.running():
            self.fleet.submit(key, self.fleet.rebuild_standby)
            return
        if record.get("PendingModifiedValues") and in_window(
                record.get("PreferredMaintenanceWindow", ""), clock.now()):
            self.fleet.update(key, DBInstanceStatus="modifying")
            self.fleet.submit(key, lambda rt: apply_pending(self.fleet, rt), failed="available")
            return
        if (record.get("BackupRetentionPeriod", 0) > 0 and rt.primary is not None
                and not record.get("ReadReplicaSourceDBInstanceIdentifier")
                and now - record.get("_last_backup", now) >= DAY):
            self.fleet.update(key, _last_backup=now)
            self.fleet.submit(key, self.automated_backup)
        if (record.get("BackupRetentionPeriod", 0) > 0 and rt.primary is not None
                and time.monotonic() - rt.latest_at >= LATEST_EVERY):
            rt.latest_at = time.monotonic()
            self.fleet.pool.submit(self.fleet.refresh_latest, rt)
        if time.monotonic() >= rt.next_metrics and rt.primary is not None:
            rt.next_metrics = time.monotonic() + METRICS_EVERY
            self.fleet.pool.submit(self.publish_metrics, key, rt, record)

    def automated_backup(self, rt: Runtime) -> None:
        self.fleet.event(rt.key, "Backing up DB instance", "backup")
        self.fleet.base_backup(rt)
        self.fleet.event(rt.key, "Finished DB Instance backup", "backup")

    def auto_start(self, key: Key) -> None:
        self.fleet.update(key, DBInstanceStatus="starting")
        self.fleet.event(key, "DB instance is being started due to it exceeding the maximum "
                         "allowed time being stopped.", "notification")

        def task(rt):
            self.fleet.start_servers(rt)
            self.fleet.update(key, DBInstanceStatus="available")
            self.fleet.event(key, "DB instance started", "notification")
        self.fleet.submit(key, task, failed="stopped")

    def publish_metrics(self, key: Key, rt: Runtime, record: dict) -> None:
        server = rt.primary
        if server is None:
            return
        try:
            if rt.cpu is None:  # a first sample to measure CPU against
                rt.cpu = (time.monotonic(), server.stats().get("cpu_seconds") or 0.0)
                time.sleep(1)
            stats = server.stats()
        except Exception:
            return
        vcpu = record.get("_vcpu", 2)
        data = []
        cpu_seconds = stats.get("cpu_seconds")
        if cpu_seconds is not None:
            now = time.monotonic()
            if rt.cpu is not None and now > rt.cpu[0]:
                used = max(0.0, cpu_seconds - rt.cpu[1]) / (now - rt.cpu[0]) / vcpu * 100
                data.append(("CPUUtilization", min(used, 100.0), "Percent"))
            rt.cpu = (now, cpu_seconds)
        if "connections" in stats:
            data.append(("DatabaseConnections", float(stats["connections"]), "Count"))
        if "storage_bytes" in stats:
            free = record["AllocatedStorage"] * 1024 ** 3 - stats["storage_bytes"]
            data.append(("FreeStorageSpace", float(max(free, 0)), "Bytes"))
        if record.get("ReadReplicaSourceDBInstanceIdentifier"):
            with contextlib.suppress(Exception):
                lag = server.replica_lag()
                if lag is not None:
                    data.append(("ReplicaLag", float(lag), "Seconds"))
        for name in ("read_iops", "write_iops"):
            if name in stats:
                metric = "ReadIOPS" if name == "read_iops" else "WriteIOPS"
                data.append((metric, float(stats[name]), "Count/Second"))
        if not data:
            return
        stamp = clock.now()
        self.fleet.bus.publish("cloudwatch:metrics", {
            "account": key[0], "region": key[1], "namespace": "AWS/RDS",
            "metric_data": [{"MetricName": name, "Value": value, "Unit": unit,
                             "Timestamp": stamp,
                             "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": key[2]}]}
                            for name, value, unit in data]})
