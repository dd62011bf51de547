"""botocore's service models, loaded once and shared.

The models are the specification: codecs, routing, validation and coverage all read them.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import botocore.model

SERVICES = ("ec2", "s3", "rds", "lambda", "iam", "sts", "cloudwatch", "logs", "sns")

@functools.cache
def _loader():
    import botocore.loaders

    return botocore.loaders.Loader()


@functools.cache
def service_model(name: str) -> botocore.model.ServiceModel:
    import botocore.model

    return botocore.model.ServiceModel(_loader().load_service_model(name, "service-2"), name)


def all_models() -> dict[str, botocore.model.ServiceModel]:
    return {name: service_model(name) for name in SERVICES}
