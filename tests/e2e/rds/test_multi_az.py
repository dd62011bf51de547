"""Multi-AZ: kill -9 the primary's server process; the same endpoint accepts writes again
within 30 s, with committed data intact, and the failover is in the instance's events."""

import time

import psycopg
from rdstest import kill9, postmaster_of, wait_status


def test_failover_after_kill_9_keeps_the_endpoint_and_the_data(rds, launch, connect):
    db = launch(MultiAZ=True, BackupRetentionPeriod=1)
    identifier = db["DBInstanceIdentifier"]
    assert db["MultiAZ"] and db["SecondaryAvailabilityZone"] != db["AvailabilityZone"]
    with connect(db) as conn:
        conn.execute("CREATE TABLE ledger (id int PRIMARY KEY, amount int)")
        conn.execute("INSERT INTO ledger SELECT g, g * 10 FROM generate_series(1, 50) g")
        primary = postmaster_of(conn)
    kill9(primary)
    killed = time.monotonic()
    while True:
        try:
            with connect(db) as conn:
                conn.execute("INSERT INTO ledger VALUES (51, 510)")
                total = conn.execute("SELECT count(*), sum(amount) FROM ledger").fetchone()
                now_primary = postmaster_of(conn)
            break
        except psycopg.Error:
            assert time.monotonic() - killed < 30, "the endpoint did not accept writes in 30 s"
            time.sleep(0.2)
    assert total == (51, sum(g * 10 for g in range(1, 52)))
    assert now_primary != primary
    after = wait_status(rds, identifier, "available")
    assert after["Endpoint"] == db["Endpoint"]
    assert after["AvailabilityZone"] == db["SecondaryAvailabilityZone"]
    deadline = time.monotonic() + 30
    while True:
        messages = [e["Message"] for e in rds.describe_events(
            SourceType="db-instance", SourceIdentifier=identifier)["Events"]]
        if any("new standby" in m for m in messages):
            break
        assert time.monotonic() < deadline, messages
        time.sleep(0.5)
    assert any(m.startswith("Multi-AZ instance failover started") for m in messages)
    assert "Multi-AZ instance failover completed" in messages
    # the rebuilt standby takes over again on a forced failover
    rds.reboot_db_instance(DBInstanceIdentifier=identifier, ForceFailover=True)
    wait_status(rds, identifier, "available")
    with connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM ledger").fetchone()[0] == 51
        assert postmaster_of(conn) != now_primary
    # Multi-AZ off, then on again, at once
    rds.modify_db_instance(DBInstanceIdentifier=identifier, MultiAZ=False, ApplyImmediately=True)
    single = wait_status(rds, identifier, "available")
    assert not single["MultiAZ"] and "SecondaryAvailabilityZone" not in single
    rds.modify_db_instance(DBInstanceIdentifier=identifier, MultiAZ=True, ApplyImmediately=True)
    multi = wait_status(rds, identifier, "available")
    assert multi["MultiAZ"] and multi["SecondaryAvailabilityZone"] != multi["AvailabilityZone"]
    with connect(db) as conn:
        conn.execute("INSERT INTO ledger VALUES (52, 520)")
    rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
