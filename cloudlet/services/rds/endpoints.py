"""Endpoint names that resolve on this machine.

An instance's Endpoint.Address is `<id>.<12 characters>.<region>.rds.localhost` (AWS's
`<id>.<hash>.<region>.rds.amazonaws.com`). `*.localhost` does not resolve everywhere (glibc
asks DNS), so each name gets a line in /etc/hosts, marked `# cloudlet-rds`, added when the
instance is created or Cloudlet starts and removed when it is deleted or Cloudlet stops.
An Aurora cluster's reader endpoint maps to 127.0.0.2, so that it can share the cluster's
port with the writer endpoint.
Other lines are never touched. When /etc/hosts is not writable the address is `localhost`.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
from pathlib import Path

log = logging.getLogger("cloudlet.rds")

HOSTS = Path(os.environ.get("CLOUDLET_HOSTS_FILE", "/etc/hosts"))
MARK = "# cloudlet-rds"


class Endpoints:
    def __init__(self, root: Path):
        self.root = root
        self._lock = threading.Lock()
        self.writable = os.access(HOSTS, os.W_OK)

    def hostname(self, account: str, region: str, identifier: str) -> str:
        if not self.writable:
            return "localhost"
        digest = hashlib.sha256(f"{self.root.resolve()}:{account}".encode()).hexdigest()
        suffix = "".join(c for c in digest if c.isalpha())[:4] + digest[:8]
        return f"{identifier}.{suffix}.{region}.rds.localhost"

    def add(self, host: str, address: str = "127.0.0.1") -> None:
        if host != "localhost":
            self._edit(lambda names: {**names, host: address})

    def remove(self, *hosts: str) -> None:
        gone = {h for h in hosts if h != "localhost"}
        if gone:
            self._edit(lambda names: {n: a for n, a in names.items() if n not in gone})

    def _edit(self, change) -> None:
        with self._lock:
            try:
                with open(HOSTS, "r+") as f:
                    fcntl.flock(f, fcntl.LOCK_EX)
                    lines = f.read().splitlines()
                    ours = [ln.split() for ln in lines if ln.endswith(MARK)]
                    names = {p[1]: p[0] for p in ours if len(p) > 1}
                    wanted = change(dict(names))
                    if wanted == names:
                        return
                    kept = [ln for ln in lines if not ln.endswith(MARK)
                            or (len(ln.split()) > 1 and wanted.get(ln.split()[1])
                                == ln.split()[0])]
                    kept += [f"{a} {n} {MARK}" for n, a in sorted(wanted.items())
                             if names.get(n) != a]
                    f.seek(0)
                    f.write("\n".join(kept) + "\n")
                    f.truncate()
            except OSError as e:
                log.warning("could not edit %s: %s", HOSTS, e)
