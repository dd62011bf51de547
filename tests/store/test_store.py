"""The state store: migrations, atomic blobs, and writes that survive kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

from cloudlet.store import Store


def test_migrations_bring_a_new_database_to_the_latest_version(tmp_path):
    store = Store.open(tmp_path)
    assert store.db.schema_version() >= 1
    assert store.db.query("SELECT name FROM sqlite_master WHERE name='records'")
    journal = store.db.query("PRAGMA journal_mode")[0][0]
    assert journal == "wal"


def test_reopening_does_not_migrate_twice(tmp_path):
    Store.open(tmp_path).close()
    store = Store.open(tmp_path)
    assert store.db.schema_version() >= 1


def test_blob_round_trip_and_delete(tmp_path):
    store = Store.open(tmp_path)
    blob_id, size = store.blobs.write([b"hello ", b"world"])
    assert size == 11
    assert store.blobs.read(blob_id) == b"hello world"
    store.blobs.delete(blob_id)
    assert not store.blobs.path(blob_id).exists()


def test_half_written_blobs_are_swept_and_never_visible(tmp_path):
    store = Store.open(tmp_path)
    blob_id, _ = store.blobs.write(b"x")
    leftover = store.blobs.path(blob_id).with_name("deadbeef.1234.tmp")
    leftover.write_bytes(b"partial")
    Store.open(tmp_path)
    assert not leftover.exists()
    assert store.blobs.read(blob_id) == b"x"


def test_failed_transaction_rolls_back(tmp_path):
    store = Store.open(tmp_path)
    try:
        with store.db.transaction() as conn:
            conn.execute("INSERT INTO records VALUES ('s','a','r','k','key','v')")
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert store.db.query("SELECT * FROM records") == []


WRITER = textwrap.dedent("""
    import sys, time
    from cloudlet.store import Store
    store = Store.open(sys.argv[1])
    for i in range(1000):
        blob_id, _ = store.blobs.write(b"payload-%d" % i)
        with store.db.transaction() as conn:
            conn.execute("INSERT INTO records VALUES ('t','a','r','blob',?,?)", (str(i), blob_id))
        print(i, flush=True)   # acknowledged
    time.sleep(60)
""")


def test_acknowledged_writes_survive_kill_9(tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path)],
                            stdout=subprocess.PIPE, text=True)
    acknowledged = -1
    for line in proc.stdout:
        acknowledged = int(line)
        if acknowledged >= 200:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    store = Store.open(tmp_path)
    rows = {int(r["key"]): r["value"] for r in store.db.query("SELECT key, value FROM records")}
    for i in range(acknowledged + 1):
        assert store.blobs.read(rows[i]) == b"payload-%d" % i
    # Every committed row points at a complete blob; nothing half-written is visible.
    for i, blob_id in rows.items():
        assert store.blobs.read(blob_id) == b"payload-%d" % i


def test_a_data_dir_whose_scheduler_table_predates_m0013_still_opens(tmp_path):
    """Before m0013 the Scheduler provider created its table itself, at version 12."""
    import importlib
    import sqlite3

    from cloudlet.store.db import _migration_modules

    conn = sqlite3.connect(tmp_path / "cloudlet.db", isolation_level=None)
    for version, module in _migration_modules():
        if version <= 12:
            importlib.import_module(module).migrate(conn)
    conn.execute("CREATE TABLE IF NOT EXISTS scheduler_schedules (account TEXT NOT NULL, "
                 "region TEXT NOT NULL, grp TEXT NOT NULL, name TEXT NOT NULL, doc TEXT NOT "
                 "NULL, next_fire REAL, PRIMARY KEY (account, region, grp, name))")
    conn.execute("INSERT INTO scheduler_schedules VALUES ('1', 'r', 'default', 'nightly', "
                 "'{}', NULL)")
    conn.execute("PRAGMA user_version=12")
    conn.close()
    store = Store.open(tmp_path)
    assert store.db.schema_version() >= 13
    assert [r["name"] for r in store.db.query("SELECT name FROM scheduler_schedules")] == [
        "nightly"]


def test_blobs_of_earlier_processes_and_the_clean_marker(tmp_path):
    first = Store.open(tmp_path)
    assert first.blobs.needs_sweep                      # no marker: a new (or crashed) dir
    old, _ = first.blobs.write(b"old")
    first.blobs.mark_clean()
    second = Store.open(tmp_path)
    assert not second.blobs.needs_sweep
    assert not (tmp_path / "blobs" / ".clean").exists()  # taken: a crash from now is seen
    new, _ = second.blobs.write(b"new")
    half = second.blobs.path(new).with_name("feed.1234.tmp")
    half.write_bytes(b"partial")
    assert new.endswith(second.blobs.epoch) and not old.endswith(second.blobs.epoch)
    assert [blob for batch in second.blobs.earlier() for blob in batch] == [old]


def test_s3_sweeps_only_unreferenced_blobs_of_earlier_processes(tmp_path):
    from cloudlet.services.s3.storage import S3Storage

    crashed = Store.open(tmp_path)
    kept, _ = crashed.blobs.write(b"object")
    part, _ = crashed.blobs.write(b"part")
    orphan, _ = crashed.blobs.write(b"orphan")
    storage = S3Storage(crashed)
    storage.create_bucket("b", "1", "r", 0.0)
    storage.put_object({"bucket": "b", "key": "k", "version_id": "null", "delete_marker": 0,
                        "size": 6, "etag": '"e"', "last_modified": 0.0, "blob": kept,
                        "storage_class": "STANDARD", "owner": "1"})
    storage.create_upload("u", "b", "big", 0.0, "1", {})
    storage.put_part("u", 1, '"p"', 4, part, 0.0, {})
    restarted = Store.open(tmp_path)
    assert restarted.blobs.needs_sweep
    writing, _ = restarted.blobs.write(b"not committed yet")
    assert S3Storage(restarted).sweep_orphans() == 1
    assert not restarted.blobs.path(orphan).exists()
    for blob in (kept, part, writing):
        assert restarted.blobs.path(blob).exists()
