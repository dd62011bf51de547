"""Which service a request is for, read from the models.

The keys, in order: `X-Amz-Target` (its prefix is a model's `targetPrefix`), the Smithy
RPCv2 path `/service/<targetPrefix>/operation/<Operation>`, the SigV4 credential scope (a
model's signing name), a virtual-hosted S3 Host header (`bucket.s3.<anything>`), and the
query protocols' `Action` + `Version`.

They are asked first of the services Cloudlet serves (`served()`), then of every other
model botocore has (`unserved()`: built on the first request that needs it, from the head
of each model file, never at start-up); a request for one of those gets the pipeline's
ServiceNotServed in that service's protocol. What no key claims is S3's, as every other
path is on AWS's S3 endpoint.

Several unserved services can share a key (elb and elbv2 sign as
`elasticloadbalancing`; the bedrock family as `bedrock`): the one whose apiVersion the
request's `Version` names wins, then the one that `speaks` the request (its codec finds an
operation for it), then the one named after the key.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from cloudlet.models import SERVICES, botocore_services, service_metadata, service_model
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.hosts import bucket_from_host

SMITHY_PREFIX = "/service/"
# speaks(service, request): does the service's codec find an operation for the request?
Speaks = Callable[[str, HttpRequest], bool]


@dataclass
class ServiceIndex:
    by_signing_name: dict[str, list[str]] = field(default_factory=dict)
    by_target_prefix: dict[str, list[str]] = field(default_factory=dict)
    by_api_version: dict[str, list[str]] = field(default_factory=dict)  # query and ec2

    @classmethod
    def build(cls, names) -> ServiceIndex:
        index = cls()
        for name in names:
            meta = service_metadata(name)
            signing_name = meta.get("signingName") or meta["endpointPrefix"]
            index.by_signing_name.setdefault(signing_name, []).append(name)
            if "targetPrefix" in meta:
                index.by_target_prefix.setdefault(meta["targetPrefix"], []).append(name)
            protocols = meta.get("protocols") or [meta["protocol"]]
            if "query" in protocols or "ec2" in protocols:
                index.by_api_version.setdefault(meta["apiVersion"], []).append(name)
        return index

    def by_keys(self, request: HttpRequest, signing_name: str | None,
                speaks: Speaks | None = None) -> str | None:
        """The service named by the target, the Smithy path or the signing name."""
        target = request.headers.get("x-amz-target")
        if target:
            found = self.by_target_prefix.get(target.rpartition(".")[0])
            if found:
                return _pick(found, request, speaks)
        if request.path.startswith(SMITHY_PREFIX):
            found = self.by_target_prefix.get(request.path[len(SMITHY_PREFIX):].partition("/")[0])
            if found:
                return _pick(found, request, speaks)
        if signing_name:
            found = self.by_signing_name.get(signing_name)
            if found:
                return _pick(found, request, speaks, signing_name)
        return None

    def by_action(self, request: HttpRequest) -> str | None:
        """The query service whose apiVersion is the request's Version and whose model
        has its Action."""
        action, version = _action(request)
        if not action:
            return None
        for name in self.by_api_version.get(version or "", []):
            if action in service_model(name).operation_names:
                return name
        return None


@functools.cache
def served() -> ServiceIndex:
    return ServiceIndex.build(SERVICES)


@functools.cache
def unserved() -> ServiceIndex:
    return ServiceIndex.build(name for name in botocore_services() if name not in SERVICES)


def find_service(request: HttpRequest, signing_name: str | None,
                 speaks: Speaks | None = None) -> str:
    """The service a request is for: one of SERVICES, another botocore service (which
    Cloudlet does not serve), or S3."""
    index = served()
    service = index.by_keys(request, signing_name)
    if service:
        return service
    if bucket_from_host(request.host):
        return "s3"
    service = index.by_action(request)
    if service:
        return service
    if _keyed(request, signing_name):  # the only requests that read every model's head
        others = unserved()
        return (others.by_keys(request, signing_name, speaks) or others.by_action(request)
                or "s3")
    return "s3"


def _keyed(request: HttpRequest, signing_name: str | None) -> bool:
    return bool(signing_name or request.headers.get("x-amz-target")
                or request.path.startswith(SMITHY_PREFIX) or _action(request)[0])


def _pick(candidates: list[str], request: HttpRequest, speaks: Speaks | None,
          key: str | None = None) -> str:
    if len(candidates) == 1:
        return candidates[0]
    version = _action(request)[1]
    if version:
        versioned = [name for name in candidates
                     if service_metadata(name).get("apiVersion") == version]
        if len(versioned) == 1:
            return versioned[0]
        candidates = versioned or candidates
    if speaks is not None:
        for name in candidates:
            if speaks(name, request):
                return name
    return key if key in candidates else candidates[0]


def _action(request: HttpRequest) -> tuple[str | None, str | None]:
    """The query protocols' Action and Version, from the query or a form body (once)."""
    if "routing.action" not in request.memo:
        request.memo["routing.action"] = _read_action(request)
    return request.memo["routing.action"]


def _read_action(request: HttpRequest) -> tuple[str | None, str | None]:
    fields = dict(parse_qsl(request.query))
    if "Action" not in fields and request.method == "POST" and request.content_type == (
        "application/x-www-form-urlencoded"
    ):
        try:
            fields.update(parse_qsl(request.body.decode("utf-8")))
        except UnicodeDecodeError:
            return None, None
    return fields.get("Action"), fields.get("Version")
