"""Flow logs: CreateFlowLogs (to CloudWatch Logs or S3, in AWS's default format or a custom
LogFormat), DescribeFlowLogs, DeleteFlowLogs. The records are kept here; the fabric reads
them through `flow_logs_changed` and delivers what they capture (network/flow_delivery.py).

Flow logs to S3 are kept, and shown with DeliverLogsStatus FAILED ("Unknown error"): S3
declares no interface through which another service may write an object, so Cloudlet does
not deliver there."""

from __future__ import annotations

from cloudlet import clock
from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.filters import declare
from cloudlet.services.ec2.ids import new_id
from cloudlet.services.ec2.network.flow_records import fields_of

DEFAULT_FORMAT = ("${version} ${account-id} ${interface-id} ${srcaddr} ${dstaddr} ${srcport} "
                  "${dstport} ${protocol} ${packets} ${bytes} ${start} ${end} ${action} "
                  "${log-status}")
RESOURCE_KINDS = {"VPC": "vpc", "Subnet": "subnet", "NetworkInterface": "network-interface"}

declare("vpc-flow-log", {
    "deliver-log-status": "DeliverLogsStatus", "log-destination-type": "LogDestinationType",
    "flow-log-id": "FlowLogId", "log-group-name": "LogGroupName", "resource-id": "ResourceId",
    "traffic-type": "TrafficType",
})


class FlowLogOperations:
    def create_flow_logs(self, ctx, params):
        resource_type = params.get("ResourceType")
        if resource_type not in RESOURCE_KINDS:
            raise errors.bad_value(resource_type, "resourceType")
        traffic = params.get("TrafficType") or "ALL"
        if traffic not in ("ACCEPT", "REJECT", "ALL"):
            raise errors.bad_value(traffic, "trafficType")
        destination_type = params.get("LogDestinationType") or "cloud-watch-logs"
        group = params.get("LogGroupName")
        destination = params.get("LogDestination")
        if destination_type == "cloud-watch-logs":
            if not group and not destination:
                raise errors.MissingParameter(name="LogGroupName")
            if group and destination:
                raise errors.InvalidParameterCombination(
                    message="Please only provide LogGroupName or only provide LogDestination.")
            if not params.get("DeliverLogsPermissionArn"):
                raise errors.InvalidParameter(
                    message="DeliverLogsPermissionArn is required for flow logs that deliver "
                            "to CloudWatch Logs.")
            if destination and not group:
                group = destination.split(":log-group:", 1)[-1].removesuffix(":*")
            destination = destination or f"arn:aws:logs:{ctx.region}:{ctx.account_id}:" \
                                         f"log-group:{group}"
        elif destination_type == "s3":
            if not destination or not destination.startswith("arn:aws:s3:::"):
                raise errors.bad_value(destination, "logDestination")
        else:
            raise errors.bad_value(destination_type, "logDestinationType")
        if params.get("LogFormat") is not None:
            fields_of(params["LogFormat"])
        interval = params.get("MaxAggregationInterval") or 600
        if interval not in (60, 600):
            raise errors.bad_value(interval, "maxAggregationInterval")
        created, unsuccessful = [], []
        with self.records.write(ctx.account_id, ctx.region) as view:
            existing = view.find("vpc-flow-log")
            for resource_id in params.get("ResourceIds") or []:
                resource = view.get(resource_id, RESOURCE_KINDS[resource_type])
                if resource is None:
                    failure = errors.not_found(RESOURCE_KINDS[resource_type], resource_id)
                    unsuccessful.append({"ResourceId": resource_id, "Error": {
                        "Code": failure.code, "Message": failure.message}})
                    continue
                if any(f["ResourceId"] == resource_id and f["TrafficType"] == traffic
                       and f["LogDestination"] == destination for f in existing):
                    failure = errors.FlowLogAlreadyExists()
                    unsuccessful.append({"ResourceId": resource_id, "Error": {
                        "Code": failure.code, "Message": failure.message}})
                    continue
                flow_log = {
                    "FlowLogId": new_id("fl"), "CreationTime": float(int(clock.timestamp())),
                    "DeliverLogsStatus": "SUCCESS", "FlowLogStatus": "ACTIVE",
                    "ResourceId": resource_id, "TrafficType": traffic,
                    "LogDestinationType": destination_type, "LogDestination": destination,
                    "LogFormat": params.get("LogFormat") or DEFAULT_FORMAT,
                    "MaxAggregationInterval": interval,
                    "_vpc": resource.get("VpcId") or resource_id,
                }
                if destination_type == "cloud-watch-logs":
                    flow_log["LogGroupName"] = group
                    flow_log["DeliverLogsPermissionArn"] = params["DeliverLogsPermissionArn"]
                else:  # not delivered: see the module's docstring
                    flow_log.update(DeliverLogsStatus="FAILED",
                                    DeliverLogsErrorMessage="Unknown error")
                if params.get("DestinationOptions"):
                    flow_log["DestinationOptions"] = params["DestinationOptions"]
                self.created(view, "vpc-flow-log", flow_log, params)
                existing.append(flow_log)
                created.append(flow_log["FlowLogId"])
                self.fabric.flow_logs_changed(view, flow_log)
        return {"FlowLogIds": created, "Unsuccessful": unsuccessful,
                "ClientToken": params.get("ClientToken")}

    def describe_flow_logs(self, ctx, params):
        return self.describe(ctx, {**params, "Filters": params.get("Filter")}, "vpc-flow-log",
                             "FlowLogs", ids_member="FlowLogIds", missing_ok=True)

    def delete_flow_logs(self, ctx, params):
        unsuccessful = []
        with self.records.write(ctx.account_id, ctx.region) as view:
            for id in params.get("FlowLogIds") or []:
                flow_log = view.get(id, "vpc-flow-log")
                if flow_log is None:
                    failure = errors.FlowLogNotFound(id=id)
                    unsuccessful.append({"ResourceId": id, "Error": {
                        "Code": failure.code, "Message": failure.message}})
                    continue
                view.delete(id)
                self.fabric.flow_logs_deleted(view, flow_log)
        return {"Unsuccessful": unsuccessful}
