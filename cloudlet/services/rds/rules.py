"""RDS's input rules: identifiers, master credentials, storage, instance classes, engine
versions. Each check raises the error AWS raises, with AWS's message."""

from __future__ import annotations

import re
from dataclasses import dataclass

from cloudlet.engines.db.server import engine_class
from cloudlet.services.rds import errors

IDENTIFIER = re.compile(r"^[a-zA-Z](?:[a-zA-Z0-9]|-(?!-))*$")
PASSWORD_FORBIDDEN = set('/@" ')


@dataclass(frozen=True)
class EngineRules:
    default_port: int
    license_model: str
    password_max: int
    username_max: int
    description: str


ENGINES = {
    "postgres": EngineRules(5432, "postgresql-license", 128, 63, "PostgreSQL"),
    "mysql": EngineRules(3306, "general-public-license", 41, 32, "MySQL Community Edition"),
    "mariadb": EngineRules(3306, "general-public-license", 41, 16, "MariaDB Community Edition"),
    "aurora-postgresql": EngineRules(5432, "postgresql-license", 128, 63,
                                     "Aurora (PostgreSQL)"),
    "aurora-mysql": EngineRules(3306, "general-public-license", 41, 16, "Aurora (MySQL)"),
}
AURORA = ("aurora-postgresql", "aurora-mysql")

# storage type -> (min GiB, max GiB)
STORAGE = {"gp2": (20, 65536), "gp3": (20, 65536), "io1": (100, 65536), "io2": (100, 65536),
           "standard": (5, 3072), "aurora": (1, 131072)}
STORAGE_QUOTA_GIB = 100000

# class -> (vCPU, memory GiB)
_SIZES = {"micro": (2, 1), "small": (2, 2), "medium": (2, 4), "large": (2, 8),
          "xlarge": (4, 16), "2xlarge": (8, 32), "4xlarge": (16, 64)}
CLASSES: dict[str, tuple[int, float]] = {}
for _family in ("t3", "t4g"):
    for _size in ("micro", "small", "medium", "large", "xlarge", "2xlarge"):
        CLASSES[f"db.{_family}.{_size}"] = _SIZES[_size]
for _family in ("m5", "m6g", "m6i", "m7g"):
    for _size in ("large", "xlarge", "2xlarge", "4xlarge"):
        CLASSES[f"db.{_family}.{_size}"] = _SIZES[_size]
for _family in ("r5", "r6g", "r6i", "r7g"):
    for _size in ("large", "xlarge", "2xlarge", "4xlarge"):
        vcpu, mem = _SIZES[_size]
        CLASSES[f"db.{_family}.{_size}"] = (vcpu, mem * 2)

RESERVED_USERNAMES = {"rdsadmin", "rdsrepladmin", "rds_superuser", "rds_replication", "admin_",
                      "select", "user", "table", "where", "from", "grant", "root_"}


def shape(instance_class: str, engine: str) -> tuple[int, int, int]:
    """(vCPU, memory MiB, max_connections) of a class, by RDS's default formulas:
    postgres LEAST(DBInstanceClassMemory/9531392, 5000), MySQL DBInstanceClassMemory/12582880."""
    vcpu, gib = CLASSES[instance_class]
    memory = int(gib * 1024 ** 3)
    connections = min(memory // 9531392, 5000) if engine.endswith("postgres") \
        or engine == "aurora-postgresql" else memory // 12582880
    return vcpu, int(gib * 1024), connections


def identifier(value, name: str = "DBInstanceIdentifier") -> str:
    if not isinstance(value, str) or not value or len(value) > 63 or not IDENTIFIER.match(value) \
            or value.endswith("-"):
        raise errors.invalid_value(
            f"The parameter {name} is not a valid identifier. Identifiers must begin with a "
            "letter; must contain only ASCII letters, digits, and hyphens; and must not end "
            "with a hyphen or contain two consecutive hyphens.")
    return value.lower()


def snapshot_identifier(value, name: str = "DBSnapshotIdentifier") -> str:
    if isinstance(value, str) and value.startswith("rds:"):
        return value
    if not isinstance(value, str) or not value or len(value) > 255 or \
            not IDENTIFIER.match(value) or value.endswith("-"):
        raise errors.invalid_value(
            f"The parameter {name} is not a valid identifier. Identifiers must begin with a "
            "letter; must contain only ASCII letters, digits, and hyphens; and must not end "
            "with a hyphen or contain two consecutive hyphens.")
    return value.lower()


def engine_rules(engine) -> EngineRules:
    if not engine:
        raise errors.missing("Engine")
    rules = ENGINES.get(engine)
    if rules is None:
        raise errors.invalid_value(f"Invalid DB engine: {engine}")
    return rules


def engine_available(engine: str):
    """The engine's class, or AWS's error when the host lacks it."""
    try:
        cls = engine_class(engine)
        why = cls.available() if cls is not None else f"Invalid DB engine: {engine}"
    except Exception as e:  # an engine module that does not import yet
        why = f"the {engine} engine is unavailable: {e}"
    if why:
        raise errors.invalid_combination(
            f"Cannot create a {engine} DB instance on this host: {why}")
    return cls


def host_versions(engine: str) -> list[str]:
    try:
        cls = engine_class(engine)
        if cls is None or cls.available():
            return []
        return list(cls.versions())
    except Exception:
        return []


def _version_key(version: str):
    return [int(p) if p.isdigit() else p for p in re.split(r"[.-]", version)]


def engine_version(engine: str, requested: str | None) -> str:
    versions = sorted(host_versions(engine), key=_version_key)
    if not versions:
        raise errors.invalid_combination(f"Cannot find version {requested or ''} for {engine}"
                                         .replace("  ", " "))
    if not requested:
        return versions[-1]
    matches = [v for v in versions if v == requested or v.startswith(requested + ".")]
    if not matches:
        raise errors.invalid_combination(f"Cannot find version {requested} for {engine}")
    return matches[-1]


def family(engine: str, version: str) -> str:
    parts = version.split(".")
    if engine in ("postgres", "aurora-postgresql") and int(parts[0]) >= 10:
        return f"{engine}{parts[0]}"
    return f"{engine}{'.'.join(parts[:2])}"


def major(engine: str, version: str) -> str:
    return family(engine, version)[len(engine):]


def instance_class(value, engine: str, version: str) -> str:
    if not value:
        raise errors.missing("DBInstanceClass")
    if value not in CLASSES:
        raise errors.invalid_combination(
            "RDS does not support creating a DB instance with the following combination: "
            f"DBInstanceClass={value}, Engine={engine}, EngineVersion={version}, "
            f"LicenseModel={ENGINES[engine].license_model}. For supported combinations of "
            "instance class and database engine version, see the documentation.")
    return value


def storage(engine: str, size, storage_type: str, used_elsewhere: int = 0) -> int:
    if size is None:
        raise errors.missing("AllocatedStorage")
    if storage_type not in STORAGE:
        raise errors.invalid_value(f"Invalid storage type: {storage_type}")
    low, high = STORAGE[storage_type]
    if not low <= size <= high:
        raise errors.invalid_combination(
            f"Invalid storage size for engine name {engine} and storage type "
            f"{storage_type}: {size}")
    if used_elsewhere + size > STORAGE_QUOTA_GIB:
        raise errors.storage_quota()
    return size


def master_username(engine: str, value) -> str:
    if not value:
        raise errors.invalid_value("The parameter MasterUsername must be provided and must "
                                   "not be blank.")
    limit = ENGINES[engine].username_max
    if len(value) > limit or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value):
        raise errors.invalid_value(
            "MasterUsername must be 1 to "
            f"{limit} alphanumeric characters or underscores, and must begin with a letter.")
    if value.lower() in RESERVED_USERNAMES:
        raise errors.invalid_value(f"MasterUsername {value} cannot be used as it is a reserved "
                                   "word used by the engine")
    return value


