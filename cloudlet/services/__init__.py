"""One provider per service. `PROVIDERS` maps Cloudlet's service names (botocore's) to the
provider classes; a service without one still routes and answers each operation with a
modeled NotImplemented error."""

from __future__ import annotations

import importlib

PROVIDERS = {
    "ec2": "cloudlet.services.ec2.provider:Ec2Provider",
    "sts": "cloudlet.services.sts.provider:StsProvider",
    "iam": "cloudlet.services.iam.provider:IamProvider",
    "s3": "cloudlet.services.s3.provider:S3Provider",
    "logs": "cloudlet.services.logs.provider:LogsProvider",
    "cloudwatch": "cloudlet.services.cloudwatch.provider:CloudWatchProvider",
    "sns": "cloudlet.services.sns.provider:SnsProvider",
    "rds": "cloudlet.services.rds.provider:RdsProvider",
    "lambda": "cloudlet.services.lambda_.provider:LambdaProvider",
    "scheduler": "cloudlet.services.scheduler.provider:SchedulerProvider",
}


def provider_class(service: str):
    target = PROVIDERS.get(service)
    if target is None:
        return None
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)
