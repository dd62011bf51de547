"""Invocations' logs and metrics, batched.

Every invocation has 3-10 log lines and a handful of metric values; handing each to the
bus at once would make Logs and CloudWatch store them one invocation at a time. They are
gathered here and flushed every FLUSH seconds (and at shutdown): one `logs:put` per log
stream, one `cloudwatch:metrics` per account and region with each metric's values as
StatisticValues (SampleCount, Sum, Minimum, Maximum), as AWS's own services publish them.
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict

FLUSH = 0.1
log = logging.getLogger("cloudlet.lambda.telemetry")


class Telemetry:
    def __init__(self, bus):
        self.bus = bus
        self._lock = threading.Lock()
        self._logs: dict[tuple, list[dict]] = defaultdict(list)
        self._metrics: dict[tuple, dict[tuple, list[float]]] = defaultdict(dict)
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="lambda-telemetry",
                                            daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.flush()

    def log(self, account: str, region: str, group: str, stream: str,
            events: list[dict]) -> None:
        with self._lock:
            self._logs[(account, region, group, stream)].extend(events)
        self._started()

    def metric(self, account: str, region: str, name: str, dimensions: list[dict],
               value: float, unit: str) -> None:
        key = (name, tuple((d["Name"], d["Value"]) for d in dimensions), unit)
        with self._lock:
            found = self._metrics[(account, region)].get(key)
            if found is None:
                self._metrics[(account, region)][key] = [1, value, value, value]
            else:
                found[0] += 1
                found[1] += value
                found[2] = min(found[2], value)
                found[3] = max(found[3], value)
        self._started()

    def _started(self) -> None:
        if self._thread is None and not self._closed.is_set():
            self.start()

    def _run(self) -> None:
        while not self._closed.wait(FLUSH):
            try:
                self.flush()
            except Exception:  # keep flushing: one bad batch must not end the thread
                log.exception("lambda telemetry flush failed")

    def flush(self) -> None:
        with self._lock:
            logs, self._logs = self._logs, defaultdict(list)
            metrics, self._metrics = self._metrics, defaultdict(dict)
        for (account, region, group, stream), events in logs.items():
            self.bus.publish("logs:put", {"account": account, "region": region,
                                          "log_group": group, "log_stream": stream,
                                          "events": events})
        for (account, region), values in metrics.items():
            data = [{"MetricName": name, "Unit": unit,
                     "Dimensions": [{"Name": n, "Value": v} for n, v in dims],
                     "StatisticValues": {"SampleCount": count, "Sum": total,
                                         "Minimum": low, "Maximum": high}}
                    for (name, dims, unit), (count, total, low, high) in values.items()]
            for start in range(0, len(data), 1000):
                self.bus.publish("cloudwatch:metrics", {
                    "account": account, "region": region, "namespace": "AWS/Lambda",
                    "metric_data": data[start:start + 1000]})
