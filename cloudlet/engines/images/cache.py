"""The image cache: bases built once, thin family layers over them, flattened images.

Layout (under `$CLOUDLET_IMAGE_CACHE`, default `~/.cache/cloudlet/images`):

    bases/<suite>-<hash>/          an mmdebstrap root, registered (registration.py); the hash
                                   is of its package set, so images with equal sets share it
    bases/<key>.log                mmdebstrap's output
    images/<name>.json             {"name", "default_user", "description", "key", "layers"}:
                                   the image's record, replaced atomically
    layers/<name>-<key>/           a family's thin layer (default user, names), or a
                                   flattened image's whole root (CreateImage); a recipe that
                                   changes gets a new key, so a layer in use never changes
    locks/<key>.lock               flock'd while a base or an image is built
    tmp/                           builds in progress (renamed into place when complete)

Everything under bases/ and images/ is immutable once renamed into place: instances use
those directories as overlayfs lower dirs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from cloudlet.engines.images import mmdebstrap, registration
from cloudlet.engines.images.mmdebstrap import Progress, ProgressCallback
from cloudlet.engines.images.recipes import Recipe, RecipeError, load_recipes


def cache_dir() -> Path:
    configured = os.environ.get("CLOUDLET_IMAGE_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "cloudlet" / "images"


@dataclass(frozen=True)
class Image:
    name: str
    default_user: str
    description: str
    layers: tuple[Path, ...]        # overlayfs lower dirs, top first
    built_at: float = 0.0

    def to_json(self) -> dict:
        return {"name": self.name, "default_user": self.default_user,
                "description": self.description, "layers": [str(p) for p in self.layers],
                "built_at": self.built_at}

    @classmethod
    def from_json(cls, data: dict) -> Image:
        return cls(data["name"], data["default_user"], data.get("description", ""),
                   tuple(Path(p) for p in data["layers"]), data.get("built_at", 0.0))


@dataclass(frozen=True)
class ImageStatus:
    name: str
    description: str
    built: bool
    packages: tuple[str, ...]


class ImageCache:
    def __init__(self, root: Path | None = None, recipes: dict[str, Recipe] | None = None):
        self.root = Path(root) if root else cache_dir()
        self._recipes = recipes

    @property
    def recipes(self) -> dict[str, Recipe]:
        if self._recipes is None:
            self._recipes = load_recipes()
        return self._recipes

    def list_images(self) -> list[ImageStatus]:
        """Every recipe, built or not, then flattened images (CreateImage)."""
        out = [ImageStatus(r.name, r.description, self._current(r) is not None, r.packages)
               for r in self.recipes.values()]
        records = self.root / "images"
        if records.is_dir():
            for record in sorted(records.glob("*.json")):
                image = self.get(record.stem)
                if record.stem not in self.recipes and image is not None:
                    out.append(ImageStatus(image.name, image.description, True, ()))
        return out

    def get(self, name: str) -> Image | None:
        """The image if it is built (and its layers are all there), else None."""
        data = self._record(name)
        try:
            image = Image.from_json(data)
        except (TypeError, KeyError):
            return None
        if not all(layer.is_dir() for layer in image.layers):
            return None
        return image

    def _record(self, name: str) -> dict | None:
        try:
            return json.loads((self.root / "images" / f"{name}.json").read_text())
        except (OSError, ValueError):
            return None

    def build(self, name: str, progress: ProgressCallback | None = None) -> Image:
        """The image of a recipe, built first if needed (once, even when several processes
        ask at the same time)."""
        recipe = self.recipes.get(name)
        if recipe is None:
            existing = self.get(name)
            if existing is not None:
                return existing
            raise RecipeError(f"no image recipe named {name!r}")
        report = progress or (lambda _p: None)
        image = self._current(recipe)
        if image is not None:
            return image
        missing = mmdebstrap.available()
        if missing:
            raise mmdebstrap.BuildError(missing)
        base = self._base(recipe, report)
        with self._lock(f"image-{name}"):
            image = self._current(recipe)
            if image is not None:
                return image
            report(Progress(name, "registering"))
            key = recipe.layer_key()
            layer = self.root / "layers" / f"{name}-{key}"
            if not layer.is_dir():
                with self._staging(f"layer-{name}") as tmp:
                    registration.write_layer(tmp / "layer", recipe)
                    self._install(tmp / "layer", layer)
            image = Image(recipe.name, recipe.default_user, recipe.description, (layer, base),
                          time.time())
            self._write_record(image, key)
        report(Progress(name, "done"))
        return image

    def _current(self, recipe: Recipe) -> Image | None:
        data = self._record(recipe.name)
        if not data or data.get("key") != recipe.layer_key():
            return None
        return self.get(recipe.name)

    def _write_record(self, image: Image, key: str) -> None:
        records = self.root / "images"
        records.mkdir(parents=True, exist_ok=True)
        tmp = records / f".{image.name}.json.{os.getpid()}"
        tmp.write_text(json.dumps({**image.to_json(), "key": key}, indent=1) + "\n")
        tmp.rename(records / f"{image.name}.json")

    def _base(self, recipe: Recipe, report: ProgressCallback) -> Path:
        key = recipe.base_key()
        base = self.root / "bases" / key
        if base.is_dir():
            return base
        with self._lock(f"base-{key}"):
            if base.is_dir():
                return base
            (self.root / "bases").mkdir(parents=True, exist_ok=True)
            with self._staging(f"base-{key}") as tmp:
                root = tmp / "root"
                mmdebstrap.run(root, recipe.base_packages(), recipe.name, report,
                               log=self.root / "bases" / f"{key}.log")
                report(Progress(recipe.name, "registering"))
                registration.register_base(root)
                os.chmod(root, 0o755)
                self._install(root, base)
        return base

    def flatten(self, name: str, layers: list[Path], description: str = "",
                default_user: str = "ec2-user") -> Image:
        """A new immutable image from an instance's root: its upper dir (first) over its
        image's layers, merged by a read-only overlay mount and copied into one directory.
        The instance should be stopped (its upper dir not mounted by a running instance)."""
        with self._lock(f"image-{name}"):
            if self._record(name) is not None or name in self.recipes:
                raise FileExistsError(f"image {name!r} exists")
            key = os.urandom(6).hex()
            target = self.root / "layers" / f"{name}-{key}"
            with self._staging(f"flatten-{name}") as tmp:
                merged = tmp / "merged"
                merged.mkdir()
                options = "lowerdir=" + ":".join(str(p) for p in layers)
                subprocess.run(["mount", "-t", "overlay", "overlay", "-o", f"ro,{options}",
                                str(merged)], check=True, capture_output=True)
                try:
                    subprocess.run(["cp", "-a", "--sparse=always", f"{merged}/.", str(tmp / "layer")],
                                   check=True, capture_output=True)
                finally:
                    subprocess.run(["umount", str(merged)], capture_output=True)
                for host_key in (tmp / "layer/etc/ssh").glob("ssh_host_*"):
                    host_key.unlink()
                self._install(tmp / "layer", target)
            image = Image(name, default_user, description, (target,), time.time())
            self._write_record(image, key)
        return image

    def remove(self, name: str) -> bool:
        """Forget a flattened image's record. Its layer stays until no instance uses it:
        the caller removes it with remove_layer once nothing refers to it."""
        record = self.root / "images" / f"{name}.json"
        with self._lock(f"image-{name}"):
            try:
                record.unlink()
                return True
            except FileNotFoundError:
                return False

    def remove_layer(self, layer: Path) -> None:
        layer = Path(layer)
        if layer.parent != self.root / "layers" or not layer.is_dir():
            return
        trash = Path(tempfile.mkdtemp(dir=self._tmp_root(), prefix="remove-"))
        layer.rename(trash / "layer")
        shutil.rmtree(trash, ignore_errors=True)

    def _tmp_root(self) -> Path:
        tmp = self.root / "tmp"
        tmp.mkdir(parents=True, exist_ok=True)
        return tmp

    @contextlib.contextmanager
    def _staging(self, what: str):
        tmp = Path(tempfile.mkdtemp(dir=self._tmp_root(), prefix=f"{what}-"))
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @staticmethod
    def _install(built: Path, target: Path) -> None:
        """Rename a complete build into place (atomic: readers see all of it or nothing)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        built.rename(target)

    @contextlib.contextmanager
    def _lock(self, key: str):
        locks = self.root / "locks"
        locks.mkdir(parents=True, exist_ok=True)
        with open(locks / f"{key}.lock", "w") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)
