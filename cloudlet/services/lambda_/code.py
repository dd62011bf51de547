"""Deployment packages: checking a .zip file archive and unpacking it safely.

    CodeStore(root).add(zip_bytes) -> Package(sha256, size, unzipped, code_dir)

A package is stored once per content: the zip as `<root>/zips/<hex>.zip` (what GetFunction's
code URL serves) and its files under `<root>/code/<hex>/` (a function's LAMBDA_TASK_ROOT, a
layer's /opt). `CodeSha256` is the base64 SHA-256 of the zip, as AWS computes it.

Hostile archives are refused with InvalidParameterValueException before anything is
written where a function could see it: names that climb out (`../`, absolute paths, drive
letters), symbolic links that resolve outside the package, more than 250 MB unzipped (the
entries' declared sizes, and the bytes really written, are both counted), entries whose
compression ratio no honest deflate reaches, overlapping entries (a "zip bomb" reusing one
compressed stream), and zips that do not open or whose CRC is wrong. Files keep their
executable bit (a `bootstrap`), and are readable by every uid (the engine runs a function as
its own unprivileged uid, which reads the package through the read-only bind mount of its
sandbox); `<root>/code` itself is 0700, like the rest of the data directory, so no other
local user reaches them (the provider declares the tree shared: store/private.py). Nothing
is writable but by Cloudlet.
"""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import secrets
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from cloudlet.services.lambda_ import errors

log = logging.getLogger("cloudlet.lambda.code")

ZIPPED_LIMIT = 50 * 1024 * 1024          # direct upload
UNZIPPED_LIMIT = 262_144_000             # 250 MB, code and layers together
REQUEST_LIMIT = 69_905_067               # the base64 of 50 MB, as AWS words it
MAX_RATIO = 1100                         # deflate cannot do better than ~1032:1
MAX_ENTRIES = 100_000                    # boto3 and its dependencies hold ~10,000
BAD_ZIP = "Could not unzip uploaded file. Please check your file, then try to upload again."
CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Package:
    sha256: str      # base64, AWS's CodeSha256
    size: int        # zipped bytes
    unzipped: int
    code_dir: Path

    @property
    def hex(self) -> str:
        return base64.b64decode(self.sha256).hex()


class Refused(Exception):
    """Why an archive was refused (logged; the client gets AWS's message)."""


def code_sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def check_zipped_size(data: bytes, operation: str) -> None:
    if len(data) > ZIPPED_LIMIT:
        raise errors.RequestEntityTooLarge(
            f"Request must be smaller than {REQUEST_LIMIT} bytes for the {operation} operation")


class CodeStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        (self.root / "zips").mkdir(parents=True, exist_ok=True)
        (self.root / "code").mkdir(parents=True, exist_ok=True)
        os.chmod(self.root / "code", 0o700)
        for leftover in (self.root / "code").glob(".tmp-*"):
            shutil.rmtree(leftover, ignore_errors=True)

    def zip_path(self, hex_digest: str) -> Path:
        return self.root / "zips" / f"{hex_digest}.zip"

    def code_dir(self, hex_digest: str) -> Path:
        return self.root / "code" / hex_digest

    def add(self, data: bytes) -> Package:
        """Check and unpack a zip (raises InvalidParameterValueException), or find it."""
        sha = code_sha256(data)
        hex_digest = hashlib.sha256(data).hexdigest()
        target = self.code_dir(hex_digest)
        try:
            entries = inspect(data)
        except Refused as reason:
            raise _refusal(reason) from None
        unzipped = sum(info.file_size for info in entries)
        if not target.is_dir():
            tmp = self.root / "code" / f".tmp-{secrets.token_hex(6)}"
            try:
                unpack(data, entries, tmp)
                os.replace(tmp, target)
            except Refused as reason:
                raise _refusal(reason) from None
            except OSError as error:  # a name too long, a file where a directory goes...
                if not target.is_dir():  # (not a concurrent upload of the same zip)
                    raise _refusal(Refused(f"cannot unpack: {error}")) from None
            finally:
                shutil.rmtree(tmp, ignore_errors=True)
        path = self.zip_path(hex_digest)
        if not path.exists():
            part = path.with_name(f"{path.name}.{secrets.token_hex(4)}.tmp")
            part.write_bytes(data)
            os.replace(part, path)
        return Package(sha256=sha, size=len(data), unzipped=unzipped, code_dir=target)

    def stored(self) -> set[str]:
        names = {p.name for p in (self.root / "code").iterdir() if not p.name.startswith(".")}
        return names | {p.stem for p in (self.root / "zips").glob("*.zip")}

    def remove(self, hex_digest: str) -> None:
        """Forget a package no version uses any more (the caller knows)."""
        target = self.code_dir(hex_digest)
        if target.is_dir():
            doomed = self.root / "code" / f".tmp-{secrets.token_hex(6)}"
            os.replace(target, doomed)
            shutil.rmtree(doomed, ignore_errors=True)
        self.zip_path(hex_digest).unlink(missing_ok=True)

    def read_zip(self, hex_digest: str) -> bytes | None:
        try:
            return self.zip_path(hex_digest).read_bytes()
        except (OSError, ValueError):
            return None


