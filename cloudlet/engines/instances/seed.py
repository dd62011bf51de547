"""The files an instance gets at every boot (written into its root through the overlay by
boot.py): the NoCloud seed (the same instance-id each boot, so that cloud-init runs user
data once), resolv.conf, hosts, hostname, Cloudlet's init and power commands, and the CA
certificate appended to the trust store."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from cloudlet.engines.instances.spec import InstanceSpec

GUEST = Path(__file__).with_name("guest")
SEED = "/var/lib/cloud/seed/nocloud"
TRUST_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
POWER_COMMANDS = ("poweroff", "halt", "reboot", "shutdown")


def _entry(path: str, content: bytes | str, mode: int = 0o644) -> list:
    raw = content.encode() if isinstance(content, str) else content
    return [path, base64.b64encode(raw).decode(), mode]


def meta_data(spec: InstanceSpec) -> str:
    data = {**spec.metadata, "instance-id": spec.instance_id,
            "local-hostname": spec.hostname, "public-keys": list(spec.public_keys)}
    return json.dumps(data, indent=1) + "\n"  # JSON is YAML


def files(spec: InstanceSpec) -> list:
    out = [
        _entry(f"{SEED}/meta-data", meta_data(spec), 0o600),
        _entry(f"{SEED}/user-data", spec.user_data or b"", 0o600),
        _entry("/etc/hostname", spec.hostname + "\n"),
        _entry("/etc/hosts", hosts(spec)),
        _entry("/etc/resolv.conf", resolv_conf(spec)),
        _entry("/usr/lib/cloudlet/init", (GUEST / "init").read_bytes(), 0o755),
        _entry("/usr/lib/cloudlet/stages.py", (GUEST / "stages.py").read_bytes(), 0o644),
    ]
    power = (GUEST / "power").read_bytes()
    out += [_entry(f"/usr/sbin/{name}", power, 0o755) for name in POWER_COMMANDS]
    if spec.ca_certificate:
        out.append(_entry("/usr/local/share/ca-certificates/cloudlet-ca.crt", spec.ca_certificate))
    if spec.environment:
        out.append(_entry("/etc/environment", environment(spec)))
    if spec.default_user:
        out.append(_entry("/etc/cloud/cloud.cfg.d/90_cloudlet_instance.cfg",
                          "system_info:\n  default_user:\n"
                          f"    name: {spec.default_user}\n"))
    return out


def appended(spec: InstanceSpec) -> list:
    """[path, base64 PEM]: appended to the file unless it already holds it."""
    if not spec.ca_certificate:
        return []
    pem = spec.ca_certificate.rstrip(b"\n") + b"\n"
    return [[TRUST_BUNDLE, base64.b64encode(pem).decode()]]


def environment(spec: InstanceSpec) -> str:
    """pam_env's /etc/environment: KEY="value" lines, read at every login and by sudo."""
    for key, value in spec.environment.items():
        if not key.isidentifier() or any(c in value for c in '"\\\n'):
            raise ValueError(f"environment variable {key!r} cannot be written as given")
    return "".join(f'{key}="{value}"\n' for key, value in spec.environment.items())


def resolv_conf(spec: InstanceSpec) -> str:
    lines = ["# written by Cloudlet at boot (the VPC's resolver)"]
    if spec.search_domain:
        lines.append(f"search {spec.search_domain}")
    if spec.nameserver:
        lines.append(f"nameserver {spec.nameserver}")
    lines.append("options timeout:1 attempts:2")
    return "\n".join(lines) + "\n"


def hosts(spec: InstanceSpec) -> str:
    short = spec.hostname.split(".", 1)[0]
    names = spec.hostname if short == spec.hostname else f"{spec.hostname} {short}"
    lines = ["127.0.0.1 localhost", "::1 localhost ip6-localhost ip6-loopback"]
    lines.append(f"{spec.private_ip or '127.0.1.1'} {names}")
    return "\n".join(lines) + "\n"
