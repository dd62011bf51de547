"""Image recipes: what an image is made of (a Debian base, a default user, extra packages)."""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
# Every base has these; an image's extra packages are added to them.
BASE_PACKAGES = (
    "openssh-server", "cloud-init", "python3", "curl", "iproute2", "ca-certificates", "sudo",
    "procps", "netbase", "tini", "e2fsprogs", "util-linux", "mount", "iputils-ping", "less",
    "python3-boto3",  # as AWS's images carry the SDK (the AWS CLI there): code finds its role
)
# Bumped when what a base or a layer contains changes, so that caches rebuild.
FORMAT = 2


@dataclass(frozen=True)
class Recipe:
    name: str
    default_user: str
    description: str = ""
    packages: tuple[str, ...] = ()          # extra Debian packages, beyond BASE_PACKAGES
    family: str = "debian"                  # the distribution family the image stands in for

    def base_packages(self) -> tuple[str, ...]:
        return tuple(sorted(set(BASE_PACKAGES) | set(self.packages)))

    def base_key(self) -> str:
        """The cache key of the mmdebstrap root this image sits on: images whose package
        sets are equal share one base."""
        text = json.dumps({"suite": SUITE, "variant": "minbase", "format": FORMAT,
                           "packages": self.base_packages()}, sort_keys=True)
        return f"{SUITE}-{hashlib.sha256(text.encode()).hexdigest()[:12]}"

    def layer_key(self) -> str:
        text = json.dumps({"base": self.base_key(), "user": self.default_user,
                           "name": self.name, "family": self.family, "format": FORMAT},
                          sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:12]


def _standing_in(what: str) -> str:
    return f"Debian 12 root filesystem standing in for {what}"


STANDARD = {
    r.name: r for r in (
        Recipe("al2023", "ec2-user", _standing_in("Amazon Linux 2023"), family="amazon"),
        Recipe("amzn2", "ec2-user", _standing_in("Amazon Linux 2"), family="amazon"),
        Recipe("ubuntu-22.04", "ubuntu", _standing_in("Ubuntu 22.04 LTS"), family="ubuntu"),
        Recipe("ubuntu-24.04", "ubuntu", _standing_in("Ubuntu 24.04 LTS"), family="ubuntu"),
        Recipe("debian-12", "admin", "Debian 12 (bookworm) root filesystem", family="debian"),
    )
}


class RecipeError(ValueError):
    """A recipe file or name that cannot be used; the message says why."""


def recipes_file() -> Path:
    configured = os.environ.get("CLOUDLET_IMAGE_RECIPES")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "cloudlet" / "images.toml"


def load_recipes(path: Path | None = None) -> dict[str, Recipe]:
    """The standard recipes plus the user's (TOML, see the package docstring)."""
    recipes = dict(STANDARD)
    path = path or recipes_file()
    if not path.exists():
        return recipes
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as e:
        raise RecipeError(f"{path}: {e}") from e
    for name, entry in (data.get("recipe") or {}).items():
        recipes[name] = derive(recipes, name, entry, path)
    return recipes


def derive(recipes: dict[str, Recipe], name: str, entry: dict, where: Path | str = "") -> Recipe:
    base_name = entry.get("base", "debian-12")
    base = recipes.get(base_name)
    if base is None:
        raise RecipeError(f"{where}: recipe {name!r}: unknown base {base_name!r}")
    packages = entry.get("packages", [])
    if not isinstance(packages, list) or not all(_valid_package(p) for p in packages):
        raise RecipeError(f"{where}: recipe {name!r}: packages must be Debian package names")
    user = entry.get("default_user", base.default_user)
    if not _valid_user(user):
        raise RecipeError(f"{where}: recipe {name!r}: invalid default_user {user!r}")
    return Recipe(name=name, default_user=user, family=base.family,
                  description=entry.get("description", f"{base.description} with {', '.join(packages)}"
                                        if packages else base.description),
                  packages=tuple(sorted(set(base.packages) | set(packages))))


def _valid_package(name) -> bool:
    return isinstance(name, str) and 0 < len(name) < 100 and name[0].isalnum() and all(
        c.isalnum() or c in "+-.:" for c in name) and name == name.lower()


def _valid_user(name) -> bool:
    return isinstance(name, str) and 0 < len(name) <= 32 and name[0].isalpha() and all(
        c.isalnum() or c in "-_" for c in name)
