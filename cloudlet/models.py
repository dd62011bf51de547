"""botocore's service models, loaded once and shared.

The models are the specification: codecs, routing, validation and coverage all read them.
"""

from __future__ import annotations

import functools
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import botocore.model

SERVICES = ("ec2", "s3", "rds", "lambda", "iam", "sts", "cloudwatch", "logs", "sns", "scheduler")

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
