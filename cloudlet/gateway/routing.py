"""Which service a request is for, read from the models.

In order: `X-Amz-Target` (its prefix is a model's `targetPrefix`), the Smithy RPCv2 path
`/service/<targetPrefix>/operation/<Operation>`, the SigV4 credential scope (a model's
signing name), a virtual-hosted S3 Host header (`bucket.s3.<anything>`), the query
protocols' `Action` + `Version`, and finally S3, which owns every other path as AWS's S3
endpoint does.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from urllib.parse import parse_qsl

from cloudlet.models import SERVICES, service_model
from cloudlet.protocols.base import HttpRequest
from cloudlet.protocols.hosts import bucket_from_host

SMITHY_PREFIX = "/service/"


@dataclass
class ServiceIndex:
    by_signing_name: dict[str, str] = field(default_factory=dict)
    by_target_prefix: dict[str, str] = field(default_factory=dict)
    by_api_version: dict[str, list[str]] = field(default_factory=dict)

    @classmethod
    def build(cls, names=SERVICES) -> ServiceIndex:
        index = cls()
        for name in names:
            model = service_model(name)
            meta = model.metadata
            index.by_signing_name[model.signing_name or meta["endpointPrefix"]] = name
            if "targetPrefix" in meta:
                index.by_target_prefix[meta["targetPrefix"]] = name
            protocols = meta.get("protocols") or [meta["protocol"]]
            if "query" in protocols or "ec2" in protocols:
                index.by_api_version.setdefault(meta["apiVersion"], []).append(name)
        return index


@functools.cache
def index() -> ServiceIndex:
    return ServiceIndex.build()


def find_service(request: HttpRequest, signing_name: str | None) -> str:
    idx = index()
    target = request.headers.get("x-amz-target")
    if target:
        service = idx.by_target_prefix.get(target.rpartition(".")[0])
        if service:
            return service
    if request.path.startswith(SMITHY_PREFIX):
        prefix = request.path[len(SMITHY_PREFIX):].partition("/")[0]
        service = idx.by_target_prefix.get(prefix)
        if service:
            return service
    if signing_name:
        service = idx.by_signing_name.get(signing_name)
        if service:
            return service
    if bucket_from_host(request.host):
        return "s3"
    service = _service_from_action(request, idx)
    return service or "s3"


def _service_from_action(request: HttpRequest, idx: ServiceIndex) -> str | None:
    fields = dict(parse_qsl(request.query))
    if "Action" not in fields and request.method == "POST" and request.content_type == (
        "application/x-www-form-urlencoded"
    ):
        try:
            fields.update(parse_qsl(request.body.decode("utf-8")))
        except UnicodeDecodeError:
            return None
    action, version = fields.get("Action"), fields.get("Version")
    if not action:
        return None
    for name in idx.by_api_version.get(version or "", []):
        if action in service_model(name).operation_names:
            return name
    return None
