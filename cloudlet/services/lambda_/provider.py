"""Lambda: functions that really run. One class composed of its operation families.

    accounts.py             AccountOperations: another account's function, reached as its
                            policy allows (every operation on one function passes here)
    invoke.py               InvokeOperations: Invoke (RequestResponse, Event, DryRun),
                            InvokeAsync, InvokeWithResponseStream; concurrency limits, the
                            logs and metrics of each invocation, the async queue
                            (async_queue.py); composed of:
      triggers.py           TriggerOperations: S3 notifications, SNS, alarms, Logs
                            subscriptions, schedules, queued as Event invokes
      urls_http.py          FunctionUrlServing: function URLs served on Cloudlet's port
    functions.py            FunctionOperations: CreateFunction, GetFunction,
                            GetFunctionConfiguration, UpdateFunctionCode,
                            UpdateFunctionConfiguration, DeleteFunction, ListFunctions;
                            composed of:
      specs.py              SpecOperations: no operation; what the Invoke side asks
      versions.py           VersionOperations: PublishVersion, ListVersionsByFunction,
                            aliases
      policies.py           PolicyOperations: AddPermission, RemovePermission, GetPolicy
      layers.py             LayerOperations: PublishLayerVersion, layer versions and their
                            permissions
      urls.py               UrlOperations: function URLs' configuration
      mappings.py           MappingOperations: event source mappings
      destinations.py       DestinationOperations: *FunctionEventInvokeConfig
      concurrency.py        ConcurrencyOperations: *FunctionConcurrency, GetAccountSettings
      tags.py               TagOperations: TagResource, UntagResource, ListTags
      code_urls.py          CodeUrlOperations: GetFunction's Code.Location and its download
      runtime_settings.py   RuntimeSettingsOperations: code signing, runtime management,
                            recursion, provisioned concurrency

`routes()` mounts function URLs (by Host, `<url-id>.lambda-url.<region>.localhost`, and
under /_cloudlet/lambda/url/<url-id>/) and code downloads (/_cloudlet/lambda/code/). The
engine (cloudlet/engines/lambda_) runs the code. Lambda reads IAM, STS and S3 only through
their reads.py.
"""

from __future__ import annotations

from cloudlet.services.base import Provider, Route, RouteAuth
from cloudlet.services.lambda_.accounts import AccountOperations
from cloudlet.services.lambda_.code_urls import CODE_PATH
from cloudlet.services.lambda_.functions import FunctionOperations
from cloudlet.services.lambda_.invoke import InvokeOperations
from cloudlet.services.lambda_.urls_http import URL_HOST, URL_PATH


class LambdaProvider(AccountOperations, InvokeOperations, FunctionOperations, Provider):
    service = "lambda"
    shared_paths = ("lambda/code",)     # unpacked packages: a function's /var/task and /opt

    def routes(self) -> list[Route]:
        """Function URLs (by Host, or under URL_PATH for any resolver), whose AWS_IAM
        AuthType the handler checks; GetFunction's code downloads."""
        url = {"handler": self.url_route, "reads_body": True, "auth": RouteAuth.CALLER,
               "signing_name": "lambda"}
        return [Route(host=URL_HOST, **url), Route(prefix=URL_PATH, **url),
                Route(prefix=CODE_PATH, handler=self.code_route)]
