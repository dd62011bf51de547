"""S3 benchmark: Cloudlet against moto's server, in the same run, on this machine.

Measures:
  - 4 KiB PUT and GET objects/s and p50/p99 latency at 16 connections, with `wrk` and
    pre-signed URLs (so the load client does no signing), for Cloudlet and moto;
  - 1 GiB PUT (with Content-MD5 and x-amz-checksum-crc32 verified by the server) and
    1 GiB GET throughput on loopback, with curl, for Cloudlet (moto holds objects in
    memory; it is left out of the large runs);
  - the time of one ListObjectsV2 page of 1000 keys from a bucket of BENCH_LIST_KEYS keys
    (1,000,000 by default), filled before the server starts through the S3 provider's own
    data layer (`S3Storage.put_objects`), since a million fsynced PUTs take an hour;
  - Cloudlet's resident memory (VmRSS) and its peak (VmHWM) after each of BENCH_CYCLES
    1 GiB PUT+GET cycles.

Prints figures and ratios; asserts nothing. Run: .venv/bin/python bench/s3.py
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import boto3
import requests
from botocore.config import Config

sys.path.insert(0, str(Path(__file__).parent))
from gateway import REPO, free_port, start_moto, wait_until_serving, wrk  # noqa: E402

DURATION = os.environ.get("BENCH_DURATION", "10s")
LIST_KEYS = int(os.environ.get("BENCH_LIST_KEYS", "1000000"))
HUGE = int(os.environ.get("BENCH_HUGE_GIB", "5")) * 1024**3
LARGE = int(os.environ.get("BENCH_LARGE_MIB", "1024")) * 1024 * 1024
CYCLES = int(os.environ.get("BENCH_CYCLES", "5"))
SMALL = os.urandom(4096)


def client(endpoint: str):
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="test", aws_secret_access_key="test",
                        config=Config(signature_version="s3v4", max_pool_connections=32))


def put_script(directory: Path) -> Path:
    body = directory / "small.bin"
    body.write_bytes(SMALL)
    script = directory / "put.lua"
    script.write_text('wrk.method = "PUT"\n'
                      f'local f = io.open("{body}", "rb")\n'
                      'wrk.body = f:read("*all")\nf:close()\n'
                      'wrk.headers["Content-Type"] = "application/octet-stream"\n')
    return script


def small_objects(endpoint: str, script: Path) -> dict:
    s3 = client(endpoint)
    bucket = "bench-small"
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="small", Body=SMALL)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "put"},
                                        ExpiresIn=3600)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "small"},
                                        ExpiresIn=3600)
    assert requests.put(put_url, data=SMALL).status_code == 200
    assert requests.get(get_url).content == SMALL
    return {"put": wrk(put_url, 16, DURATION, script), "get": wrk(get_url, 16, DURATION)}


def memory(pid: int) -> tuple[float, float]:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    mib = lambda name: int(fields[name].split()[0]) / 1024  # noqa: E731
    return mib("VmRSS"), mib("VmHWM")


def curl(args: list[str]) -> float:
    """Seconds the transfer took, as curl measured it."""
    out = subprocess.run(["curl", "-sS", "-f", "-o", "/dev/null", "-w", "%{time_total}", *args],
                         capture_output=True, text=True, check=True).stdout
    return float(out)


def large_object(endpoint: str, path: Path, md5_b64: str, crc_b64: str, key: str) -> tuple[float, float]:
    s3 = client(endpoint)
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench-large", "Key": key},
                                        ExpiresIn=3600)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench-large", "Key": key},
                                        ExpiresIn=3600)
    put_s = curl(["-T", str(path), "-H", f"Content-MD5: {md5_b64}",
                  "-H", f"x-amz-checksum-crc32: {crc_b64}", "-H", "Expect:", put_url])
    get_s = curl([get_url])
    return put_s, get_s


def make_large(directory: Path) -> tuple[Path, str, str]:
    path = directory / "large.bin"
    md5, crc = hashlib.md5(), 0
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as f:
        for i in range(LARGE // len(block)):
            piece = block[:8] + i.to_bytes(8, "big") + block[16:]
            f.write(piece)
            md5.update(piece)
            crc = zlib.crc32(piece, crc)
    return (path, base64.b64encode(md5.digest()).decode(),
            base64.b64encode(crc.to_bytes(4, "big")).decode())


def fill_bucket(data_dir: Path, bucket: str, count: int) -> float:
    """`count` empty objects in `bucket`, written through S3Storage (the provider's data
    layer) into the data directory before the server starts."""
    sys.path.insert(0, str(REPO))
    from cloudlet.services.s3.storage import S3Storage
    from cloudlet.store import Store

    store = Store.open(data_dir)
    storage = S3Storage(store)
    start = time.monotonic()
    storage.create_bucket(bucket, "000000000000", "us-east-1", time.time())
    step = 20000
    for first in range(0, count, step):
        storage.put_objects([{
            "bucket": bucket, "key": f"dir{i % 100:03}/key{i:09}", "version_id": "null",
            "delete_marker": False, "size": 0, "etag": '"d41d8cd98f00b204e9800998ecf8427e"',
            "last_modified": time.time(), "blob": None, "storage_class": "STANDARD",
            "owner": "000000000000", "metadata": {}, "content_type": "binary/octet-stream",
            "checksums": {"crc64nvme": "AAAAAAAAAAA="}, "checksum_type": "FULL_OBJECT",
        } for i in range(first, min(first + step, count))])
    store.close()
    return time.monotonic() - start


def start_cloudlet(port: int, data_dir: Path) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-m", "cloudlet", "up", "--port", str(port), "--data-dir",
         str(data_dir), "--log-level", "warning"], cwd=REPO, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    wait_until_serving(f"http://127.0.0.1:{port}/_cloudlet/health", proc)
    return proc


def warm(pid: int, endpoint: str) -> None:
    """Until the warm-up thread (models, codecs) is done: resident memory stops moving."""
    client(endpoint).list_buckets()
    last = 0.0
    for _ in range(30):
        time.sleep(1)
        rss = memory(pid)[0]
        if abs(rss - last) < 1:
            return
        last = rss


def huge_object(endpoint: str, pid: int, directory: Path) -> None:
    path = directory / "huge.bin"
    block = os.urandom(8 * 1024 * 1024)
    with open(path, "wb") as f:
        for i in range(HUGE // len(block)):
            f.write(block[:8] + i.to_bytes(8, "big") + block[16:])
    s3 = client(endpoint)
    s3.create_bucket(Bucket="bench-huge")
    put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "bench-huge", "Key": "k"},
                                        ExpiresIn=3600)
    get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "bench-huge", "Key": "k"},
                                        ExpiresIn=3600)
    rss, peak = memory(pid)
    print(f"\n{HUGE // 2**30} GiB object, one PUT then one GET (curl, loopback):")
    print(f"  before: VmRSS {rss:.0f} MiB, VmHWM {peak:.0f} MiB")
    put_s = curl(["-T", str(path), "-H", "Expect:", put_url])
    rss, peak = memory(pid)
    print(f"  PUT {HUGE / put_s / 1e6:.0f} MB/s   after: VmRSS {rss:.0f} MiB, VmHWM {peak:.0f} MiB")
    get_s = curl([get_url])
    rss, peak = memory(pid)
    print(f"  GET {HUGE / get_s / 1e6:.0f} MB/s   after: VmRSS {rss:.0f} MiB, VmHWM {peak:.0f} MiB")
    path.unlink()


def list_page_ms(endpoint: str, bucket: str, runs: int = 20) -> list[float]:
    s3 = client(endpoint)
    times = []
    for n in range(runs):
        url = s3.generate_presigned_url("list_objects_v2", Params={
            "Bucket": bucket, "MaxKeys": 1000, "StartAfter": f"dir{(n * 7) % 100:03}/"})
        session = requests.Session()
        session.get(url)
        t0 = time.perf_counter()
        response = session.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200 and response.text.count("<Key>") == min(
            1000, LIST_KEYS - LIST_KEYS // 100 * ((n * 7) % 100))
    return sorted(times)


def main() -> None:
    if shutil.which("wrk") is None or shutil.which("curl") is None:
        sys.exit("bench: needs wrk and curl")
    os.environ.setdefault("AWS_EC2_METADATA_DISABLED", "true")
    print(f"machine: {platform.platform()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    work = Path(tempfile.mkdtemp(prefix="bench-s3-"))
    data_dir = work / "data"
    script = put_script(work)
    print(f"\nfilling bench-list with {LIST_KEYS:,} keys before the server starts ...")
    fill_s = fill_bucket(data_dir, "bench-list", LIST_KEYS)
    print(f"  filled in {fill_s:.0f} s (S3Storage.put_objects, 20,000 per transaction)")
    cloudlet_port, moto_port = free_port(), free_port()
    cloudlet = start_cloudlet(cloudlet_port, data_dir)
    moto = start_moto(moto_port)
    endpoint = f"http://127.0.0.1:{cloudlet_port}"
    warm(cloudlet.pid, endpoint)
    rss, peak = memory(cloudlet.pid)
    print(f"server memory once warm: VmRSS {rss:.0f} MiB, VmHWM {peak:.0f} MiB")
    try:
        small = {"cloudlet": small_objects(endpoint, script),
                 "moto": small_objects(f"http://127.0.0.1:{moto_port}", script)}
        moto.terminate()
        print(f"\n4 KiB objects, wrk -t1 -c16 -d{DURATION}, pre-signed URLs:")
        for op in ("put", "get"):
            for name in ("cloudlet", "moto"):
                r = small[name][op]
                print(f"  {op.upper():<4}{name:<9} {r['rps']:>8.0f} objects/s   p50 {r['p50_ms']:.2f} ms"
                      f"   p99 {r['p99_ms']:.2f} ms   non-2xx {r['non_2xx']}")
            ratio = small["cloudlet"][op]["rps"] / small["moto"][op]["rps"]
            print(f"  {op.upper()} ratio cloudlet/moto: {ratio:.1f}x")

        path, md5_b64, crc_b64 = make_large(work)
        client(endpoint).create_bucket(Bucket="bench-large")
        print(f"\n{LARGE // 2**20} MiB objects with curl on loopback (Cloudlet only), "
              f"{CYCLES} cycles:")
        print(f"  memory before: VmRSS {memory(cloudlet.pid)[0]:.0f} MiB")
        for cycle in range(CYCLES):
            put_s, get_s = large_object(endpoint, path, md5_b64, crc_b64, f"large-{cycle % 2}")
            rss, peak = memory(cloudlet.pid)
            print(f"  cycle {cycle + 1}: PUT (MD5+CRC32 verified) {LARGE / put_s / 1e6:.0f} MB/s   "
                  f"GET {LARGE / get_s / 1e6:.0f} MB/s   VmRSS {rss:.0f} MiB   VmHWM {peak:.0f} MiB")
        path.unlink()

        print(f"\nListObjectsV2, MaxKeys=1000, bucket of {LIST_KEYS:,} keys:")
        times = list_page_ms(endpoint, "bench-list")
        print(f"  page time: median {times[len(times) // 2]:.1f} ms, max {times[-1]:.1f} ms "
              f"over {len(times)} pages (request to full response, pre-signed, keep-alive)")
        huge_object(endpoint, cloudlet.pid, work)
        rss, peak = memory(cloudlet.pid)
        print(f"\nserver memory at the end: VmRSS {rss:.0f} MiB, VmHWM {peak:.0f} MiB")
    finally:
        for proc in (cloudlet, moto):
            proc.terminate()
            proc.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
