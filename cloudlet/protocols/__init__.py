"""One codec per AWS wire protocol, driven by botocore's service models.

`codec_class(protocol)` gives the class for a protocol name as botocore spells it;
`codec_for(model, request)` picks, for a model that lists several protocols, the one the
request speaks.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from botocore.model import ServiceModel

    from cloudlet.protocols.base import Codec, HttpRequest

CODECS = {
    "query": "cloudlet.protocols.query:QueryCodec",
    "ec2": "cloudlet.protocols.ec2:Ec2Codec",
    "json": "cloudlet.protocols.json:JsonCodec",
    "rest-json": "cloudlet.protocols.restjson:RestJsonCodec",
    "rest-xml": "cloudlet.protocols.restxml:RestXmlCodec",
    "smithy-rpc-v2-cbor": "cloudlet.protocols.cbor:CborCodec",
}

# A service whose quirks need a small subclass of its protocol's codec.
SERVICE_CODECS = {
    ("s3", "rest-xml"): "cloudlet.protocols.s3:S3Codec",
}


def codec_class(protocol: str, service: str | None = None) -> type[Codec]:
    target = SERVICE_CODECS.get((service, protocol)) or CODECS[protocol]
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def request_protocol(model: ServiceModel, request: HttpRequest) -> str:
    """The protocol a request speaks, among those the model lists."""
    protocols = model.metadata.get("protocols") or [model.protocol]
    if len(protocols) == 1:
        return protocols[0]
    if "smithy-rpc-v2-cbor" in protocols and request.headers.get("smithy-protocol") == "rpc-v2-cbor":
        return "smithy-rpc-v2-cbor"
    if "json" in protocols and "x-amz-target" in request.headers:
        return "json"
    if "query" in protocols:
        return "query"
    return protocols[0]
