"""RDS's errors, with the codes and statuses of RDS's model, in AWS's words."""

from __future__ import annotations

from cloudlet.errors import ServiceError


class RdsError(ServiceError):
    status = 400


def error(code: str, message: str, status: int = 400) -> RdsError:
    return RdsError(message, code=code, status=status)


def invalid_value(message: str) -> RdsError:
    return error("InvalidParameterValue", message)


def invalid_combination(message: str) -> RdsError:
    return error("InvalidParameterCombination", message)


def missing(name: str) -> RdsError:
    return error("MissingParameter", f"The request must contain the parameter {name}")


def instance_not_found(identifier: str) -> RdsError:
    return error("DBInstanceNotFound", f"DBInstance {identifier} not found.", 404)


def instance_exists() -> RdsError:
    return error("DBInstanceAlreadyExists", "DB instance already exists")


def instance_state(message: str) -> RdsError:
    return error("InvalidDBInstanceState", message)


def not_available(identifier: str, status: str) -> RdsError:
    return instance_state(f"DB instance {identifier} is not in available state "
                          f"(it is {status}).")


def snapshot_not_found(identifier: str) -> RdsError:
    return error("DBSnapshotNotFound", f"DBSnapshot {identifier} not found.", 404)


def snapshot_exists(identifier: str) -> RdsError:
    return error("DBSnapshotAlreadyExists",
                 f"Cannot create the snapshot because a snapshot with the identifier "
                 f"{identifier} already exists.")


def snapshot_state(message: str) -> RdsError:
    return error("InvalidDBSnapshotState", message)


def parameter_group_not_found(name: str) -> RdsError:
    return error("DBParameterGroupNotFound", f"DBParameterGroup not found: {name}", 404)


def parameter_group_exists(name: str) -> RdsError:
    return error("DBParameterGroupAlreadyExists",
                 f"Parameter group {name} already exists")


def parameter_group_state(message: str) -> RdsError:
    return error("InvalidDBParameterGroupState", message)


def subnet_group_not_found(name: str) -> RdsError:
    return error("DBSubnetGroupNotFoundFault", f"DBSubnetGroup {name} not found.", 404)


def subnet_group_exists(name: str) -> RdsError:
    return error("DBSubnetGroupAlreadyExists", f"DB Subnet Group {name} already exists.")


def unsupported_version(message: str) -> RdsError:
    return error("UnsupportedDBEngineVersion", message)


def storage_quota() -> RdsError:
    return error("StorageQuotaExceeded", "The request would result in the user exceeding "
                 "the allowed amount of storage available across all DB instances.")


def invalid_restore(message: str) -> RdsError:
    return error("InvalidRestoreFault", message)


def pitr_not_enabled(identifier: str) -> RdsError:
    return error("PointInTimeRestoreNotEnabled",
                 f"Point-in-time restore is not enabled for DB instance {identifier}: "
                 "its backup retention period is 0.")


def resource_not_found(arn: str) -> RdsError:
    return error("DBInstanceNotFound", f"DBInstance {arn} not found.", 404)


def invalid_arn(arn: str) -> RdsError:
    return invalid_value(f"Unable to find a resource for the ARN {arn}.")