def master_password(engine: str, value) -> str:
    if value is None or value == "":
        raise errors.invalid_value("The parameter MasterUserPassword must be provided and "
                                   "must not be blank.")
    if any(c in PASSWORD_FORBIDDEN or not 32 < ord(c) < 127 for c in value):
        raise errors.invalid_value("The parameter MasterUserPassword is not a valid password. "
                                   "Only printable ASCII characters besides '/', '@', '\"', "
                                   "' ' may be used.")
    if len(value) < 8:
        raise errors.invalid_value("The parameter MasterUserPassword is not a valid password "
                                   "because it is shorter than 8 characters.")
    limit = ENGINES[engine].password_max
    if len(value) > limit:
        raise errors.invalid_value("The parameter MasterUserPassword is not a valid password "
                                   f"because it is longer than {limit} characters.")
    return value


def backup_retention(value) -> int:
    if value is None:
        return 1
    if not 0 <= value <= 35:
        raise errors.invalid_value("Invalid backup retention period: must be between 0 and 35 "
                                   f"days, got {value}.")
    return value


def port(value, engine: str) -> int:
    if value is None:
        return ENGINES[engine].default_port
    if not 1150 <= value <= 65535:
        raise errors.invalid_value(f"Invalid port {value}: the port must be between 1150 and "
                                   "65535.")
    return value


def db_name(engine: str, value) -> str | None:
    if value is None:
        return None
    limit = 63 if engine in ("postgres", "aurora-postgresql") else 64
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", value) or len(value) > limit:
        raise errors.invalid_value(f"DBName must begin with a letter and contain only "
                                   f"alphanumeric characters and underscores, 1 to {limit} "
                                   "characters.")
    return value


_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def in_window(window: str, when) -> bool:
    """Whether `when` (a datetime, UTC) is inside a ddd:hh24:mi-ddd:hh24:mi window."""
    try:
        start, end = window.lower().split("-")
        def minute(part):
            day, hh, mm = part.split(":")
            return _DAYS.index(day) * 1440 + int(hh) * 60 + int(mm)
        a, b = minute(start), minute(end)
    except ValueError:
        return False
    now = when.weekday() * 1440 + when.hour * 60 + when.minute
    return a <= now < b if a <= b else (now >= a or now < b)


def maintenance_window(value) -> str:
    if value is None:
        return "sun:05:00-sun:05:30"
    if not re.fullmatch(r"(mon|tue|wed|thu|fri|sat|sun):\d\d:\d\d-(mon|tue|wed|thu|fri|sat|sun)"
                        r":\d\d:\d\d", value.lower()):
        raise errors.invalid_value("The maintenance window must be in the format "
                                   "ddd:hh24:mi-ddd:hh24:mi.")
    return value.lower()


def backup_window(value) -> str:
    if value is None:
        return "03:00-03:30"
    if not re.fullmatch(r"\d\d:\d\d-\d\d:\d\d", value):
        raise errors.invalid_value("The backup window must be in the format hh24:mi-hh24:mi.")
    return value
