"""The DuckDB event store: ids, parallel inserts, reopening, deletes."""

import threading

from cloudlet.services.logs.eventstore import EventStore


def rows(store: EventStore) -> list[tuple]:
    return store.cursor().execute(
        "SELECT log_stream, timestamp, event_id, message FROM log_events ORDER BY event_id"
    ).fetchall()


def test_ids_are_unique_and_consecutive_per_batch_across_threads(tmp_path):
    store = EventStore(tmp_path)
    firsts = []

    def write(k: int) -> None:
        for i in range(10):
            firsts.append(store.insert("a", "r", "g", f"s{k}", list(range(100)),
                                       [f"{k}-{i}-{j}" for j in range(100)], 1))

    threads = [threading.Thread(target=write, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stored = rows(store)
    assert len(stored) == 4000
    assert [r[2] for r in stored] == list(range(1, 4001))
    assert sorted(firsts) == list(range(1, 4001, 100))
    # within a batch, ids follow the events' order
    by_id = {r[2]: r for r in stored}
    for first in firsts:
        batch = [by_id[first + j] for j in range(100)]
        assert len({r[0] for r in batch}) == 1
        assert [r[1] for r in batch] == list(range(100))
    store.close()


def test_reopened_store_continues_ids(tmp_path):
    store = EventStore(tmp_path)
    store.insert("a", "r", "g", "s", [1, 2], ["x", "y"], 1)
    store.close()
    again = EventStore(tmp_path)
    assert again.insert("a", "r", "g", "s", [3], ["z"], 1) == 3
    assert [r[3] for r in rows(again)] == ["x", "y", "z"]
    again.close()


def test_messages_with_nul_and_commas(tmp_path):
    store = EventStore(tmp_path)
    store.insert("a", "r", "g", "s", [1, 2], ["a\x00b", "c,d"], 1)
    store.insert("a", "r", "g", "s", [3, 4], ["e,f", "g"], 1)
    assert [r[3] for r in rows(store)] == ["a\x00b", "c,d", "e,f", "g"]
    store.close()


def test_deletes(tmp_path):
    store = EventStore(tmp_path)
    store.insert("a", "r", "g", "s1", [1, 5], ["old", "new"], 1)
    store.insert("a", "r", "g", "s2", [1], ["other"], 1)
    store.insert("a", "r", "h", "s1", [1], ["another group"], 1)
    assert store.delete("a", "r", "g", before=3) == 2
    assert store.delete("a", "r", "g", stream="s1") == 1
    assert [r[3] for r in rows(store)] == ["another group"]
    store.checkpoint()
    store.close()
