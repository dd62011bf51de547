"""Engine-level figures (printed, never asserted): cold start of a Python hello world, warm
invokes, and 100 concurrent invokes of a 50 ms function. Run with -s to see them."""

from __future__ import annotations

import statistics
import threading
import time

from cloudlet.engines.lambda_ import LocalEngine
from tests.engines.test_lambda_support import call, spec, write_code

HELLO = "def handler(event, context):\n    return {'statusCode': 200, 'body': 'Hello, world!'}\n"


def _pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def test_figures(tmp_path):
    engine = LocalEngine(idle_seconds=600)
    try:
        code = write_code(tmp_path / "hello", {"app.py": HELLO})
        cold, inits = [], []
        for _ in range(10):
            fn = spec(code)
            started = time.perf_counter()
            result = call(engine, fn)
            cold.append((time.perf_counter() - started) * 1000)
            assert result.error is None and result.init_ms is not None
            inits.append(result.init_ms)
            engine.retire(fn.key)
        fn = spec(code)
        call(engine, fn)
        warm = []
        for _ in range(500):
            started = time.perf_counter()
            result = call(engine, fn)
            warm.append((time.perf_counter() - started) * 1000)
            assert result.error is None
        slow = write_code(tmp_path / "slow", {"app.py": (
            "import time\ndef handler(event, context):\n    time.sleep(0.05)\n    return 1\n")})
        fn = spec(slow)
        rounds = [_parallel(engine, fn, 100) for _ in range(2)]  # cold, then warm
        for _, errors, _ in rounds:
            assert not errors, errors[:3]
        print(f"\ncold start (invoke to response) p50 {statistics.median(cold):.1f} ms, "
              f"min {min(cold):.1f} ms; Init Duration p50 {statistics.median(inits):.1f} ms")
        print(f"warm invoke p50 {_pct(warm, 0.5):.2f} ms, p99 {_pct(warm, 0.99):.2f} ms")
        for name, (latencies, _, wall) in zip(("cold", "warm"), rounds, strict=True):
            print(f"100 concurrent 50 ms invokes ({name}): p50 {_pct(latencies, 0.5):.1f} ms, "
                  f"max {max(latencies):.1f} ms, wall {wall:.1f} ms, "
                  f"environments {engine.environments(fn.key)}")
    finally:
        engine.shutdown()


def _parallel(engine, fn, n):
    latencies, errors = [], []
    lock = threading.Lock()

    def one():
        started = time.perf_counter()
        result = call(engine, fn)
        with lock:
            latencies.append((time.perf_counter() - started) * 1000)
            if result.error:
                errors.append(result.payload)

    threads = [threading.Thread(target=one) for _ in range(n)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, errors, (time.perf_counter() - began) * 1000
