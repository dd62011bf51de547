"""Running mmdebstrap, with its output turned into progress (package counts)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cloudlet.engines.images.recipes import MIRROR, SUITE


@dataclass(frozen=True)
class Progress:
    image: str
    phase: str          # "resolving", "downloading", "unpacking", "configuring", "registering", "done"
    done: int = 0
    total: int = 0      # packages known so far (essential first, then the rest)

    def __str__(self) -> str:
        if self.total:
            return f"building {self.image}: {self.phase} {self.done}/{self.total}"
        return f"building {self.image}: {self.phase}"


ProgressCallback = Callable[[Progress], None]

_NEW = re.compile(r"^\d+ upgraded, (\d+) newly installed")


class BuildError(Exception):
    """mmdebstrap failed; the message carries the end of its output."""


class ProgressParser:
    """Turns mmdebstrap --verbose lines into Progress: apt's "N newly installed" lines give
    the totals (essential packages, then the rest), dpkg's "Unpacking"/"Setting up" the counts."""

    def __init__(self, image: str, report: ProgressCallback | None):
        self.image, self.report = image, report or (lambda _p: None)
        self.total = self.unpacked = self.configured = 0
        self.phase = "resolving"

    def feed(self, line: str) -> Progress | None:
        found = _NEW.match(line)
        progress = None
        if found:
            self.total += int(found.group(1))
            self.phase = "downloading"
            progress = Progress(self.image, self.phase, 0, self.total)
        elif line.startswith("Unpacking "):
            self.unpacked += 1
            self.phase = "unpacking"
            progress = Progress(self.image, "unpacking", self.unpacked, self.total)
        elif line.startswith("Setting up "):
            self.configured += 1
            progress = Progress(self.image, "configuring", self.configured, self.total)
        if progress is not None:
            self.report(progress)
        return progress


def available() -> str | None:
    """What is missing to build images, or None."""
    if not shutil.which("mmdebstrap"):
        return "mmdebstrap is not installed (apt-get install mmdebstrap)"
    if os.geteuid() != 0:
        return "building images needs root (mmdebstrap --mode=root)"
    return None


def run(target: Path, packages: tuple[str, ...], image: str,
        report: ProgressCallback | None = None, log: Path | None = None) -> None:
    """Build a minbase root of SUITE with packages into target (which must not exist)."""
    parser = ProgressParser(image, report)
    cmd = ["mmdebstrap", "--verbose", "--variant=minbase", "--mode=root", "--format=directory",
           f"--include={','.join(packages)}", SUITE, str(target), MIRROR]
    tail: list[str] = []
    with open(log or os.devnull, "w") as sink, subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True, errors="replace") as proc:
        for line in proc.stdout:
            sink.write(line)
            tail = (tail + [line.rstrip()])[-20:]
            parser.feed(line)
    if proc.returncode != 0:
        raise BuildError(f"mmdebstrap exited with {proc.returncode}:\n" + "\n".join(tail))
