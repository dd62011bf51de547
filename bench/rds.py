"""RDS benchmark: real PostgreSQL instances behind Cloudlet's RDS API, on this machine.

Measures:
  - CreateDBInstance to `available` (postgres, single-AZ, with automated backups), median
    of BENCH_RDS_CREATES runs (3);
  - RestoreDBInstanceToPointInTime of a BENCH_RDS_MB (100) MB database to `available`;
  - Multi-AZ failover: kill -9 of the primary's server process until a write succeeds on
    the same endpoint;
  - the endpoint's overhead: p50/p99 of `SELECT 1` round trips through the endpoint vs the
    server's own port (both over TLS), BENCH_RDS_QUERIES (5000), for an instance whose
    primary listens on the endpoint and for one whose endpoint is the TCP front (after a
    failover).

moto has no database servers (its RDS stores records and hands out a name that resolves
nowhere), so there is no peer to run. Prints figures; asserts nothing.
Run: .venv/bin/python bench/rds.py
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))
from harness import CloudletProcess  # noqa: E402

CREATES = int(os.environ.get("BENCH_RDS_CREATES", "3"))
DATABASE_MB = int(os.environ.get("BENCH_RDS_MB", "100"))
QUERIES = int(os.environ.get("BENCH_RDS_QUERIES", "5000"))
PASSWORD = "Bench-password-1"


def wait_available(rds, identifier: str, timeout: float = 600) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        if db["DBInstanceStatus"] == "available":
            return db
        if db["DBInstanceStatus"] == "failed" or time.monotonic() > deadline:
            raise RuntimeError(f"{identifier} is {db['DBInstanceStatus']}")
        time.sleep(0.05)


def create(rds, identifier: str, **params) -> float:
    t0 = time.monotonic()
    rds.create_db_instance(DBInstanceIdentifier=identifier, Engine="postgres",
                           DBInstanceClass="db.t3.micro", AllocatedStorage=20,
                           MasterUsername="master", MasterUserPassword=PASSWORD,
                           **{"BackupRetentionPeriod": 1, **params})
    wait_available(rds, identifier)
    return time.monotonic() - t0


def connect(db: dict, ca: str, **kwargs):
    args = {"host": db["Endpoint"]["Address"], "port": db["Endpoint"]["Port"],
            "sslmode": "verify-full", "sslrootcert": ca, **kwargs}
    return psycopg.connect(user="master", password=PASSWORD, dbname="postgres",
                           connect_timeout=5, autocommit=True, **args)


def round_trips(first, second, count: int) -> tuple[list[float], list[float]]:
    """Round trips of `SELECT 1` on two connections, interleaved so that both see the same
    load on a busy machine."""
    times: tuple[list[float], list[float]] = ([], [])
    for _ in range(200):
        first.execute("SELECT 1").fetchone()
        second.execute("SELECT 1").fetchone()
    for _ in range(count):
        for conn, bucket in ((first, times[0]), (second, times[1])):
            t0 = time.perf_counter()
            conn.execute("SELECT 1").fetchone()
            bucket.append(time.perf_counter() - t0)
    return times


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def main() -> None:
    root = Path(tempfile.mkdtemp(prefix="cloudlet-bench-rds-"))
    server = CloudletProcess(data_dir=root / "data").start()
    print(f"RDS benchmark on {platform.node()} ({os.cpu_count()} CPUs), "
          f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    try:
        rds = server.client("rds")
        ca = str(root / "data" / "rds" / "ca" / "rds-ca-bundle.pem")

        times = [create(rds, f"create-{i}") for i in range(CREATES)]
        print(f"CreateDBInstance -> available (postgres, backups on): median "
              f"{statistics.median(times):.2f} s  (runs: "
              f"{', '.join(f'{t:.2f}' for t in times)})")
        for i in range(CREATES):
            rds.delete_db_instance(DBInstanceIdentifier=f"create-{i}", SkipFinalSnapshot=True)

        create(rds, "front")
        db = wait_available(rds, "front")

        # -- point-in-time restore of a DATABASE_MB database -----------------------------
        with connect(db, ca) as conn:
            rows = DATABASE_MB * 1024 * 1024 // 1100
            conn.execute("CREATE TABLE filler (id int PRIMARY KEY, pad text)")
            conn.execute("INSERT INTO filler SELECT g, repeat(md5(g::text), 32) "
                         "FROM generate_series(1, %s) g", (rows,))
            size = conn.execute("SELECT pg_database_size('postgres')").fetchone()[0]
        time.sleep(1.1)
        moment = dt.datetime.now(dt.UTC)
        time.sleep(1.1)
        with connect(db, ca) as conn:
            conn.execute("DELETE FROM filler WHERE id <= 10")
        while True:
            latest = wait_available(rds, "front").get("LatestRestorableTime")
            if latest and latest >= moment:
                break
            time.sleep(0.5)
        t0 = time.monotonic()
        rds.restore_db_instance_to_point_in_time(SourceDBInstanceIdentifier="front",
                                                 TargetDBInstanceIdentifier="restored",
                                                 RestoreTime=moment)
        restored = wait_available(rds, "restored")
        pitr = time.monotonic() - t0
        with connect(restored, ca) as conn:
            count = conn.execute("SELECT count(*) FROM filler").fetchone()[0]
        print(f"RestoreDBInstanceToPointInTime of a {size / 1e6:.0f} MB database -> "
              f"available: {pitr:.2f} s (rows as of T: {count} of {rows})")

        # -- Multi-AZ failover -------------------------------------------------------------
        create(rds, "multi", MultiAZ=True)
        db = wait_available(rds, "multi")
        with connect(db, ca) as conn:
            conn.execute("CREATE TABLE w (v int)")
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        with open(f"/proc/{backend}/stat") as f:
            postmaster = int(f.read().rsplit(")", 1)[1].split()[1])
        os.kill(postmaster, 9)
        t0 = time.monotonic()
        while True:
            try:
                with connect(db, ca) as conn:
                    conn.execute("INSERT INTO w VALUES (1)")
                break
            except psycopg.Error:
                time.sleep(0.05)
        print(f"Multi-AZ failover, kill -9 of the primary -> a write on the same endpoint: "
              f"{time.monotonic() - t0:.2f} s")

        # -- the endpoint's overhead -------------------------------------------------------
        # Before a failover the primary listens on the endpoint port itself; after one, the
        # TCP front holds the endpoint and copies bytes to the promoted standby's port.
        wait_available(rds, "multi")
        for label, name in (("primary on the endpoint", "front"),
                            ("through the front after a failover", "multi")):
            db = wait_available(rds, name)
            with connect(db, ca, sslmode="require") as through_endpoint:
                private = int(through_endpoint.execute("SHOW port").fetchone()[0])
                with connect(db, ca, host="127.0.0.1", port=private,
                             sslmode="require") as direct:
                    endpoint, direct_times = round_trips(through_endpoint, direct, QUERIES)
            e50, d50 = pct(endpoint, 0.5) * 1e6, pct(direct_times, 0.5) * 1e6
            print(f"SELECT 1 round trip ({label}), {QUERIES} queries: endpoint p50 {e50:.0f} us"
                  f" p99 {pct(endpoint, 0.99) * 1e6:.0f} us; server's own port p50 {d50:.0f} us"
                  f" p99 {pct(direct_times, 0.99) * 1e6:.0f} us; overhead at p50 "
                  f"{(e50 / d50 - 1) * 100:+.1f}%")
    finally:
        server.stop(timeout=120)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
