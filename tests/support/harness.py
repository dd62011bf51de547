"""Running a real Cloudlet process, and the real clients that talk to it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import boto3
from botocore.config import Config

REPO = Path(__file__).resolve().parents[2]
CREDENTIALS = {"aws_access_key_id": "test", "aws_secret_access_key": "test"}


def unique(prefix: str) -> str:
    """A resource name no other test uses (the session server is shared)."""
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def unique_account() -> str:
    """A 12-digit account id no other test uses: its access key (secret `test`) signs as
    that account's root."""
    return str(uuid.uuid4().int)[:12].rjust(12, "1")


def error_of(call, **kwargs) -> tuple[str, int, str]:
    """(code, HTTP status, message) of the AWS error a boto3 call must raise."""
    import pytest
    from botocore.exceptions import ClientError

    with pytest.raises(ClientError) as e:
        call(**kwargs)
    err = e.value.response["Error"]
    return err["Code"], e.value.response["ResponseMetadata"]["HTTPStatusCode"], err["Message"]


def send_signed(endpoint: str, signing_name: str, body: bytes | str, headers: dict,
                path: str = "/", when=None):
    """POST a raw request signed by botocore's SigV4 signer (credentials test/test), for
    what no client method sends: an unknown action, another protocol, a skewed clock
    (`when`, a naive UTC datetime)."""
    import unittest.mock

    import botocore.auth
    import requests
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method="POST", url=endpoint + path, data=body, headers=headers)
    signer = botocore.auth.SigV4Auth(Credentials("test", "test"), signing_name, "us-east-1")
    if when is None:
        signer.add_auth(request)
    else:
        with unittest.mock.patch("botocore.auth.get_current_datetime", return_value=when):
            signer.add_auth(request)
    prepared = request.prepare()
    return requests.post(prepared.url, data=prepared.body, headers=dict(prepared.headers),
                         timeout=10)


def control(endpoint: str, method: str, path: str, body=None, *, key: str = "test",
            secret: str = "test", query: dict | None = None, headers: dict | None = None,
            signing_name: str = "cloudlet", timeout: float = 10, verify=True):
    """A control call (/_cloudlet/clock, shutdown, the mailbox, OIDC tokens) signed as the
    CLI signs it: SigV4 for the signing name `cloudlet`, by default as the root of account
    000000000000. `body` is sent as JSON (a dict) or as is (bytes, str). The
    `requests.Response`."""
    import botocore.auth
    import requests
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    path, _, raw_query = path.partition("?")
    params = {**dict(urllib.parse.parse_qsl(raw_query)), **(query or {})}
    url = endpoint + path
    if params:  # encoded as SigV4 canonicalizes it, so botocore's signature is the server's
        url += "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote, safe="-_.~")
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body)
        headers.setdefault("Content-Type", "application/json")
    request = AWSRequest(method=method, url=url, data=body or b"", headers=headers)
    botocore.auth.SigV4Auth(Credentials(key, secret), signing_name, "us-east-1").add_auth(request)
    prepared = request.prepare()
    return requests.request(method, prepared.url, data=prepared.body,
                            headers=dict(prepared.headers), timeout=timeout, verify=verify)


def advance_clock(endpoint: str, seconds: float) -> dict:
    """Move the service clock forward (a signed control call); its new reading."""
    reply = control(endpoint, "POST", "/_cloudlet/clock", {"advance": seconds})
    assert reply.status_code == 200, reply.text
    return reply.json()


