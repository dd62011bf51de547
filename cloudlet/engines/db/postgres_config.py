"""Configuration files of a Cloudlet PostgreSQL server, and RDS's view of its parameters.

postgresql.conf (initdb's) ends with `include 'cloudlet.conf'`; cloudlet.conf is rewritten at
every start from the ServerSpec, in layers, later ones winning:

    sizing defaults      shared_buffers and max_connections from the instance class (RDS's
                         formulas, clamped for a development machine)
    cloudlet-parameters.conf   the parameter group (spec.parameters)
    what Cloudlet enforces     port, listen address, socket, TLS files, WAL and archiving

synchronous_standby_names is kept by ALTER SYSTEM (postgresql.auto.conf, read last), so that
a standby can take itself off its primary's list over a connection.

pg_hba.conf is rewritten too: trust on the private Unix socket (only the server's OS user and
root can open it), SCRAM passwords on 127.0.0.1, hostssl-only when rds.force_ssl is 1.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, datetime
from pathlib import Path

SHARED_BUFFERS_CAP_MB = 128     # real memory stays small whatever the instance class says
MAX_CONNECTIONS_CAP = 1000
ARCHIVE_TIMEOUT = 30            # seconds; latest_restorable_time() also forces a switch
PARAMETERS_FILE = "cloudlet-parameters.conf"
MAIN_FILE = "cloudlet.conf"

# Settings Cloudlet owns: shown as not modifiable in DescribeDBParameters.
MANAGED = {
    "archive_command", "archive_library", "archive_mode", "archive_timeout", "config_file",
    "data_directory", "external_pid_file", "fsync", "full_page_writes", "hba_file",
    "ident_file", "listen_addresses", "port", "primary_conninfo", "primary_slot_name",
    "restore_command", "recovery_target", "recovery_target_action",
    "recovery_target_inclusive", "recovery_target_lsn", "recovery_target_name",
    "recovery_target_time", "recovery_target_timeline", "recovery_target_xid",
    "ssl", "ssl_ca_file", "ssl_cert_file", "ssl_crl_dir", "ssl_crl_file", "ssl_key_file",
    "synchronous_standby_names", "unix_socket_directories", "unix_socket_group",
    "unix_socket_permissions", "wal_level", "hot_standby", "max_wal_senders",
    "max_replication_slots", "data_sync_retry", "recovery_init_sync_method", "event_source", "bonjour", "bonjour_name",
}

FORCE_SSL = "rds.force_ssl"
RDS_ONLY = [{
    "ParameterName": FORCE_SSL, "ParameterValue": "0", "Description": "Force SSL connections.",
    "Source": "engine-default", "ApplyType": "dynamic", "DataType": "boolean",
    "AllowedValues": "0,1", "IsModifiable": True, "ApplyMethod": "immediate",
}]


def shared_buffers_mb(memory_mb: int) -> int:
    """RDS: {DBInstanceClassMemory/32768} pages of 8 kB, i.e. a quarter of the memory."""
    return max(16, min(memory_mb // 4, SHARED_BUFFERS_CAP_MB))


def max_connections(memory_mb: int) -> int:
    """RDS: LEAST({DBInstanceClassMemory/9531392}, 5000)."""
    return max(20, min(memory_mb * 1024 * 1024 // 9531392, 5000, MAX_CONNECTIONS_CAP))


def quote(value: object) -> str:
    """A postgresql.conf value: always single-quoted, quotes doubled."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def render(settings: dict[str, object]) -> str:
    return "".join(f"{name} = {quote(value)}\n" for name, value in settings.items())


def archive_command(archive: Path) -> str:
    """Copy a finished WAL segment into the archive atomically and durably; succeed again
    for a segment already archived with the same content, fail for a different one."""
    a = shlex.quote(str(archive))
    return (f"if [ -f {a}/%f ]; then cmp -s %p {a}/%f; "
            f"else cp %p {a}/%f.tmp && sync {a}/%f.tmp && mv {a}/%f.tmp {a}/%f && sync {a}; fi")


def restore_command(archive: Path) -> str:
    a = shlex.quote(str(archive))
    return f"[ -f {a}/%f ] && cp {a}/%f %p"


