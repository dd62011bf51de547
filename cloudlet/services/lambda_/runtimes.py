"""What a function's runtime really runs on here, reported honestly.

Cloudlet runs python3.x on the host's Python, nodejs* on the host's Node.js, provided.* as
the zip's own bootstrap; Java, .NET and Ruby functions are stored but cannot run. When the
host's version differs from the runtime's name, or the runtime cannot run, GetFunction
says so in RuntimeVersionConfig.Error (ErrorCode "RuntimeVersionMismatch"), and the Invoke
side can log the same `mismatch()` text.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess


@functools.cache
def host_version(family: str) -> str | None:
    """The host interpreter's version for "python" or "nodejs", None if there is none."""
    if family == "python":
        from cloudlet.engines.lambda_ import sandbox

        try:
            return sandbox.host_python()[1]
        except Exception:  # noqa: BLE001 - no usable interpreter: nothing to compare
            return None
    node = shutil.which("node")
    if node is None:
        return None
    try:
        out = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().lstrip("v") or None


def mismatch(runtime: str | None) -> str | None:
    """A sentence when `runtime` runs on another interpreter version, else None."""
    if not runtime or runtime.startswith("provided"):
        return None
    match = re.fullmatch(r"(python)(\d+\.\d+)|(nodejs)(\d+)\.x", runtime)
    if match is None:
        return (f"Cloudlet cannot run {runtime}: functions run on python3.x, nodejs*.x and "
                "provided.* runtimes here.")
    family = match.group(1) or match.group(3)
    wanted = match.group(2) or match.group(4)
    found = host_version(family)
    if found is None:
        name = "Python" if family == "python" else "Node.js"
        return f"{runtime} needs {name}, which this host does not have."
    have = ".".join(found.split(".")[:2 if family == "python" else 1])
    if have == wanted:
        return None
    name = "Python" if family == "python" else "Node.js"
    return f"Cloudlet runs {runtime} on the host's {name} {found}."
