"""Cloudlet's Python zygote: started once (as root, `python -S zygote.py <fd>`), with the
Python runtime (bootstrap.py) already imported, it forks one execution environment per
request instead of starting an interpreter. Single-threaded on purpose (it forks).

With namespaces, the environment's first process is the init of a new PID namespace: it
joins its cgroups, enters the environment's network namespace (its descriptor comes with the
request), makes a private mount namespace (/tmp, /var/task, /var/runtime, /opt, the hidden
paths, and a /proc of its own), then forks the runtime and waits. The runtime drops to its
uid and runs Cloudlet's Python runtime, or execs another runtime's command ("exec": Node.js,
a provided.* bootstrap). When the runtime ends, init hands its wait status to the zygote on
a pipe and exits, and the kernel kills whatever else still runs in the namespace (double
forks and setsid included). Every process there dies with the zygote too: init has
PR_SET_PDEATHSIG, and the zygote exits as soon as Cloudlet's end of its socket closes,
`kill -9` included. Without namespaces (not root), the runtime is the first process.

Requests arrive on a SOCK_SEQPACKET socket as JSON with the environment's stdout pipe
attached (SCM_RIGHTS), and its network namespace after it when "network" is set; replies
are {"id", "pid"} or {"id", "error"}, and {"exit": pid, "code": returncode-style code} when
an environment's process ends (with a PID namespace, the runtime's code).
"""

import contextlib
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

CLONE_NEWNS, CLONE_NEWPID, CLONE_NEWNET = 0x00020000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
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


def _enter(req, net_fd, own_proc):
    """Join the cgroups, the network namespace and a private mount namespace (as root)."""
    for path in req.get("cgroup_procs", []):
        with open(path, "w") as f:
            f.write(str(os.getpid()))
    if net_fd is not None:
        _check(_libc.setns(net_fd, CLONE_NEWNET), "setns")
        os.close(net_fd)
    if req.get("namespaces"):
        _check(_libc.unshare(CLONE_NEWNS), "unshare")
        _mount(None, "/", None, MS_REC | MS_PRIVATE, None)
        for source, target in req["binds"]:
            _mount(source, target, None, MS_BIND | MS_REC, None)
            _mount(None, target, None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)
        for fstype, source, target, flags, data in req["mounts"]:
            _mount(source, target, fstype, MS_RDONLY if "ro" in flags else 0, data)
        if own_proc:  # the PID namespace's own processes only
            _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)
        # as on AWS, a read-only file system but for /tmp
        _mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY, None)


def _die_with_parent(life):
    """SIGKILL when the parent goes; and if the zygote is already gone (the pipe it alone
    holds open for writing has reached its end), go now."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    try:
        if os.read(life, 1) == b"":
            os._exit(1)
    except BlockingIOError:
        pass


def _drop(req, life):
    """Limits, the function's uid, no new privileges."""
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))
    if req.get("data_limit"):
        resource.setrlimit(resource.RLIMIT_DATA, (req["data_limit"], req["data_limit"]))
    if req.get("process_limit"):  # no pids cgroup: counted per uid instead
        resource.setrlimit(resource.RLIMIT_NPROC, (req["process_limit"], req["process_limit"]))
    uid = req.get("uid")
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
        _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl")
    _die_with_parent(life)  # after setuid, which clears it
    os.close(life)
    os.chdir(req["cwd"])


def _stdio(out_fd):
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


