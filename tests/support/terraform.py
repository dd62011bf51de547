"""Running Terraform against Cloudlet, where terraform and its AWS provider are installed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest


def provider_block(endpoint: str, services: list[str]) -> str:
    endpoints = "\n".join(f'    {name} = "{endpoint}"' for name in services)
    return f'''
provider "aws" {{
  region                      = "us-east-1"
  access_key                  = "test"
  secret_key                  = "test"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_requesting_account_id  = false
  s3_use_path_style           = true
  endpoints {{
{endpoints}
  }}
}}
'''


def terraform(workdir: Path, *args: str, timeout: int = 600) -> subprocess.CompletedProcess:
    binary = shutil.which("terraform")
    if binary is None:
        pytest.skip("terraform is not installed on this machine")
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run([binary, *args, "-no-color"], cwd=workdir, capture_output=True,
                          text=True, env=env, timeout=timeout)


def init_or_skip(workdir: Path) -> None:
    result = terraform(workdir, "init", "-input=false")
    if result.returncode != 0:
        pytest.skip(f"terraform init failed (no AWS provider in a local mirror?): "
                    f"{result.stderr.strip()[-300:]}")
