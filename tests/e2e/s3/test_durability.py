"""Durability: acknowledged PUTs survive kill -9; nothing half-written becomes visible."""

import hashlib
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from botocore.config import Config


def body_for(i: int) -> bytes:
    size = [1000, 70_000, 1_500_000][i % 3] + i
    seed = hashlib.sha256(str(i).encode()).digest()
    return (seed * (size // len(seed) + 1))[:size]


def test_acknowledged_puts_survive_kill9(fresh_cloudlet, tmp_path):
    server = fresh_cloudlet()
    config = Config(retries={"max_attempts": 1}, max_pool_connections=32,
                    connect_timeout=5, read_timeout=20)
    s3 = server.client("s3", config=config)
    s3.create_bucket(Bucket="durable")
    acknowledged: dict[str, str] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def put(i: int) -> None:
        if killed.is_set():
            return
        key = f"obj/{i:04}"
        body = body_for(i)
        try:
            result = s3.put_object(Bucket="durable", Key=key, Body=body)
        except Exception:
            return
        with lock:
            acknowledged[key] = result["ETag"]

    def killer() -> None:
        while len(acknowledged) < 200:
            time.sleep(0.005)
        server.kill9()
        killed.set()

    watcher = threading.Thread(target=killer)
    watcher.start()
    with ThreadPoolExecutor(32) as pool:
        list(pool.map(put, range(500)))
    watcher.join(60)
    assert killed.is_set(), "the server was not killed mid-way"
    assert 200 <= len(acknowledged) < 500

    restarted = fresh_cloudlet(data_dir=server.data_dir)
    s3 = restarted.client("s3")
    for key, etag in acknowledged.items():
        got = s3.get_object(Bucket="durable", Key=key, ChecksumMode="ENABLED")
        body = got["Body"].read()
        assert body == body_for(int(key.split("/")[1])), key
        assert got["ETag"] == etag == f'"{hashlib.md5(body).hexdigest()}"'
    listed = [o for page in s3.get_paginator("list_objects_v2").paginate(Bucket="durable")
              for o in page.get("Contents", [])]
    for item in listed:  # an unacknowledged PUT is either absent or complete
        expected = body_for(int(item["Key"].split("/")[1]))
        assert item["Size"] == len(expected)
        assert item["ETag"] == f'"{hashlib.md5(expected).hexdigest()}"'
        if item["Key"] not in acknowledged:
            assert s3.get_object(Bucket="durable", Key=item["Key"])["Body"].read() == expected
    assert set(acknowledged) <= {o["Key"] for o in listed}
    leftovers = [p for p in server.data_dir.rglob("*.tmp")]
    assert leftovers == [], leftovers