def iso(epoch: float) -> str:
    """A recovery_target_time: the exact moment, with microseconds and the UTC offset."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M:%S.%f+00")


def main_conf(spec, socket_dir: Path, *, ssl: bool, local_only: bool = False,
              recovery: dict[str, str] | None = None) -> str:
    memory = spec.memory_mb or 1024
    defaults = {
        "shared_buffers": f"{shared_buffers_mb(memory)}MB",
        "max_connections": spec.max_connections or max_connections(memory),
        "timezone": "UTC", "log_timezone": "UTC",
        "log_line_prefix": "%m [%p] %q%u@%d ",
        "max_wal_size": "1GB",          # initdb scales it down with 1 MB segments
        "min_wal_size": "80MB",
        "max_slot_wal_keep_size": "1GB",
        "wal_keep_size": "64MB",
        "huge_pages": "off",
    }
    enforced = {
        "listen_addresses": "" if local_only else "127.0.0.1",
        "port": spec.port,
        "unix_socket_directories": str(socket_dir),
        "unix_socket_permissions": "0700",
        "password_encryption": "scram-sha-256",
        "ssl": "on" if ssl else "off",
        "fsync": "on",
        "recovery_init_sync_method": "syncfs",  # after a crash or a restore: one syncfs
        "full_page_writes": "on",
        "wal_level": "replica",
        "hot_standby": "on",
        "max_wal_senders": 10,
        "max_replication_slots": 10,
        # Always on (changing it needs a restart); without an archive, segments are
        # "archived" by a no-op and recycled: backups can be switched on with a reload.
        "archive_mode": "on",
        "archive_command": archive_command(spec.archive_dir) if spec.archive_dir else ":",
        "archive_timeout": ARCHIVE_TIMEOUT,
    }
    if ssl:
        enforced |= {"ssl_cert_file": "server.crt", "ssl_key_file": "server.key"}
    text = ("# Written by Cloudlet at every start; edits are lost.\n" + render(defaults)
            + f"include_if_exists = {quote(PARAMETERS_FILE)}\n"
            + render(enforced))
    if recovery:
        text += render(recovery)
    return text


def parameters_conf(parameters: dict[str, str], rejected: set[str] = frozenset()) -> str:
    lines = {name: value for name, value in parameters.items()
             if value is not None and name not in rejected
             and (not name.startswith("rds.") or name == FORCE_SSL)}
    return "# The DB parameter group, written by Cloudlet.\n" + render(lines)


def force_ssl(parameters: dict[str, str]) -> bool:
    return str(parameters.get(FORCE_SSL, "0")).strip().lower() in ("1", "on", "true")


def hba_conf(*, ssl_only: bool) -> str:
    host = "hostssl" if ssl_only else "host"
    lines = [
        "# Written by Cloudlet at every start; edits are lost.",
        "local all all trust",
        "local replication all trust",
        f"{host} all all 127.0.0.1/32 scram-sha-256",
        f"{host} replication all 127.0.0.1/32 scram-sha-256",
    ]
    if ssl_only:
        lines.append("hostnossl all all 127.0.0.1/32 reject")
    return "\n".join(lines) + "\n"


def synchronous_standby_names(standbys: list[str]) -> str:
    """Commits wait for any one of the standbys (Multi-AZ has one)."""
    return "ANY 1 (" + ", ".join('"' + name + '"' for name in standbys) + ")"


def standbys_of(value: str) -> list[str]:
    """The standby names in a synchronous_standby_names value."""
    inner = value.split("(", 1)[1].rsplit(")", 1)[0] if "(" in value else value
    return [name.strip().strip('"') for name in inner.split(",") if name.strip()]


BOOLEANS = {"on", "off", "true", "false", "yes", "no", "1", "0", "t", "f", "y", "n"}
UNITS = {"B", "kB", "MB", "GB", "TB", "us", "ms", "s", "min", "h", "d"}
NUMBER = re.compile(r"\s*([-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|0x[0-9a-fA-F]+))\s*([a-zA-Z]*)\s*")


def valid_value(value: str, vartype: str, min_val: str, max_val: str, unit: str,
                enumvals: str) -> bool:
    """Whether PostgreSQL would accept `value` for a setting of this pg_settings shape
    (numbers with a unit are checked for the unit only, not the range)."""
    if vartype == "bool":
        return value.strip().lower() in BOOLEANS
    if vartype == "enum":
        return value.strip().lower() in {v.lower() for v in enumvals.split(",")}
    if vartype not in ("integer", "real"):
        return True
    match = NUMBER.fullmatch(value)
    if not match:
        return False
    number, suffix = match.groups()
    if suffix:
        return bool(unit) and suffix in UNITS
    try:
        parsed = float(int(number, 16)) if number.lower().startswith("0x") else float(number)
    except ValueError:
        return False
    if vartype == "integer" and not parsed.is_integer():
        return False
    return float(min_val) <= parsed <= float(max_val) if min_val and max_val else True


DATA_TYPES = {"bool": "boolean", "integer": "integer", "real": "real", "string": "string",
              "enum": "string"}


def parameter_row(name, setting, unit, vartype, context, short_desc, min_val, max_val,
                  enumvals) -> dict:
    """One row of pg_settings as RDS's DescribeDBParameters shows it."""
    static = context == "postmaster"
    if vartype == "bool":
        allowed = "0,1"
    elif vartype == "enum" and enumvals:
        allowed = ",".join(enumvals)
    elif vartype in ("integer", "real") and min_val is not None:
        allowed = f"{min_val}-{max_val}"
    else:
        allowed = None
    description = short_desc + (f" (unit: {unit})" if unit else "")
    row = {
        "ParameterName": name, "ParameterValue": setting, "Description": description,
        "Source": "engine-default", "ApplyType": "static" if static else "dynamic",
        "DataType": DATA_TYPES.get(vartype, "string"),
        "IsModifiable": context != "internal" and name not in MANAGED,
        "ApplyMethod": "pending-reboot" if static else "immediate",
    }
    if allowed is not None:
        row["AllowedValues"] = allowed
    return row
