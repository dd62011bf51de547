"""Runs the case table (tests/policy/policy_cases.py) through the engine."""

import importlib.util
import json
from pathlib import Path

import pytest

from cloudlet.policy.evaluate import AuthzRequest, Policy, Principal, evaluate


def _load_table():
    path = Path(__file__).with_name("policy_cases.py")
    spec = importlib.util.spec_from_file_location("policy_cases", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_table = _load_table()
ACCOUNT, CASES, OTHER = _table.ACCOUNT, _table.CASES, _table.OTHER
ROLE_ARN, SESSION_ARN = _table.ROLE_ARN, _table.SESSION_ARN


def make_principal(spec) -> Principal:
    if spec == "alice":
        return Principal(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT, "User",
                         user_id="AIDAEXAMPLEALICE", username="alice")
    if spec == "other-alice":
        return Principal(f"arn:aws:iam::{OTHER}:user/alice", OTHER, "User",
                         user_id="AIDAEXAMPLEOTHER", username="alice")
    if spec == "root":
        return Principal(f"arn:aws:iam::{ACCOUNT}:root", ACCOUNT, "Account", user_id=ACCOUNT,
                         is_root=True)
    if spec == "session":
        return Principal(SESSION_ARN, ACCOUNT, "AssumedRole", user_id="AROAEXAMPLEAPP:s1",
                         role_arn=ROLE_ARN)
    if spec == "federated":
        return Principal(f"arn:aws:sts::{ACCOUNT}:federated-user/carol", ACCOUNT, "FederatedUser",
                         user_id=f"{ACCOUNT}:carol", role_arn=f"arn:aws:iam::{ACCOUNT}:user/bob")
    kind, name = spec["type"], spec["name"]
    if kind == "User":
        return Principal(f"arn:aws:iam::{ACCOUNT}:user/{name}", ACCOUNT, "User",
                         user_id="AIDAEXAMPLEALICE", username=name, tags=spec.get("tags", {}))
    return Principal(name, "", kind)


def as_text(item, version) -> str:
    if "Effect" in item:  # a bare statement: wrap it
        item = {"Statement": [item]}
        if version is not None:
            item = {"Version": version, **item}
    return json.dumps(item, indent=2)


def run(c):
    identity = [Policy(f"identity-{i}", as_text(d, c["version"])) for i, d in enumerate(c["identity"])]
    resource = Policy("resource", as_text(c["resource"], "2012-10-17"), "resource") if c["resource"] else None
    boundary = Policy("boundary", as_text(c["boundary"], "2012-10-17"), "boundary") if c["boundary"] else None
    session = None
    if c["session"] is not None:
        session = [Policy(f"session-{i}", as_text(d, "2012-10-17"), "session")
                   for i, d in enumerate(c["session"])]
    request = AuthzRequest(make_principal(c["principal"]), c["action"], c["arn"], c["context"],
                           c["resource_account"])
    return evaluate(request, identity, resource, boundary, session)


def test_the_table_is_large_and_explained():
    assert len(CASES) >= 300
    names = [c["name"] for c in CASES]
    assert len(names) == len(set(names))
    assert all(c["why"].startswith("IAM User Guide") for c in CASES)


@pytest.mark.parametrize("c", CASES, ids=[c["name"] for c in CASES])
def test_case(c):
    decision = run(c)
    assert decision.decision == c["expect"], c["why"]
    if c["kind"]:
        assert decision.deciding_kind == c["kind"]
    if c["expect"] == "allowed":
        assert decision.matched or c["principal"] == "root"
    if c["expect"] == "explicitDeny":
        assert decision.matched and all(m.effect == "Deny" for m in decision.matched)
