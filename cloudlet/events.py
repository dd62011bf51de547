"""The in-process event bus between services.

S3 notifications to Lambda, Lambda's output to Logs, metrics from every service, alarms
to SNS: a service publishes an event on a topic; whoever subscribed receives it. No
service imports another's internals to deliver one.

    bus.subscribe("s3:ObjectCreated", handler)     # handler(event: dict) -> None
    bus.publish("s3:ObjectCreated", {...})

Topics (each event is a plain dict):

    s3:notification     {"Destination": {"Arn", "Id", "Service"}, "Event": {"Records": [...]}}
                        S3 object events; SNS delivers Service "sns", Lambda "lambda"
    cloudwatch:metrics  {"account", "region", "namespace", "metric_data": [MetricDatum]}
                        how any service (and Embedded Metric Format) publishes metrics;
                        MetricDatum is PutMetricData's shape (MetricName, Dimensions, Value,
                        Values/Counts, StatisticValues, Unit, Timestamp, StorageResolution)
    sns:publish         {"account", "region", "topic_arn", "message", "subject"?,
                         "message_attributes"?}  alarm actions and other services to SNS
    logs:subscription   {"account", "region", "destination_arn", "filter_name", "log_group",
                         "log_stream", "events": [{"id", "timestamp", "message"}]}
                        Logs subscription filters; Lambda delivers
    logs:put            {"account", "region", "log_group", "log_stream",
                         "events": [{"timestamp" (epoch ms), "message"}]}
                        services writing logs (Lambda's function logs); Logs creates the group
                        and stream when missing, as AWS's services do
    lambda:invoke       {"account", "region", "function_arn", "payload", "source_arn"?,
                         "source_account"?, "principal"?}  asynchronous invokes (SNS, ...)

Handlers run on the bus's worker thread, in order of publication, so a slow subscriber
never holds up the request that published.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import defaultdict
from collections.abc import Callable

log = logging.getLogger("cloudlet.events")

Handler = Callable[[dict], None]


class Bus:
    def __init__(self):
        self._subscribers: dict[str, list[Handler]] = defaultdict(list)
        self._queue: queue.Queue = queue.Queue()
        self._worker: threading.Thread | None = None

    def subscribe(self, topic: str, handler: Handler) -> None:
        self._subscribers[topic].append(handler)

    def publish(self, topic: str, event: dict) -> None:
        if self._subscribers.get(topic):
            self._ensure_worker()
            self._queue.put((topic, event))

    def _ensure_worker(self) -> None:
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(target=self._run, name="event-bus", daemon=True)
            self._worker.start()

    def _run(self) -> None:
        while True:
            topic, event = self._queue.get()
            for handler in list(self._subscribers.get(topic, ())):
                try:
                    handler(event)
                except Exception:
                    log.exception("event handler for %s failed", topic)
            self._queue.task_done()

    def drain(self) -> None:
        """Wait until every published event has been handled (shutdown, tests)."""
        if self._worker is not None and self._worker.is_alive():
            self._queue.join()
