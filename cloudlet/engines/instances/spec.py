"""What the caller tells the instance engine, and what it hears back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Volume:
    file: Path                      # a sparse file (the EBS volume)
    device_name: str                # where it appears inside, e.g. /dev/sdf or /dev/xvdf


@dataclass
class InstanceSpec:
    instance_id: str
    layers: list[Path]              # the image's overlayfs lower dirs, top first
    root_volume: Path               # sparse ext4 file holding the overlay's upper layer
    netns: str                      # the network namespace to run in (/run/netns/NAME)
    hostname: str = "localhost"
    root_volume_gib: int = 8        # the file's size when the engine creates it
    default_user: str | None = None  # overrides the image's default user
    public_keys: list[str] = field(default_factory=list)
    user_data: bytes = b""
    vcpus: float = 1.0
    memory_mib: int = 1024
    pids_max: int = 1024
    nameserver: str | None = None   # the VPC resolver (the subnet's base + 2)
    private_ip: str | None = None   # for /etc/hosts
    search_domain: str | None = None  # e.g. ec2.internal
    ca_certificate: bytes | None = None  # PEM appended to the instance's trust store
    volumes: list[Volume] = field(default_factory=list)  # data volumes attached at boot
    metadata: dict = field(default_factory=dict)  # extra NoCloud meta-data keys
    environment: dict[str, str] = field(default_factory=dict)  # /etc/environment (every login)


@dataclass(frozen=True)
class Limits:
    """The limits in force (a type bigger than the host is capped to the host)."""
    vcpus: float
    memory_mib: int
    pids_max: int
    devices_allowlist: bool         # devices cgroup v1 in force
    seccomp: bool


@dataclass(frozen=True)
class InstanceEvent:
    instance_id: str
    kind: str                       # "booted" (sshd accepts), "exited"
    reason: str = ""                # exited: "poweroff", "reboot", "stop", "kill", "crash"
    detail: str = ""                # exited: the exit status, an OOM kill, ...


EventCallback = Callable[[InstanceEvent], None]


@dataclass(frozen=True)
class Stats:
    cpu_seconds: float              # CPU time used since boot (the cgroup's)
    memory_bytes: int               # memory charged to the instance (page cache included)
    rss_bytes: int                  # anonymous memory
    memory_limit_bytes: int
    pids: int
    oom_kills: int
    # I/O completed by the instance's volumes (the root volume's and the data volumes' loop
    # devices) since they were attached: what AWS/EC2's Disk* and EBS* metrics count
    disk_read_bytes: int = 0
    disk_write_bytes: int = 0
    disk_read_ops: int = 0
    disk_write_ops: int = 0


class InstanceError(Exception):
    """An instance that cannot start, or an operation that does not apply to its state."""
