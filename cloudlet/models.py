"""botocore's service models, loaded once and shared.

The models are the specification: codecs, routing, validation and coverage all read them.
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import botocore.model

SERVICES = ("ec2", "s3", "rds", "lambda", "iam", "sts", "cloudwatch", "logs", "sns", "scheduler")
# A model file opens with its metadata; this many bytes hold it (the longest is ~1 KB).
METADATA_HEAD = 8192

@functools.cache
def _loader():
    import botocore.loaders

    return botocore.loaders.Loader()


_lock = threading.Lock()
_models: dict[str, botocore.model.ServiceModel] = {}


def service_model(name: str) -> botocore.model.ServiceModel:
    model = _models.get(name)
    if model is None:
        with _lock:  # the warm-up thread and the first requests may ask at once
            model = _models.get(name)
            if model is None:
                import botocore.model

                raw = _loader().load_service_model(name, "service-2")
                _drop_documentation(raw)
                model = _models[name] = botocore.model.ServiceModel(raw, name)
    return model


def _drop_documentation(node) -> None:
    """The models' prose is a third of their memory and nothing serves it."""
    if isinstance(node, dict):
        node.pop("documentation", None)
        node.pop("documentationUrl", None)
        for value in node.values():
            _drop_documentation(value)
    elif isinstance(node, list):
        for value in node:
            _drop_documentation(value)


def all_models() -> dict[str, botocore.model.ServiceModel]:
    return {name: service_model(name) for name in SERVICES}


@functools.cache
def botocore_services() -> tuple[str, ...]:
    """Every service botocore has a model for: the names of its data directories."""
    return tuple(_loader().list_available_services("service-2"))


_metadata: dict[str, dict] = {}


def service_metadata(name: str) -> dict:
    """A model's `metadata` (signing name, target prefix, protocols, apiVersion), read from
    the head of its file, so routing can know every service without loading each model."""
    metadata = _metadata.get(name)
    if metadata is None:
        model = _models.get(name)
        metadata = _metadata[name] = model.metadata if model else _read_metadata(name)
    return metadata


def _read_metadata(name: str) -> dict:
    loader = _loader()
    version = loader.determine_latest_version(name, "service-2")
    for root in loader.search_paths:  # as botocore's loader looks: .json before .json.gz
        base = os.path.join(root, name, version, "service-2")
        for path, opener in ((base + ".json", open), (base + ".json.gz", gzip.open)):
            if not os.path.isfile(path):
                continue
            with opener(path, "rb") as file:
                head = file.read(METADATA_HEAD).decode("utf-8", "replace")
            try:
                start = head.index("{", head.index('"metadata"'))
                return json.JSONDecoder().raw_decode(head, start)[0]
            except ValueError:  # not at the head after all: load the model
                return service_model(name).metadata
    return service_model(name).metadata
