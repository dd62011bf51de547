"""Root filesystems for instances: built with mmdebstrap from Debian bookworm, cached, immutable.

An image is a stack of overlayfs lower dirs (top first): a thin layer of its own (the
family's default user and names) over a **base**, the mmdebstrap root (`--variant=minbase
--mode=root`) of a package set. Images whose package sets are equal share one base, so the
five standard images cost one mmdebstrap run (~40 s) and five directories of a few files.

    recipes.py       Recipe, the standard recipes, the user's recipe file
    mmdebstrap.py    running mmdebstrap; its output as Progress ("unpacking 112/189")
    registration.py  what makes a root bootable by the instance engine; a family's layer
    cache.py         ImageCache: build (locked, atomic), get, list, flatten (CreateImage)

**Recipes**, as Packer's would be: a recipe names its base, its default user and optional
extra Debian packages. The standard ones are `al2023` and `amzn2` (user `ec2-user`),
`ubuntu-22.04` and `ubuntu-24.04` (`ubuntu`) and `debian-12` (`admin`): Debian 12 roots
standing in for those families, with BASE_PACKAGES (openssh-server, cloud-init, python3,
curl, sudo, ...). Users add theirs in `~/.config/cloudlet/images.toml` (or the file named
by `$CLOUDLET_IMAGE_RECIPES`):

    [recipe.web]
    base = "al2023"                            # a standard recipe or another of the file's
    packages = ["nginx", "python3-psycopg2", "python3-boto3"]
    description = "Amazon Linux 2023 stand-in with nginx and psycopg2"   # optional
    # default_user = "ec2-user"                # optional, the base's by default

An image with extra packages is its own mmdebstrap build (a base for its package set), so
its instances need no internet to install their stack. `cloudlet images build web` builds
it ahead of time.

The cache lives outside the data directory (`cloudlet reset` keeps it): `$CLOUDLET_IMAGE_CACHE`
or `~/.cache/cloudlet/images`; its layout is in cache.py. Builds go to a temporary directory
renamed into place, under a lock file, so two processes asking for one image build it once.
"""

from __future__ import annotations

from cloudlet.engines.images.cache import Image, ImageCache, ImageStatus, cache_dir
from cloudlet.engines.images.mmdebstrap import BuildError, Progress, ProgressCallback, available
from cloudlet.engines.images.recipes import STANDARD, Recipe, RecipeError, load_recipes

__all__ = ["STANDARD", "BuildError", "Image", "ImageCache", "ImageStatus", "Progress",
           "ProgressCallback", "Recipe", "RecipeError", "available", "build", "cache_dir",
           "list_images", "load_recipes"]


def list_images() -> list[ImageStatus]:
    """For `cloudlet images list`: every recipe (built or not) and every flattened image."""
    return ImageCache().list_images()


def build(name: str, progress: ProgressCallback | None = None) -> Image:
    """For `cloudlet images build NAME`: build the image unless it is cached; progress gets
    Progress values (str() of one is a line for the terminal)."""
    return ImageCache().build(name, progress)