def public_range_for(port: int, data_dir: Path | None = None) -> str:
    """A loopback /24 of public addresses of its own for a server: servers that run at once
    must not hand out the same public IPs (each redirects its range). With a data
    directory it follows the directory, which keeps its addresses across restarts."""
    if data_dir is not None:
        import hashlib

        port = int(hashlib.sha256(str(data_dir).encode()).hexdigest(), 16) % 65536
    return f"127.{101 + (port >> 8) % 150}.{port & 0xFF}.0/24"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class CloudletProcess:
    """`cloudlet up` in a subprocess, on a free port."""

    data_dir: Path | None = None  # None: --ephemeral
    tls: bool = False
    env: dict = field(default_factory=lambda: {"CLOUDLET_BODY_TIMEOUT": "3"})
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen | None = None
    log_path: Path | None = None

    @property
    def endpoint(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    def start(self, timeout: float = 30) -> CloudletProcess:
        args = [sys.executable, "-m", "cloudlet", "up", "--host", "127.0.0.1",
                "--port", str(self.port), "--log-level", os.environ.get("CLOUDLET_TEST_LOG_LEVEL", "warning")]
        args += ["--data-dir", str(self.data_dir)] if self.data_dir else ["--ephemeral"]
        if self.tls:
            args.append("--tls")
        fd, log = tempfile.mkstemp(prefix="cloudlet-test-", suffix=".log")
        self.log_path = Path(log)
        self.proc = subprocess.Popen(args, stdout=fd, stderr=subprocess.STDOUT, cwd=REPO,
                                     env={**os.environ, "CLOUDLET_PUBLIC_RANGE":
                                          public_range_for(self.port, self.data_dir),
                                          **self.env})
        os.close(fd)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"cloudlet exited early:\n{self.log()}")
            if self.healthy():
                return self
            time.sleep(0.05)
        raise RuntimeError(f"cloudlet did not become healthy:\n{self.log()}")

    def healthy(self) -> bool:
        try:
            return self.health()["status"] == "running"
        except OSError:
            return False

    def health(self) -> dict:
        import ssl

        ctx = ssl.create_default_context(cafile=self.ca_bundle) if self.tls else None
        with urllib.request.urlopen(f"{self.endpoint}/_cloudlet/health", timeout=2,
                                    context=ctx) as r:
            return json.load(r)

    def control(self, method: str, path: str, body=None, **kwargs):
        """A signed control call to this Cloudlet (see `control`)."""
        kwargs.setdefault("verify", self.ca_bundle or True)
        return control(self.endpoint, method, path, body, **kwargs)

    def advance_clock(self, seconds: float) -> dict:
        return advance_clock(self.endpoint, seconds)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path else ""

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def kill9(self) -> None:
        self.stop(signal.SIGKILL)

    def client(self, service: str, region: str = "us-east-1", **kwargs):
        config = kwargs.pop("config", None) or Config(retries={"max_attempts": 1})
        creds = {**CREDENTIALS, **{k: kwargs.pop(k) for k in list(kwargs) if k.startswith("aws_")}}
        client = boto3.client(service, endpoint_url=self.endpoint, region_name=region,
                              config=config, verify=self.ca_bundle, **creds, **kwargs)
        return client

    @property
    def ca_bundle(self) -> str | None:
        """With --tls: the certificate Cloudlet generated, which clients verify against."""
        if not self.tls:
            return None
        assert self.data_dir, "a TLS test needs a data_dir to find the certificate in"
        return str(self.data_dir / "tls" / "cert.pem")

    def aws(self, *args: str, check: bool = True, env: dict | None = None) -> subprocess.CompletedProcess:
        """Run the AWS CLI against this Cloudlet."""
        cli = shutil.which("aws")
        if cli is None:
            import pytest

            pytest.skip("the AWS CLI (aws) is not installed")
        full_env = {**os.environ, "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_PAGER": "", **(env or {})}
        full_env.pop("AWS_PROFILE", None)
        extra = ["--ca-bundle", self.ca_bundle] if self.tls else []
        result = subprocess.run([cli, "--endpoint-url", self.endpoint, *extra, *args],
                                capture_output=True, text=True, env=full_env, timeout=120)
        if check and result.returncode != 0:
            raise AssertionError(f"aws {' '.join(args)} failed:\n{result.stderr}")
        return result
