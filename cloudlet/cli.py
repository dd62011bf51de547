"""cloudlet up | status | down | reset | coverage | oidc token | mail | rds ca-bundle"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from cloudlet.config import Settings


def main(argv: list[str] | None = None) -> None:
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
    coverage.add_argument("--where", metavar="SERVICE",
                          help="list the service's operations and the module of each")

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

    run(Settings(host=args.host, port=args.port, data_dir=args.data_dir,
                 ephemeral=args.ephemeral, log_level=args.log_level, tls=args.tls,
                 body_timeout=Settings.from_env().body_timeout))
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
    return 0


def cmd_down(args) -> int:
    if _health(args) is None:
        print(f"Cloudlet is not running on {args.host}:{args.port}")
        return 0
    request = urllib.request.Request(f"http://{args.host}:{args.port}/_cloudlet/shutdown",
                                     data=b"", method="POST")
    try:
        urllib.request.urlopen(request, timeout=10).close()
    except (OSError, urllib.error.URLError) as e:
        print(f"Cloudlet on {args.host}:{args.port} did not take the request: {e}",
              file=sys.stderr)
        return 1
    deadline = time.monotonic() + 120
    while _health(args) is not None:
        if time.monotonic() > deadline:
            print("Cloudlet is still running after 120 s", file=sys.stderr)
            return 1
        time.sleep(0.2)
    print(f"Cloudlet on {args.host}:{args.port} has stopped")
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
    from cloudlet.models import SERVICES, service_model
    from cloudlet.services import provider_class

    if getattr(args, "where", None):
        return coverage_where(args.where)

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
    return 0


def coverage_where(service: str) -> int:
    """Each operation of the service's model and the module that implements it (or `-`)."""
    from botocore import xform_name

    from cloudlet.models import SERVICES, service_model
    from cloudlet.services import provider_class

    if service not in SERVICES:
        print(f"unknown service {service!r}; one of: {', '.join(SERVICES)}", file=sys.stderr)
        return 2
    cls = provider_class(service)
    for operation in sorted(service_model(service).operation_names):
        method = getattr(cls, xform_name(operation), None) if cls is not None else None
        where = "-" if method is None else method.__module__.removeprefix("cloudlet.services.")
        print(f"{operation:<56} {where}")
    return 0


def cmd_oidc(args) -> int:
    """Ask the running Cloudlet to mint the token: the issuer is the URL it serves
    (http://HOST:PORT/_cloudlet/oidc) and its clock is the service clock."""
    body = json.dumps({"sub": args.sub, "aud": args.aud, "ttl": args.ttl}).encode()
    request = urllib.request.Request(
        f"http://{args.host}:{args.port}/_cloudlet/oidc/token", data=body, method="POST",
        headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as reply:
            print(json.load(reply)["token"])
    except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
        print(f"Cloudlet on {args.host}:{args.port} did not mint a token: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_mail(args) -> int:
    """Ask the running Cloudlet for its mailbox (an mbox under its data directory)."""
    query = "?" + urllib.parse.urlencode({"to": args.to}) if args.to else ""
    try:
        with urllib.request.urlopen(
                f"http://{args.host}:{args.port}/_cloudlet/sns/mail{query}", timeout=10) as reply:
            messages = json.load(reply)["messages"]
    except (OSError, urllib.error.URLError, ValueError, KeyError) as e:
        print(f"Cloudlet on {args.host}:{args.port} did not answer: {e}", file=sys.stderr)
        return 1
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
    from cloudlet.engines.db.ca import CertificateAuthority

    print(CertificateAuthority(args.data_dir.expanduser() / "rds" / "ca").bundle(), end="")
    return 0


COMMANDS = {"up": cmd_up, "status": cmd_status, "down": cmd_down, "reset": cmd_reset, "coverage": cmd_coverage,
            "oidc": cmd_oidc, "mail": cmd_mail, "rds": cmd_rds}
