"""Event source mappings: stored with AWS's shape, never polled.

Cloudlet has no SQS, Kinesis, DynamoDB Streams, MSK or MQ yet, so a mapping is kept as
configured (Enabled or Disabled) and its StateTransitionReason says that nothing polls it.
"""

from __future__ import annotations

import uuid

from cloudlet import clock
from cloudlet.services.base import RequestContext
from cloudlet.services.lambda_ import errors
from cloudlet.services.lambda_.records import function_arn, paginate

NOT_POLLED = "Cloudlet has no event source to poll yet: this mapping is stored, never run."
_STORED = ("StartingPosition", "StartingPositionTimestamp", "MaximumBatchingWindowInSeconds",
           "ParallelizationFactor", "FilterCriteria", "KMSKeyArn", "MetricsConfig",
           "ScalingConfig", "DestinationConfig", "Topics", "Queues",
           "SourceAccessConfigurations", "SelfManagedEventSource", "MaximumRecordAgeInSeconds",
           "BisectBatchOnFunctionError", "MaximumRetryAttempts", "TumblingWindowInSeconds",
           "FunctionResponseTypes", "AmazonManagedKafkaEventSourceConfig",
           "SelfManagedKafkaEventSourceConfig", "DocumentDBEventSourceConfig",
           "ProvisionedPollerConfig", "LoggingConfig")


def _default_batch(source: str | None) -> int:
    return 10 if source and (":sqs:" in source or ":mq:" in source) else 100


class MappingOperations:
    def _mapping_function(self, ctx: RequestContext, value: str) -> tuple[str, str]:
        name, qualifier = self._own(ctx, {"FunctionName": value})
        if qualifier:
            self.version_doc(ctx.account_id, ctx.region, name, qualifier)
        return name, function_arn(ctx.account_id, ctx.region, name, qualifier)

    def create_event_source_mapping(self, ctx: RequestContext, params: dict) -> dict:
        name, arn = self._mapping_function(ctx, params["FunctionName"])
        source = params.get("EventSourceArn")
        if source is None and not params.get("SelfManagedEventSource"):
            raise errors.InvalidParameterValue("Unrecognized event source.")
        mapping_id = str(uuid.uuid4())
        enabled = params.get("Enabled", True)
        doc = {"UUID": mapping_id, "BatchSize": params.get("BatchSize") or _default_batch(source),
               "FunctionArn": arn, "LastModified": clock.timestamp(),
               "LastProcessingResult": "No records processed",
               "State": "Enabled" if enabled else "Disabled", "StateTransitionReason": NOT_POLLED,
               "EventSourceMappingArn": f"arn:aws:lambda:{ctx.region}:{ctx.account_id}:"
                                        f"event-source-mapping:{mapping_id}"}
        if source:
            doc["EventSourceArn"] = source
        doc.update({k: params[k] for k in _STORED if params.get(k) is not None})
        self.lambdas.put_mapping(ctx.account_id, ctx.region, name, doc)
        return doc

    def _mapping(self, ctx: RequestContext, mapping_id: str) -> dict:
        found = self.lambdas.mapping(mapping_id)
        if found is None or found[:2] != (ctx.account_id, ctx.region):
            raise errors.ResourceNotFound(
                "The resource you requested does not exist. (Service: Lambda, Status Code: 404)")
        return found[2]

    def get_event_source_mapping(self, ctx: RequestContext, params: dict) -> dict:
        return self._mapping(ctx, params["UUID"])

    def update_event_source_mapping(self, ctx: RequestContext, params: dict) -> dict:
        doc = self._mapping(ctx, params["UUID"])
        name = doc["FunctionArn"].split(":")[6]
        if params.get("FunctionName"):
            name, doc["FunctionArn"] = self._mapping_function(ctx, params["FunctionName"])
        if params.get("Enabled") is not None:
            doc["State"] = "Enabled" if params["Enabled"] else "Disabled"
        if params.get("BatchSize") is not None:
            doc["BatchSize"] = params["BatchSize"]
        doc.update({k: params[k] for k in _STORED if params.get(k) is not None})
        doc["LastModified"] = clock.timestamp()
        self.lambdas.put_mapping(ctx.account_id, ctx.region, name, doc)
        return doc

    def delete_event_source_mapping(self, ctx: RequestContext, params: dict) -> dict:
        doc = self._mapping(ctx, params["UUID"])
        self.lambdas.delete_mapping(params["UUID"])
        return {**doc, "State": "Deleting"}

    def list_event_source_mappings(self, ctx: RequestContext, params: dict) -> dict:
        name = None
        if params.get("FunctionName"):
            name, _ = self._mapping_function(ctx, params["FunctionName"])
        docs = self.lambdas.mappings(ctx.account_id, ctx.region, name)
        if params.get("EventSourceArn"):
            docs = [d for d in docs if d.get("EventSourceArn") == params["EventSourceArn"]]
        page, marker = paginate(docs, params, lambda d: d["UUID"], page=100)
        result = {"EventSourceMappings": page}
        if marker:
            result["NextMarker"] = marker
        return result