def _close_others(keep):
    """Close every descriptor the zygote holds for itself (its socket, other environments'
    status pipes, the write end of the life pipe) but 0-2 and `keep`."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            with contextlib.suppress(OSError):
                os.close(fd)


def _run(req):
    """Become the runtime; returns the exit code."""
    os.environ.clear()
    os.environ.update(req["env"])
    if req.get("exec"):  # another runtime: the sandbox is ready, become it
        try:
            os.execve(req["exec"][0], req["exec"], req["env"])
        except OSError as e:
            sys.stderr.write(f"{req['exec'][0]}: {e.strerror}\n")
            return 126 if e.errno in (13, 8) else 127
    sys.path[:] = [p for p in req["env"].get("PYTHONPATH", "").split(":") if p] + _STDLIB
    sys.path_importer_cache.clear()
    sys.argv = [req["argv0"]]
    bootstrap.main()
    return 0


def _guarded(step):
    """Run step() in a child and leave with its code, whatever happens."""
    code = 1
    try:
        code = step()
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


def _child(req, out_fd, net_fd, status_w, life):
    """The environment's first process: the runtime itself, or (status_w set) the init of
    its PID namespace. Never returns."""
    try:
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        _close_others({out_fd, net_fd, status_w, life})
    except BaseException:  # noqa: BLE001 - never back into the zygote's loop
        os._exit(1)
    if status_w is None:
        _guarded(lambda: _runtime(req, out_fd, net_fd, life))
    _guarded(lambda: _init(req, out_fd, net_fd, status_w, life))


def _runtime(req, out_fd, net_fd, life):
    _stdio(out_fd)
    _enter(req, net_fd, own_proc=False)
    _drop(req, life)
    return _run(req)


def _init(req, out_fd, net_fd, status_w, life):
    _die_with_parent(life)
    _stdio(out_fd)
    _enter(req, net_fd, own_proc=True)
    runtime = os.fork()
    if runtime == 0:
        os.close(status_w)
        _guarded(lambda: _dropped_run(req, life))
    os.close(life)
    null = os.open("/dev/null", os.O_WRONLY)  # the output pipe ends with the function's
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    while True:
        pid, status = os.waitpid(-1, 0)  # orphans come here too
        if pid == runtime:
            os.write(status_w, status.to_bytes(4, "little", signed=True))
            return 0


def _dropped_run(req, life):
    _drop(req, life)
    return _run(req)


def _spawn(req, fds, life, own_pid_ns):
    """Fork one environment; returns (pid, the read end of its status pipe or None)."""
    out_fd = fds[0]
    net_fd = fds[1] if req.get("network") and len(fds) > 1 else None
    if not req.get("pid_namespace"):
        pid = os.fork()
        if pid == 0:
            _child(req, out_fd, net_fd, None, life)
        return pid, None
    status_r, status_w = os.pipe()
    pid = -1
    try:
        _check(_libc.unshare(CLONE_NEWPID), "unshare")  # the next child is the init there
        pid = os.fork()
        if pid == 0:
            _child(req, out_fd, net_fd, status_w, life)
    finally:
        if pid != 0:  # the zygote's own children go back to its namespace
            os.close(status_w)
            if pid < 0:
                os.close(status_r)
            _check(_libc.setns(own_pid_ns, CLONE_NEWPID), "setns")
    return pid, status_r


def _exit_code(status, status_r):
    """The runtime's code: from init's status pipe, or init's own (killed from outside)."""
    code = os.waitstatus_to_exitcode(status)
    if status_r is not None:
        try:
            raw = os.read(status_r, 4)
        except OSError:
            raw = b""
        os.close(status_r)
        if len(raw) == 4:
            code = os.waitstatus_to_exitcode(int.from_bytes(raw, "little", signed=True))
    return code


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
    life, _ = os.pipe()  # never written: children read its end once the zygote is gone
    os.set_blocking(life, False)
    own_pid_ns = os.open("/proc/self/ns/pid", os.O_RDONLY)
    statuses = {}  # init's pid -> the read end of its status pipe
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
                _send(sock, {"exit": pid, "code": _exit_code(status, statuses.pop(pid, None))})
        if sock in ready:
            try:
                data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
            except OSError:
                data, fds = b"", []
            if not data:
                os._exit(0)
            req = json.loads(data)
            try:
                pid, status_r = _spawn(req, fds, life, own_pid_ns)
            except OSError as e:
                pid, status_r = None, None
                _send(sock, {"id": req["id"], "error": str(e)})
            for fd in fds:
                os.close(fd)
            if pid is not None:
                if status_r is not None:
                    statuses[pid] = status_r
                _send(sock, {"id": req["id"], "pid": pid})


if __name__ == "__main__":
    main()
