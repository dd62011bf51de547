"""cloudlet up | status | down | reset | coverage [--where] | clock | oidc token | mail | rds ca-bundle

`down`, `clock`, `oidc token` and `mail` are control calls: signed with SigV4 (signing name
`cloudlet`) by the root credentials of AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, `test` /
`test` by default (control_calls.py)."""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cloudlet import control_calls
from cloudlet.config import Settings
from cloudlet.store.private import restrict_umask


def main(argv: list[str] | None = None) -> None:
    restrict_umask()    # what any command writes in the data directory is private
    defaults = Settings.from_env()
    parser = argparse.ArgumentParser(prog="cloudlet", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start Cloudlet in the foreground")
    up.add_argument("--host", default=defaults.host)
    up.add_argument("--port", type=int, default=defaults.port)
    up.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    up.add_argument("--ephemeral", action="store_true", default=defaults.ephemeral,
                    help="keep state in a temporary directory, deleted at exit")
    up.add_argument("--log-level", default=defaults.log_level,
                    choices=["critical", "error", "warning", "info", "debug", "trace"])
    up.add_argument("--tls", action="store_true", default=defaults.tls,
                    help="serve HTTPS with a generated self-signed certificate")

    for name, text in (("status", "is Cloudlet running, and what does it serve"),
                       ("down", "stop the running Cloudlet cleanly, with its database servers"),
                       ("reset", "delete all state in the data directory")):
        sub = commands.add_parser(name, help=text)
        sub.add_argument("--host", default=defaults.host)
        sub.add_argument("--port", type=int, default=defaults.port)
        sub.add_argument("--data-dir", type=Path, default=defaults.data_dir)
    coverage = commands.add_parser("coverage", help="operations implemented per service")
    coverage.add_argument("--where", nargs="?", const="", metavar="SERVICE",
                          help="print the file and line that implements each operation "
                               "(of one service, if named)")

    clock = commands.add_parser("clock", help="the service clock; --advance moves it forward")
    clock.add_argument("--advance", type=float, metavar="SECONDS",
                       help="move the clock forward by this many seconds (at most 10 years)")
    clock.add_argument("--host", default=defaults.host)
    clock.add_argument("--port", type=int, default=defaults.port)

    oidc = commands.add_parser("oidc", help="Cloudlet's local OpenID Connect issuer")
    oidc_commands = oidc.add_subparsers(dest="oidc_command", required=True)
    token = oidc_commands.add_parser(
        "token", help="print an ID token signed by the running Cloudlet's local issuer")
    token.add_argument("--sub", required=True, help="the subject, e.g. repo:org/app:ref:refs/heads/main")
    token.add_argument("--aud", default="sts.amazonaws.com", help="the audience (client id)")
    token.add_argument("--ttl", type=int, default=3600, help="seconds until it expires")
    token.add_argument("--host", default=defaults.host)
    token.add_argument("--port", type=int, default=defaults.port)

    mail = commands.add_parser("mail", help="the local mailbox: what SNS emailed or texted")
    mail.add_argument("--to", help="only messages to this address or phone number")
    mail.add_argument("--json", action="store_true", help="print the messages as JSON")
    mail.add_argument("--host", default=defaults.host)
    mail.add_argument("--port", type=int, default=defaults.port)

    rds = commands.add_parser("rds", help="Cloudlet's RDS")
    rds_commands = rds.add_subparsers(dest="rds_command", required=True)
    bundle = rds_commands.add_parser(
        "ca-bundle", help="print the CA bundle that verifies RDS instances' TLS certificates")
    bundle.add_argument("--data-dir", type=Path, default=defaults.data_dir)

    args = parser.parse_args(argv)
    sys.exit(COMMANDS[args.command](args) or 0)


def cmd_up(args) -> int:
    from cloudlet.server import run

    run(dataclasses.replace(Settings.from_env(), host=args.host, port=args.port,
                            data_dir=args.data_dir, ephemeral=args.ephemeral,
                            log_level=args.log_level, tls=args.tls))
    return 0


def _health(args) -> dict | None:
    try:
        with urllib.request.urlopen(f"http://{args.host}:{args.port}/_cloudlet/health",
                                    timeout=2) as reply:
            return json.load(reply)
    except (OSError, urllib.error.URLError, ValueError):
        return None


def cmd_status(args) -> int:
    health = _health(args)
    if health is None:
        print(f"Cloudlet is not running on {args.host}:{args.port}")
        return 1
    print(f"Cloudlet {health['version']} is {health['status']} on {args.host}:{args.port}")
    for name, state in health["services"].items():
        print(f"  {name:<12} {state}")
    for name, details in (health.get("engines") or {}).items():
        for what, value in details.items():
            print(f"  {name} {what}: {_said(value)}")
    return 0


def _said(value) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} {v}" for k, v in value.items() if v not in ("", None))
    return str(value)


def _control(args, method: str, path: str, body: dict | None = None,
             query: dict | None = None) -> dict | None:
    """A signed control call; None (after saying why) unless it succeeded."""
    try:
        status, answer = control_calls.call(args.host, args.port, method, path, body, query)
    except OSError as e:
        print(f"Cloudlet on {args.host}:{args.port} did not answer: {e}", file=sys.stderr)
        return None
    if status >= 300:
        print(f"Cloudlet on {args.host}:{args.port} refused: {answer.get('code', status)}: "
              f"{answer.get('message', '')}", file=sys.stderr)
        return None
    return answer


