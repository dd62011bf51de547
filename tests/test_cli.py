"""The command line: up, status, down, reset, coverage, graceful shutdown."""

from __future__ import annotations

import signal
import subprocess
import sys

from harness import REPO, CloudletProcess


def cloudlet_cli(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cloudlet", *args], capture_output=True,
                          text=True, cwd=REPO, timeout=60, env=env)


def test_coverage_prints_every_service_against_the_model():
    out = cloudlet_cli("coverage")
    assert out.returncode == 0, out.stderr
    lines = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[1:]}
    for service in ("ec2", "s3", "rds", "lambda", "iam", "sts", "cloudwatch", "logs", "sns"):
        implemented, in_model = map(int, lines[service])
        assert in_model > 0 and 0 <= implemented <= in_model
    assert int(lines["sts"][0]) >= 1


def test_coverage_names_the_botocore_services_cloudlet_does_not_serve():
    out = cloudlet_cli("coverage")
    assert out.returncode == 0, out.stderr
    line = next(line for line in out.stdout.splitlines() if line.startswith("not served:"))
    listed = out.stdout.split(line, 1)[1].replace("\n", " ").replace(",", " ").split()
    assert int(line.split()[2]) == len(listed) > 300
    assert {"sqs", "dynamodb", "elbv2"} <= set(listed)
    assert not {"s3", "sts", "lambda", "ec2"} & set(listed)


def test_coverage_where_points_at_the_def_of_each_operation():
    out = cloudlet_cli("coverage", "--where")
    assert out.returncode == 0, out.stderr
    where = {}
    for line in out.stdout.splitlines():
        service, operation, place = line.split()
        where[service, operation] = place
    for key, method, family in [(("iam", "CreateUser"), "create_user", "identities.py"),
                                (("sts", "AssumeRole"), "assume_role", "roles.py"),
                                (("lambda", "Invoke"), "invoke", "invoke.py"),
                                (("sns", "Publish"), "publish", "publish.py"),
                                (("scheduler", "CreateSchedule"), "create_schedule",
                                 "provider.py")]:
        path, line = where[key].rsplit(":", 1)
        assert path.endswith(family), where[key]
        source = (REPO / path).read_text().splitlines()[int(line) - 1]
        assert source.lstrip().startswith((f"def {method}(", f"async def {method}(")), source
    for place in where.values():
        path, line = place.rsplit(":", 1)
        assert (REPO / path).is_file() and int(line) > 0


def test_coverage_where_one_service():
    out = cloudlet_cli("coverage", "--where", "ec2")
    assert out.returncode == 0, out.stderr
    where = {line.split()[1]: line.split()[2] for line in out.stdout.splitlines()}
    assert where["CreateVpc"].startswith("cloudlet/services/ec2/network/vpcs.py:")
    assert where["AuthorizeSecurityGroupIngress"].startswith(
        "cloudlet/services/ec2/network/security_groups.py:")
    assert where["CreateTags"].startswith("cloudlet/services/ec2/tags.py:")
    assert {line.split()[0] for line in out.stdout.splitlines()} == {"ec2"}
    assert cloudlet_cli("coverage", "--where", "nosuch").returncode == 2


def test_status_reports_a_running_server(cloudlet):
    out = cloudlet_cli("status", "--port", str(cloudlet.port))
    assert out.returncode == 0
    assert "running" in out.stdout and "sts" in out.stdout


def test_status_when_nothing_runs():
    from harness import free_port

    out = cloudlet_cli("status", "--port", str(free_port()))
    assert out.returncode == 1
    assert "not running" in out.stdout


def test_sigterm_shuts_down_gracefully_and_state_persists(tmp_path):
    server = CloudletProcess(data_dir=tmp_path / "data").start()
    assert server.client("sts").get_caller_identity()["Account"] == "000000000000"
    assert server.stop(signal.SIGTERM) == 0
    assert (tmp_path / "data" / "cloudlet.db").exists()


def test_sigint_shuts_down_gracefully(tmp_path):
    server = CloudletProcess(data_dir=tmp_path / "data").start()
    assert server.stop(signal.SIGINT) == 0


def test_reset_deletes_state_when_stopped(tmp_path):
    from harness import free_port

    data = tmp_path / "data"
    server = CloudletProcess(data_dir=data).start()
    refused = cloudlet_cli("reset", "--port", str(server.port), "--data-dir", str(data))
    assert refused.returncode == 1 and data.exists()
    server.stop()
    done = cloudlet_cli("reset", "--port", str(free_port()), "--data-dir", str(data))
    assert done.returncode == 0 and not data.exists()


def test_up_prints_the_banner(tmp_path):
    server = CloudletProcess(data_dir=tmp_path / "data").start()
    server.stop()
    log = server.log()
    assert f"http://127.0.0.1:{server.port}" in log
    assert "AWS_ENDPOINT_URL=" in log and "--endpoint-url" in log and "Terraform" in log
    assert "000000000000" in log and str(tmp_path / "data") in log


def test_ephemeral_data_dir_is_deleted_at_exit():
    server = CloudletProcess().start()
    server.stop()
    line = next(line for line in server.log().splitlines() if "data dir" in line)
    path = line.split("data dir", 1)[1].split()[0]
    import os

    assert not os.path.exists(path)


def test_down_stops_a_running_server_cleanly(tmp_path):
    server = CloudletProcess(data_dir=tmp_path / "data").start()
    bucket = server.client("s3").create_bucket(Bucket="kept-after-down")
    assert bucket["ResponseMetadata"]["HTTPStatusCode"] == 200
    out = cloudlet_cli("down", "--port", str(server.port))
    assert out.returncode == 0, out.stderr
    assert "has stopped" in out.stdout
    assert server.proc.wait(timeout=60) == 0
    again = cloudlet_cli("down", "--port", str(server.port))
    assert again.returncode == 0 and "not running" in again.stdout
    restarted = CloudletProcess(data_dir=tmp_path / "data").start()
    names = [b["Name"] for b in restarted.client("s3").list_buckets()["Buckets"]]
    assert names == ["kept-after-down"]
    restarted.stop()
