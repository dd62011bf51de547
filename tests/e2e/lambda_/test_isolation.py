"""Function code stays off the host: each execution environment has its own network (only
Cloudlet's API and the Runtime API, both inside it), refuses the developer's root
credentials, forks at most AWS's 1,024 processes, and takes every process it started with
it, even when Cloudlet is killed with -9. Each test runs real functions made with boto3."""

from __future__ import annotations

import json
import os
import socket
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from invoke_support import eventually, invoke_client, make_function, make_role  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="namespaces need root")

CONNECT = '''
import socket

def handler(event, context):
    out = {}
    for port in event["ports"]:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=3).close()
            out[str(port)] = "connected"
        except OSError as e:
            out[str(port)] = type(e).__name__
    return out
'''

CALLER = '''
import os
import boto3

def handler(event, context):
    sts = boto3.client("sts", **event.get("credentials", {}))
    try:
        arn = sts.get_caller_identity()["Arn"]
    except Exception as e:
        response = getattr(e, "response", {})
        return {"error": type(e).__name__, "code": response.get("Error", {}).get("Code"),
                "status": response.get("ResponseMetadata", {}).get("HTTPStatusCode")}
    if event.get("bucket"):
        boto3.client("s3").put_object(Bucket=event["bucket"], Key="from-inside", Body=b"hi")
    return {"arn": arn, "endpoint": os.environ["AWS_ENDPOINT_URL"]}
'''

FORKS = '''
import os, signal

def handler(event, context):
    children, error = [], None
    try:
        for _ in range(event["n"]):
            pid = os.fork()
            if pid == 0:
                signal.pause()
                os._exit(0)
            children.append(pid)
    except OSError as e:
        error = type(e).__name__
    for pid in children:
        os.kill(pid, signal.SIGKILL)
    for pid in children:
        os.waitpid(pid, 0)
    return {"forked": len(children), "error": error}
'''

DAEMON = '''
import os

def handler(event, context):
    if os.fork() == 0:  # double fork and setsid: the classic detached daemon
        os.setsid()
        if os.fork() == 0:
            devnull = os.open("/dev/null", os.O_RDWR)
            for fd in (0, 1, 2):
                os.dup2(devnull, fd)
            os.execv("/bin/sleep", [event["marker"], "600"])
        os._exit(0)
    os.wait()
    return "detached"
'''


def _processes(marker: str) -> list[int]:
    """Host pids whose command line starts with marker."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read().startswith(marker.encode()):
                        found.append(int(entry))
            except OSError:
                pass
    return found


def _invoke(lam, name: str, event: dict) -> dict:
    out = lam.invoke(FunctionName=name, Payload=json.dumps(event).encode())
    body = json.loads(out["Payload"].read())
    assert "FunctionError" not in out, body
    return body


def test_the_hosts_loopback_is_out_of_reach(cloudlet, lam, role):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.setblocking(False)
        other = listener.getsockname()[1]
        name = make_function(lam, role, CONNECT, Timeout=15)
        out = _invoke(lam, name, {"ports": [other, cloudlet.port]})
        assert out == {str(other): "ConnectionRefusedError",
                       str(cloudlet.port): "ConnectionRefusedError"}, out
        with pytest.raises(BlockingIOError):
            listener.accept()  # nobody came


def test_boto3_with_the_role_reaches_cloudlet_inside(cloudlet, lam):
    iam, s3 = cloudlet.client("iam"), cloudlet.client("s3")
    bucket = f"inside-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=bucket)
    role = make_role(iam, [{"Effect": "Allow", "Action": "s3:PutObject",
                            "Resource": f"arn:aws:s3:::{bucket}/*"}])
    name = make_function(lam, role, CALLER, Timeout=20)
    out = _invoke(lam, name, {"bucket": bucket})
    role_name = role.rsplit("/", 1)[1]
    assert out["arn"] == f"arn:aws:sts::000000000000:assumed-role/{role_name}/{name}"
    assert out["endpoint"] == "http://127.0.0.1:4566" != cloudlet.endpoint
    assert s3.get_object(Bucket=bucket, Key="from-inside")["Body"].read() == b"hi"


def test_the_developers_root_credentials_are_refused_inside(cloudlet, lam, role):
    name = make_function(lam, role, CALLER, Timeout=20)
    for key in ("test", "123456789012"):
        out = _invoke(lam, name, {"credentials": {"aws_access_key_id": key,
                                                  "aws_secret_access_key": "test",
                                                  "aws_session_token": None}})
        assert "arn" not in out, out
        assert out["status"] == 403, out


def test_at_most_1024_processes(cloudlet, lam, role):
    name = make_function(lam, role, FORKS, Timeout=120, MemorySize=2048)
    out = _invoke(lam, name, {"n": 1100})
    assert out["error"] == "BlockingIOError", out  # EAGAIN from fork, as at AWS's limit
    assert 1000 <= out["forked"] < 1024, out


def test_a_detached_daemon_dies_with_cloudlet(fresh_cloudlet):
    server = fresh_cloudlet()
    lam = invoke_client(server)
    role = make_role(server.client("iam"))
    name = make_function(lam, role, DAEMON, Timeout=10)
    marker = f"cloudlet-daemon-{uuid.uuid4().hex}"
    assert _invoke(lam, name, {"marker": marker}) == "detached"
    assert eventually(lambda: _processes(marker), timeout=5)  # it runs, detached
    old_pid = server.proc.pid
    server.kill9()
    fresh_cloudlet()  # a restart reaps whatever is left
    # (on the shared cpu hierarchy, any Cloudlet that starts a Lambda engine later sweeps a
    # dead one's cgroups: the daemon must be gone before that can be what saved us)
    gone = eventually(lambda: not _processes(marker), timeout=2)
    assert gone, f"the daemon outlived Cloudlet: {_processes(marker)}"
    cgroups = [p for depth in ("*", "*/*", "*/*/*")
               for p in Path("/sys/fs/cgroup").glob(f"{depth}/cloudlet-lambda-{old_pid}")]
    assert cgroups == []
