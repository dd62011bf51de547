"""Booting instances: SSH as the default user with sudo, user data once as root, files kept
across stop and start, poweroff and reboot from inside, the console, stats."""

from __future__ import annotations

import pytest

from tests.engines.instances.support import cloud_init_done, root, ssh, wait_for

USER_DATA = b"""#!/bin/sh
echo "user data ran as $(id -un)" >> /root/marker
echo user-data-output-line
"""


def test_ssh_runs_a_command_as_the_default_user_with_sudo(launch):
    box = launch()
    done = ssh(box.net, box.key, "id -un; sudo id -un; hostname")
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["ec2-user", "root", box.spec.hostname]


def test_user_data_runs_once_as_root_and_files_persist_across_stop_and_start(launch):
    box = launch(user_data=USER_DATA)
    cloud_init_done(box.net, box.key)
    assert root(box.net, box.key, "cat /root/marker").stdout == "user data ran as root\n"
    log = root(box.net, box.key, "cat /var/log/cloud-init-output.log").stdout
    assert "user-data-output-line" in log
    assert ssh(box.net, box.key, "echo kept > ~/before-stop").returncode == 0

    assert box.engine.stop(box.id) == "stop"
    box.engine.start(box.spec)
    assert box.engine.wait_booted(box.id, 60)
    cloud_init_done(box.net, box.key)
    assert ssh(box.net, box.key, "cat ~/before-stop").stdout == "kept\n"
    assert root(box.net, box.key, "cat /root/marker").stdout == "user data ran as root\n"


def test_multipart_user_data_runs_its_script_and_its_cloud_config(launch):
    body = (b'Content-Type: multipart/mixed; boundary="XX"\nMIME-Version: 1.0\n\n'
            b'--XX\nContent-Type: text/cloud-config; charset="us-ascii"\n\n'
            b"#cloud-config\nwrite_files:\n  - path: /etc/from-cloud-config\n    content: \"written\\n\"\n"
            b"runcmd:\n  - [sh, -c, 'echo runcmd > /root/runcmd']\n"
            b'--XX\nContent-Type: text/x-shellscript; charset="us-ascii"\n\n'
            b"#!/bin/sh\necho script > /root/script\n--XX--\n")
    box = launch(user_data=body)
    cloud_init_done(box.net, box.key)
    done = root(box.net, box.key, "cat /etc/from-cloud-config /root/runcmd /root/script")
    assert done.stdout.split() == ["written", "runcmd", "script"], done.stderr


@pytest.mark.parametrize("command", ["sudo poweroff", "sudo shutdown -h now", "sudo halt"])
def test_poweroff_inside_is_reported_as_poweroff(launch, command):
    box = launch()
    seen = len(box.events.seen)
    ssh(box.net, box.key, f"{command}; sleep 5", timeout=30)
    event = box.events.wait(box.id, "exited", after=seen)
    assert event is not None and event.reason == "poweroff"
    assert box.id not in box.engine.running()


def test_poweroff_needs_root(launch):
    box = launch()
    done = ssh(box.net, box.key, "/usr/sbin/poweroff")
    assert done.returncode != 0 and "superuser" in done.stderr
    assert box.id in box.engine.running()


def test_reboot_inside_is_reported_and_the_instance_boots_again(launch):
    box = launch()
    seen = len(box.events.seen)
    ssh(box.net, box.key, "sudo reboot; sleep 5", timeout=30)
    exited = box.events.wait(box.id, "exited", after=seen)
    assert exited is not None and exited.reason == "reboot"
    assert box.events.wait(box.id, "booted", after=seen) is not None
    assert ssh(box.net, box.key, "uptime").returncode == 0


def test_stop_is_a_clean_shutdown_sigterm_first(launch):
    box = launch()
    # a service that saves its state on SIGTERM, as a host shutdown lets it
    script = ("trap \"echo saved > /root/on-term; exit 0\" TERM; touch /root/ready; "
              "while :; do sleep 0.1; done")
    root(box.net, box.key, f"nohup sh -c '{script}' >/dev/null 2>&1 & echo started")
    assert wait_for(lambda: root(box.net, box.key, "test -e /root/ready").returncode == 0, 30)
    assert box.engine.stop(box.id) == "stop"
    box.engine.start(box.spec)
    assert box.engine.wait_booted(box.id, 60)
    assert root(box.net, box.key, "cat /root/on-term").stdout == "saved\n"


def test_console_output_has_the_boot_and_cloud_init(launch):
    box = launch(user_data=USER_DATA)
    cloud_init_done(box.net, box.key)
    console = box.engine.console_output(box.id)
    assert "Cloud-init v." in console
    assert "ssh-ed25519" in console  # keys-to-console, as GetConsoleOutput shows on AWS


def test_stats_report_cpu_time_and_memory(launch):
    box = launch()
    ssh(box.net, box.key, "python3 -c 'sum(range(3_000_000))'")
    stats = box.engine.stats(box.id)
    assert stats.cpu_seconds > 0
    assert 0 < stats.memory_bytes <= stats.memory_limit_bytes == 512 << 20
    assert stats.pids >= 3  # tini, init, sshd


def test_resolv_conf_hosts_and_ca_certificate_are_written_per_instance(launch):
    pem = (b"-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUcloudletTestCertificate\n"
           b"-----END CERTIFICATE-----\n")
    box = launch(ca_certificate=pem, search_domain="ec2.internal")
    resolv = ssh(box.net, box.key, "cat /etc/resolv.conf").stdout
    assert f"nameserver {box.spec.nameserver}" in resolv and "search ec2.internal" in resolv
    hosts = ssh(box.net, box.key, "cat /etc/hosts").stdout
    assert f"{box.spec.private_ip} {box.spec.hostname}" in hosts
    bundle = ssh(box.net, box.key, "cat /etc/ssl/certs/ca-certificates.crt").stdout
    assert bundle.count("cloudletTestCertificate") == 1
    assert bundle.count("BEGIN CERTIFICATE") > 100  # Debian's roots are still there


def test_reboot_instances_keeps_the_volume_and_kill_and_crash_are_told_apart(launch):
    box = launch()
    ssh(box.net, box.key, "echo here > ~/f")
    box.engine.reboot(box.id)
    assert box.engine.wait_booted(box.id, 60)
    assert ssh(box.net, box.key, "cat ~/f").stdout == "here\n"

    seen = len(box.events.seen)
    import os
    import signal

    os.kill(box.engine._get(box.id).pid1, signal.SIGKILL)  # init dies under the instance
    assert box.events.wait(box.id, "exited", after=seen).reason == "crash"

    box.engine.start(box.spec)
    assert box.engine.wait_booted(box.id, 60)
    assert box.engine.kill(box.id) == "kill"


def test_cloud_configs_power_state_powers_the_instance_off(launch):
    box = launch(wait=False, user_data=b"#cloud-config\npower_state:\n  mode: poweroff\n  delay: now\n")
    event = box.events.wait(box.id, "exited", timeout=60)
    assert event is not None and event.reason == "poweroff", box.engine.console_output(box.id)[-2000:]
