"""Helpers the RDS tests share (conftest puts this directory on sys.path)."""

import os
import time

PASSWORD = "Sup3r-secret!"


def wait_for(rds, identifier: str, waiter: str = "db_instance_available") -> dict:
    from botocore.exceptions import WaiterError

    try:
        rds.get_waiter(waiter).wait(DBInstanceIdentifier=identifier,
                                    WaiterConfig={"Delay": 0.5, "MaxAttempts": 240})
    except WaiterError:
        events = rds.describe_events(SourceType="db-instance", SourceIdentifier=identifier,
                                     Duration=60)["Events"]
        raise AssertionError([e["Message"] for e in events]) from None
    if waiter == "db_instance_deleted":
        return {}
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]


def wait_status(rds, identifier: str, status: str, timeout: float = 120) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        db = rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0]
        if db["DBInstanceStatus"] == status:
            return db
        assert db["DBInstanceStatus"] != "failed", db
        assert time.monotonic() < deadline, f"{identifier} stayed {db['DBInstanceStatus']}"
        time.sleep(0.3)


def postmaster_of(conn) -> int:
    """The pid of the server process behind a connection: its backend's parent."""
    backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
    with open(f"/proc/{backend}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def kill9(pid: int) -> None:
    os.kill(pid, 9)