def _refusal(reason: Refused) -> errors.InvalidParameterValue:
    log.info("refused a deployment package: %s", reason)
    text = str(reason)
    return errors.InvalidParameterValue(text if text.startswith("Unzipped size") else BAD_ZIP)


def _is_symlink(info: zipfile.ZipInfo) -> bool:
    return info.create_system == 3 and stat.S_ISLNK(info.external_attr >> 16)


def _safe_name(name: str) -> PurePosixPath:
    if "\\" in name or "\x00" in name or name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise Refused(f"entry {name!r} is not a relative path")
    path = PurePosixPath(name)
    if any(part == ".." for part in path.parts):
        raise Refused(f"entry {name!r} climbs out of the package")
    return path


def inspect(data: bytes) -> list[zipfile.ZipInfo]:
    """The archive's entries, if nothing about them is hostile (raises Refused)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        entries = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as error:
        raise Refused(f"not a zip: {error}") from None
    if len(entries) > MAX_ENTRIES:
        raise Refused(f"{len(entries)} entries")
    if sum(info.file_size for info in entries) > UNZIPPED_LIMIT:
        raise Refused(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
    for info in entries:
        _safe_name(info.filename)
        if info.file_size > CHUNK and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise Refused(f"entry {info.filename!r} expands {info.file_size} from "
                          f"{info.compress_size} bytes")
        if info.flag_bits & 0x1:
            raise Refused(f"entry {info.filename!r} is encrypted")
    if sum(info.compress_size for info in entries) > len(data):
        raise Refused("entries overlap")
    return entries


def unpack(data: bytes, entries: list[zipfile.ZipInfo], root: Path) -> None:
    """Directories and regular files first, symbolic links last (so no file is ever
    written through a link), then every link is resolved and must stay inside root."""
    root.mkdir(mode=0o755)
    archive = zipfile.ZipFile(io.BytesIO(data))
    links: list[tuple[Path, str]] = []
    written = 0
    for info in entries:
        relative = _safe_name(info.filename)
        if not relative.parts or relative.parts == (".",):
            continue
        target = root.joinpath(*relative.parts)
        if _is_symlink(info):
            links.append((target, _read(archive, info, 4096).decode("utf-8", "replace")))
            continue
        if info.is_dir():
            target.mkdir(mode=0o755, parents=True, exist_ok=True)
            continue
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            raise Refused(f"entry {info.filename!r} appears twice")
        written += _extract(archive, info, target, UNZIPPED_LIMIT - written)
    real_root = root.resolve()
    for target, destination in links:
        if not destination or destination.startswith("/") or "\x00" in destination:
            raise Refused(f"link {target.name!r} points to {destination!r}")
        _no_link_above(root, target)  # nothing is ever created through a link
        target.parent.mkdir(mode=0o755, parents=True, exist_ok=True)
        if target.exists() or target.is_symlink():
            raise Refused(f"link {target.name!r} replaces an entry")
        os.symlink(destination, target)
        _inside(real_root, root, target, destination)
    for target, destination in links:  # again: a later link may change an earlier's path
        _inside(real_root, root, target, destination)
    for directory, _, _ in os.walk(root):
        os.chmod(directory, 0o755)


def _no_link_above(root: Path, target: Path) -> None:
    path = root
    for part in target.relative_to(root).parts[:-1]:
        path = path / part
        if path.is_symlink():
            raise Refused(f"entry {target.relative_to(root)} lies under a link")


def _inside(real_root: Path, root: Path, target: Path, destination: str) -> None:
    resolved = Path(os.path.realpath(target))
    if resolved != real_root and real_root not in resolved.parents:
        raise Refused(f"link {target.relative_to(root)} resolves outside the package "
                      f"({destination!r})")


def _read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    try:
        with archive.open(info) as source:
            return source.read(limit)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as error:
        raise Refused(f"entry {info.filename!r}: {error}") from None


def _extract(archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, budget: int) -> int:
    mode = (info.external_attr >> 16) & 0o777 if info.create_system == 3 else 0
    mode = 0o755 if mode & 0o111 else 0o644
    written = 0
    try:
        with archive.open(info) as source, open(
                os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600),
                "wb") as sink:
            while chunk := source.read(CHUNK):
                written += len(chunk)
                if written > budget:
                    raise Refused(f"Unzipped size must be smaller than {UNZIPPED_LIMIT} bytes")
                sink.write(chunk)
    except (zipfile.BadZipFile, ValueError, EOFError, NotImplementedError) as error:
        raise Refused(f"entry {info.filename!r}: {error}") from None
    os.chmod(target, mode)
    return written
