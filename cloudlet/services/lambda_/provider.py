"""Lambda: functions that really run.

    functions.py   functions, code, versions, aliases, layers, concurrency settings, resource
                   policies, function URLs' configuration, event source mappings, tags
    invoke.py      Invoke (RequestResponse, Event, DryRun), concurrency limits, logs and
                   metrics of each invocation, the async queue, and the triggers (S3, SNS,
                   Logs subscriptions, schedules)
"""

from __future__ import annotations

from cloudlet.services.base import Provider
from cloudlet.services.lambda_.functions import FunctionOperations
from cloudlet.services.lambda_.invoke import InvokeOperations


class LambdaProvider(InvokeOperations, FunctionOperations, Provider):
    service = "lambda"
