"""SNS's CloudWatch metrics (namespace AWS/SNS, dimension TopicName), as AWS publishes them:

    NumberOfMessagesPublished          messages accepted by Publish/PublishBatch (Count)
    PublishSize                        their size (Bytes; SampleCount/Sum/Min/Max)
    NumberOfNotificationsDelivered     deliveries that reached their endpoint (Count)
    NumberOfNotificationsFailed        deliveries given up on (Count)
    NumberOfNotificationsFilteredOut   deliveries a filter policy declined (Count)

Counts are summed in memory and published on the bus (`cloudwatch:metrics`) every
`INTERVAL` seconds, one datum per metric and topic, rather than one event per message.
"""

from __future__ import annotations

import threading
from collections import defaultdict

from cloudlet import clock

INTERVAL = 5.0
NAMESPACE = "AWS/SNS"


class SnsMetrics:
    def __init__(self, bus, interval: float = INTERVAL):
        self.bus = bus
        self.interval = interval
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], float] = defaultdict(float)
        self._sizes: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def count(self, topic_arn: str, metric: str, value: float = 1) -> None:
        with self._lock:
            self._counts[(topic_arn, metric)] += value
        self._ensure_thread()

    def published(self, topic_arn: str, size: int) -> None:
        with self._lock:
            self._counts[(topic_arn, "NumberOfMessagesPublished")] += 1
            found = self._sizes.get(topic_arn)
            if found is None:
                self._sizes[topic_arn] = [1, size, size, size]
            else:
                found[0] += 1
                found[1] += size
                found[2] = min(found[2], size)
                found[3] = max(found[3], size)
        self._ensure_thread()

    def _ensure_thread(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._run, name="sns-metrics",
                                                    daemon=True)
                    self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.flush()

    def stop(self) -> None:
        self._stop.set()
        self.flush()

    def flush(self) -> None:
        with self._lock:
            counts, self._counts = self._counts, defaultdict(float)
            sizes, self._sizes = self._sizes, {}
        by_topic: dict[str, list[dict]] = defaultdict(list)
        stamp = clock.now()
        for (topic_arn, metric), value in counts.items():
            by_topic[topic_arn].append({"MetricName": metric, "Value": value, "Unit": "Count",
                                        "Timestamp": stamp})
        for topic_arn, (samples, total, low, high) in sizes.items():
            by_topic[topic_arn].append({
                "MetricName": "PublishSize", "Unit": "Bytes", "Timestamp": stamp,
                "StatisticValues": {"SampleCount": samples, "Sum": total, "Minimum": low,
                                    "Maximum": high}})
        for topic_arn, data in by_topic.items():
            _, _, _, region, account, name = topic_arn.split(":", 5)
            for datum in data:
                datum["Dimensions"] = [{"Name": "TopicName", "Value": name}]
            self.bus.publish("cloudwatch:metrics", {"account": account, "region": region,
                                                    "namespace": NAMESPACE, "metric_data": data})
