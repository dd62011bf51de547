"""Cloudlet's Python zygote: started once (as root, `python -S zygote.py <fd>`), with the
Python runtime (bootstrap.py) already imported, it forks one execution environment per
request instead of starting an interpreter: the child joins its cgroup, enters a private
mount namespace, mounts its /tmp, /var/task, /var/runtime, /opt and hidden paths, drops to
its uid, and runs the Python runtime, or execs another runtime's command ("exec": Node.js,
a provided.* bootstrap). Single-threaded on purpose (it forks).

Requests arrive on a SOCK_SEQPACKET socket as JSON with the environment's stdout pipe
attached (SCM_RIGHTS); replies are {"id", "pid"} or {"id", "error"}, and {"exit": pid,
"code": returncode-style code} when an environment's process ends.
"""

import ctypes
import io
import json
import logging  # noqa: F401 - preloaded for every environment (bootstrap's log handler)
import os
import select
import signal
import socket
import sys

import bootstrap

CLONE_NEWNS = 0x00020000
MS_RDONLY, MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 1, 32, 4096, 16384, 1 << 18
PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG = 38, 1
_libc = ctypes.CDLL(None, use_errno=True)
_STDLIB = [p for p in sys.path[1:] if p]


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source, target, fstype, flags, data):
    _check(_libc.mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                       flags, data and data.encode()), f"mount {target}")


def _sandbox(req):
    for path in req.get("cgroup_procs", []):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
    if req.get("namespaces"):
        _check(_libc.unshare(CLONE_NEWNS), "unshare")
        _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        for source, target in req["binds"]:
            _mount(source, target, None, MS_BIND | MS_REC, None)
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        for fstype, source, target, flags, data in req["mounts"]:
            _mount(source, target, fstype, MS_RDONLY if "ro" in flags else 0, data)
        # as on AWS, a read-only file system but for /tmp
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    if req.get("data_limit"):
        resource.setrlimit(resource.RLIMIT_DATA, (req["data_limit"], req["data_limit"]))
    uid = req.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)  # after setuid, which clears it
    os.chdir(req["cwd"])


def _child(req, out_fd, sock, wakeup):
    code = 1
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        for fd in wakeup:
            os.close(fd)
        sock.close()
        os.setsid()
        null = os.open("/dev/null", os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(out_fd, 2)
        os.close(null)
        os.close(out_fd)
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", write_through=True)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), encoding="utf-8",
                                      errors="backslashreplace", write_through=True)
        _sandbox(req)
        os.environ.clear()
        os.environ.update(req["env"])
        if req.get("exec"):  # another runtime: the sandbox is ready, become it
            try:
                os.execve(req["exec"][0], req["exec"], req["env"])
            except OSError as e:
                sys.stderr.write(f"{req['exec'][0]}: {e.strerror}\n")
                code = 126 if e.errno in (13, 8) else 127
                return
        sys.path[:] = [p for p in req["env"].get("PYTHONPATH", "").split(":") if p] + _STDLIB
        sys.path_importer_cache.clear()
        sys.argv = [req["argv0"]]
        bootstrap.main()
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    except BaseException as e:  # noqa: BLE001 - reported on the environment's output
        try:
            sys.stderr.write(f"Cloudlet: the environment could not start: {e!r}\n")
        except Exception:  # noqa: BLE001
            pass
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
        os._exit(code)


def _send(sock, message):
    try:
        sock.send(json.dumps(message).encode())
    except OSError:
        os._exit(0)


def main():
    sock = socket.socket(fileno=int(sys.argv[1]))
    r, w = os.pipe()
    os.set_blocking(r, False)
    os.set_blocking(w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(w)
    while True:
        ready, _, _ = select.select([sock, r], [], [])
        if r in ready:
            try:
                while os.read(r, 4096):
                    pass
            except BlockingIOError:
                pass
            while True:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                _send(sock, {"exit": pid, "code": os.waitstatus_to_exitcode(status)})
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                os._exit(0)
            req = json.loads(data)
            pid = os.fork()
            if pid == 0:
                _child(req, fds[0], sock, (r, w))
            for fd in fds:
                os.close(fd)
            _send(sock, {"id": req["id"], "pid": pid})


if __name__ == "__main__":
    main()
