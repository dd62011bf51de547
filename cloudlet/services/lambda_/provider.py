"""Lambda: functions that really run.

    functions.py   functions, code, versions, aliases, layers, concurrency settings, resource
                   policies, function URLs' configuration, event source mappings, tags
    invoke.py      Invoke (RequestResponse, Event, DryRun), concurrency limits, logs and
                   metrics of each invocation, the async queue, and the triggers (S3, SNS,
                   Logs subscriptions, schedules)
"""

from __future__ import annotations

from cloudlet.services.base import Provider, Route, RouteAuth
from cloudlet.services.lambda_.code_urls import CODE_PATH
from cloudlet.services.lambda_.functions import FunctionOperations
from cloudlet.services.lambda_.invoke import InvokeOperations
from cloudlet.services.lambda_.urls_http import URL_HOST, URL_PATH


class LambdaProvider(InvokeOperations, FunctionOperations, Provider):
    service = "lambda"

    def routes(self) -> list[Route]:
        """Function URLs (by Host, or under URL_PATH for any resolver), whose AWS_IAM
        AuthType the handler checks; GetFunction's code downloads."""
        url = {"handler": self.url_route, "reads_body": True, "auth": RouteAuth.CALLER,
               "signing_name": "lambda"}
        return [Route(host=URL_HOST, **url), Route(prefix=URL_PATH, **url),
                Route(prefix=CODE_PATH, handler=self.code_route)]
