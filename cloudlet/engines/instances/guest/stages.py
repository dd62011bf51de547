"""Cloud-init's boot stages in a Cloudlet instance (run by Cloudlet's init; there is no
systemd): cloud-init is imported once and each stage forked from this process, in the order
of cloud-init's units, `init --local`, `init`, then sshd (as ssh.service, after
cloud-init.service), `modules --mode config`, `modules --mode final`. The image's python3
runs this file; the console gets one line per stage with its time."""

import os
import subprocess
import sys
import time

os.environ.setdefault("TZ", ":/etc/localtime")
started = time.monotonic()
# What every stage imports, imported once here (forked stages share it).
from cloudinit import stages, util  # noqa: E402,F401
from cloudinit.cmd import main as cloudinit_main  # noqa: E402

# The init stage's modules before it, the others once sshd runs (off the path to SSH).
INIT_MODULES = ("bootcmd", "write_files", "ca_certs", "users_groups", "ssh")
LATER_MODULES = ("set_passwords", "timezone", "runcmd", "package_update_upgrade_install",
                 "write_files_deferred", "scripts_vendor", "scripts_per_once", "scripts_per_boot",
                 "scripts_per_instance", "scripts_user", "ssh_authkey_fingerprints",
                 "keys_to_console", "final_message", "power_state_change")


def preload(modules):
    for module in modules:
        try:
            __import__(f"cloudinit.config.cc_{module}")
        except Exception:  # noqa: BLE001 - a stage that needs it reports the error itself
            pass


preload(INIT_MODULES)


def log(message):
    sys.stderr.write(f"cloudlet-init: {message} ({time.monotonic() - started:.2f} s)\n")
    sys.stderr.flush()


def stage(*args):
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = cloudinit_main.main(["cloud-init", *args]) or 0
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else 1
        except BaseException:  # noqa: BLE001
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    log(f"cloud-init {' '.join(args)} exited with {os.waitstatus_to_exitcode(status)}")


log("cloud-init imported")
stage("init", "--local")
stage("init")
sshd = subprocess.run(["/usr/sbin/sshd"], stdin=subprocess.DEVNULL)
log(f"sshd started (exit {sshd.returncode})")
preload(LATER_MODULES)
stage("modules", "--mode", "config")
stage("modules", "--mode", "final")