def cmd_down(args) -> int:
    if _health(args) is None:
        print(f"Cloudlet is not running on {args.host}:{args.port}")
        return 0
    if _control(args, "POST", "/_cloudlet/shutdown") is None:
        return 1
    deadline = time.monotonic() + 120
    while _health(args) is not None:
        if time.monotonic() > deadline:
            print("Cloudlet is still running after 120 s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"Cloudlet on {args.host}:{args.port} has stopped")
    return 0


def cmd_clock(args) -> int:
    if args.advance is None:
        answer = _control(args, "GET", "/_cloudlet/clock")
    else:
        answer = _control(args, "POST", "/_cloudlet/clock", {"advance": args.advance})
    if answer is None:
        return 1
    print(f"{answer['now']}  (offset {answer['offset_seconds']:g} s)")
    return 0


def cmd_reset(args) -> int:
    if _health(args) is not None:
        print(f"Cloudlet is running on {args.host}:{args.port}; stop it before a reset.")
        return 1
    path = args.data_dir.expanduser()
    if path.exists():
        shutil.rmtree(path)
    print(f"Deleted all state in {path}")
    return 0


def cmd_coverage(args) -> int:
    import textwrap

    from cloudlet.models import SERVICES, botocore_services, service_model
    from cloudlet.services import provider_class

    if args.where is not None:
        if args.where and args.where not in SERVICES:
            print(f"unknown service {args.where!r}; one of: {', '.join(SERVICES)}",
                  file=sys.stderr)
            return 2
        return _coverage_where([args.where] if args.where else SERVICES)
    total_done = total_ops = 0
    print(f"{'service':<12} {'implemented':>11} {'in model':>9}")
    for name in SERVICES:
        operations = service_model(name).operation_names
        cls = provider_class(name)
        done = [op for op in operations if cls is not None and cls.has_operation(op)]
        total_done += len(done)
        total_ops += len(operations)
        print(f"{name:<12} {len(done):>11} {len(operations):>9}")
    print(f"{'total':<12} {total_done:>11} {total_ops:>9}")
    others = [name for name in botocore_services() if name not in SERVICES]
    print(f"not served: {len(others)} other services botocore has models for; their calls "
          "get UnsupportedOperation:")
    print(textwrap.fill(", ".join(others), 96, initial_indent="  ", subsequent_indent="  ",
                        break_on_hyphens=False))
    return 0


def _coverage_where(services) -> int:
    """service, operation, file:line of the method, for every implemented operation."""
    from cloudlet.models import service_model
    from cloudlet.services import provider_class

    for name in services:
        cls = provider_class(name)
        if cls is None:
            continue
        for operation in service_model(name).operation_names:
            if cls.has_operation(operation):
                print(f"{name:<12} {operation:<44} {_where(cls, operation)}")
    return 0


def _where(cls, operation: str) -> str:
    """Where a provider's method is defined: providers are mixins of family classes, so
    the file is the family's, found through the method itself (its `def` line, past any
    decorator)."""
    import inspect

    from botocore import xform_name

    method = inspect.unwrap(getattr(cls, xform_name(operation)))
    method = getattr(method, "__func__", method)
    path = Path(inspect.getsourcefile(method))
    lines, first = inspect.getsourcelines(method)
    offset = next((i for i, line in enumerate(lines)
                   if line.lstrip().startswith(("def ", "async def "))), 0)
    root = Path(__file__).resolve().parent.parent
    shown = path.relative_to(root) if path.is_relative_to(root) else path
    return f"{shown}:{first + offset}"


def cmd_oidc(args) -> int:
    """Ask the running Cloudlet to mint the token: the issuer is the URL it serves
    (http://HOST:PORT/_cloudlet/oidc) and its clock is the service clock."""
    answer = _control(args, "POST", "/_cloudlet/oidc/token",
                      {"sub": args.sub, "aud": args.aud, "ttl": args.ttl})
    if answer is None:
        return 1
    print(answer["token"])
    return 0


def cmd_mail(args) -> int:
    """Ask the running Cloudlet for the caller's account's mailbox (an mbox under its data
    directory)."""
    answer = _control(args, "GET", "/_cloudlet/sns/mail", query={"to": args.to} if args.to else None)
    if answer is None:
        return 1
    messages = answer["messages"]
    if args.json:
        print(json.dumps(messages, indent=2))
        return 0
    if not messages:
        print("No mail.")
    for message in messages:
        print(f"From: {message['from']}\nTo: {message['to']}\nDate: {message['date']}\n"
              f"Subject: {message['subject']}\n\n{message['body'].rstrip()}\n{'=' * 72}")
    return 0


def cmd_rds(args) -> int:
    """The bundle is a file in the data dir (rds/ca/rds-ca-bundle.pem), made on first use."""
    from cloudlet.ca import rds_ca

    print(rds_ca(args.data_dir.expanduser()).bundle(), end="")
    return 0


COMMANDS = {"up": cmd_up, "status": cmd_status, "down": cmd_down, "reset": cmd_reset,
            "coverage": cmd_coverage, "clock": cmd_clock, "oidc": cmd_oidc, "mail": cmd_mail,
            "rds": cmd_rds}
