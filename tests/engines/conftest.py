"""The image the engine tests share: built once per session (cached, so reruns are fast)."""

from __future__ import annotations

import os
import shutil

import pytest


def image_build_missing() -> str | None:
    if os.geteuid() != 0:
        return "building images needs root"
    if not shutil.which("mmdebstrap"):
        return "mmdebstrap is not installed"
    return None


@pytest.fixture(scope="session")
def built_image():
    """al2023 (ec2-user) from the image cache ($CLOUDLET_IMAGE_CACHE or ~/.cache/...)."""
    missing = image_build_missing()
    if missing:
        pytest.skip(missing)
    from cloudlet.engines.images import ImageCache

    lines = []
    image = ImageCache().build("al2023", lambda p: lines.append(str(p)))
    if lines:
        print(f"built al2023: {lines[-1]} ({len(lines)} progress lines)")
    return image
