"""Running Terraform against Cloudlet, where terraform and its AWS provider are installed.

The AWS provider comes from a local filesystem mirror (this machine has no route to
Terraform's registry): `CLOUDLET_TF_MIRROR`, or the first of the usual mirror directories
that holds `registry.terraform.io/hashicorp/aws`. Without terraform or a mirror, the test
is skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

MIRROR_CANDIDATES = [
    os.environ.get("CLOUDLET_TF_MIRROR", ""),
    "/opt/tf-plugins",
    str(Path.home() / ".terraform.d" / "plugins"),
    "/usr/local/share/terraform/plugins",
    "/usr/share/terraform/plugins",
]


def find_mirror() -> Path | None:
    for candidate in MIRROR_CANDIDATES:
        if candidate and (Path(candidate) / "registry.terraform.io" / "hashicorp" / "aws").is_dir():
            return Path(candidate)
    return None


def provider_block(endpoint: str, services: list[str]) -> str:
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in services)
    return f'''
terraform {{
  required_providers {{
    aws = {{ source = "hashicorp/aws" }}
  }}
}}

provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
'''


class Terraform:
    def __init__(self, workdir: Path):
        binary = shutil.which("terraform")
        if binary is None:
            pytest.skip("terraform is not installed on this machine")
        mirror = find_mirror()
        if mirror is None:
            pytest.skip("no local mirror of the hashicorp/aws provider (set CLOUDLET_TF_MIRROR)")
        self.binary, self.workdir = binary, workdir
        config = workdir / "terraformrc"
        config.write_text(
            'provider_installation {\n'
            f'  filesystem_mirror {{\n    path = "{mirror}"\n'
            '    include = ["registry.terraform.io/*/*"]\n  }\n'
            '  direct { exclude = ["registry.terraform.io/*/*"] }\n}\n'
        )
        self.env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1",
                    "TF_CLI_CONFIG_FILE": str(config)}

    def run(self, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
        return subprocess.run([self.binary, *args, "-no-color"], cwd=self.workdir,
                              capture_output=True, text=True, env=self.env, timeout=timeout)

    def init(self) -> None:
        result = self.run("init", "-input=false")
        assert result.returncode == 0, result.stderr

    def apply(self) -> subprocess.CompletedProcess:
        result = self.run("apply", "-auto-approve", "-input=false")
        assert result.returncode == 0, result.stderr + result.stdout
        return result

    def output(self, name: str) -> str:
        result = self.run("output", "-raw", name)
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()
