"""What turns an mmdebstrap root into an image instances can boot, and a family's layer.

At registration (before the base is renamed into the cache, after which it never changes):
no SSH host keys (each instance makes its own), an empty machine-id, no host resolv.conf
(the instance engine writes resolv.conf and hosts per instance: the VPC resolver's address
is known only at boot), and cloud-init configured for Cloudlet: the NoCloud datasource (the
instance engine writes the seed), no network configuration (the VPC fabric configures eth0),
and module lists trimmed to what works in a namespace and matters to a user (no `locale`,
which fails on minbase, no hostname modules: the hostname is the UTS namespace's, set by the
engine, no growpart/resizefs/mounts, no snap/apt/ntp).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from cloudlet.engines.images.recipes import Recipe

CLOUD_CFG = """\
# Cloudlet: written at image registration.
datasource_list: [NoCloud, None]
network: {config: disabled}
manage_etc_hosts: false
preserve_hostname: true
ssh_genkeytypes: [ed25519, ecdsa]
cloud_init_modules:
 - bootcmd
 - write-files
 - ca-certs
 - users-groups
 - ssh
cloud_config_modules:
 - set-passwords
 - timezone
 - runcmd
cloud_final_modules:
 - package-update-upgrade-install
 - write-files-deferred
 - scripts-vendor
 - scripts-per-once
 - scripts-per-boot
 - scripts-per-instance
 - scripts-user
 - ssh-authkey-fingerprints
 - keys-to-console
 - final-message
 - power-state-change
"""

USER_CFG = """\
# Cloudlet: the default user of the {name} image.
system_info:
  default_user:
    name: {user}
    lock_passwd: true
    gecos: {gecos}
    groups: [adm, sudo]
    sudo: ["ALL=(ALL) NOPASSWD:ALL"]
    shell: /bin/bash
"""


def register_base(root: Path) -> None:
    """Make a freshly built root an image base (see the module docstring)."""
    for key in (root / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    (root / "etc/machine-id").write_text("")
    dbus_id = root / "var/lib/dbus/machine-id"
    if dbus_id.is_file() or dbus_id.is_symlink():
        dbus_id.unlink()
    resolv = root / "etc/resolv.conf"
    if resolv.exists() or resolv.is_symlink():
        resolv.unlink()
    resolv.write_text("# written per instance by Cloudlet\n")
    (root / "etc/hostname").write_text("localhost\n")
    cfg = root / "etc/cloud/cloud.cfg.d"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "05_cloudlet.cfg").write_text(CLOUD_CFG)
    # sshd in a namespace: no PAM session modules that need systemd-logind (not installed)
    # and no DNS lookups of clients.
    sshd = root / "etc/ssh/sshd_config.d"
    sshd.mkdir(parents=True, exist_ok=True)
    (sshd / "50-cloudlet.conf").write_text("UseDNS no\n")
    for cache in (root / "var/cache/apt").glob("*.bin"):
        cache.unlink()


def write_layer(layer: Path, recipe: Recipe) -> None:
    """A family's thin layer over its base: the default user and the image's names."""
    cfg = layer / "etc/cloud/cloud.cfg.d"
    cfg.mkdir(parents=True)
    gecos = {"ec2-user": "EC2 Default User", "ubuntu": "Ubuntu", "admin": "Debian"}.get(
        recipe.default_user, recipe.default_user)
    (cfg / "10_cloudlet_user.cfg").write_text(
        USER_CFG.format(name=recipe.name, user=recipe.default_user, gecos=gecos))
    (layer / "etc/cloudlet-image.json").write_text(json.dumps(
        {"name": recipe.name, "family": recipe.family, "default_user": recipe.default_user,
         "description": recipe.description}, indent=1) + "\n")
    for path in (layer, layer / "etc", layer / "etc/cloud", cfg):
        os.chmod(path, 0o755)
