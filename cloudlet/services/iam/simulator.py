"""The policy simulator: SimulatePrincipalPolicy, SimulateCustomPolicy and
GetContextKeysFor{Principal,Custom}Policy, in AWS's shapes.

The simulator runs the same engine as enforcement (`cloudlet.policy.evaluate`) on each
action x resource pair. Like AWS's, it reads no request context of its own: condition keys
and policy variables take their values from ContextEntries, and the keys the policies need
but were not given are reported in MissingContextValues.
"""

from __future__ import annotations

from cloudlet.errors import ServiceError
from cloudlet.policy.document import parse
from cloudlet.policy.evaluate import (
    AuthzRequest,
    Decision,
    Policy,
    Principal,
    context_keys,
    evaluate,
)
from cloudlet.policy.matching import match_action
from cloudlet.policy.variables import variable_keys
from cloudlet.services.iam.errors import InvalidInput, NoSuchEntity

SOURCE_TYPES = {"user": "user", "group": "group", "role": "role",
                "aws-managed": "aws-managed", "managed": "user-managed"}
INPUT_TYPE = "IAM Policy"
DETAIL_LABELS = {"identity": "IAM Policy", "resource": "Resource Policy",
                 "boundary": "Permissions Boundary Policy", "session": "Session Policy"}
LIST_TYPES = ("stringList", "numericList", "booleanList", "dateList", "ipList", "binaryList")


class Simulation:
    """The policies of one simulation, each under an internal id that maps back to AWS's
    SourcePolicyId and SourcePolicyType."""

    def __init__(self):
        self.sources: dict[str, tuple[str, str]] = {}
        self.identity: list[Policy] = []
        self.boundary: Policy | None = None
        self.resource: Policy | None = None

    def add(self, kind: str, source_id: str, source_type: str, text: str) -> Policy:
        internal = str(len(self.sources))
        self.sources[internal] = (source_id, source_type)
        try:
            document = parse(text)
        except ServiceError as e:
            raise InvalidInput(f"{source_id}: {e.message}") from None
        policy = Policy(internal, document, kind)
        if kind == "identity":
            self.identity.append(policy)
        elif kind == "boundary":
            self.boundary = policy
        else:
            self.resource = policy
        return policy

    def all(self) -> list[Policy]:
        return [*self.identity, *([self.boundary] if self.boundary else []),
                *([self.resource] if self.resource else [])]


class SimulatorOperations:
    """Composed into IamProvider: uses its `principal_policies` and `_sources`."""

    def simulate_principal_policy(self, ctx, params: dict) -> dict:
        source_arn = params["PolicySourceArn"]
        sim = Simulation()
        kind, name, boundary = self._principal_sources(ctx.account_id, source_arn, sim)
        self._inputs(params, sim, boundary)
        caller = params.get("CallerArn") or (source_arn if kind == "user" else None)
        principal = _principal(caller or source_arn, ctx.account_id,
                               "AssumedRole" if kind == "role" and not caller else "User")
        return self._simulate(params, sim, principal)

    def simulate_custom_policy(self, ctx, params: dict) -> dict:
        sim = Simulation()
        self._inputs(params, sim, None)
        caller = params.get("CallerArn") or f"arn:aws:iam::{ctx.account_id}:user/simulated"
        return self._simulate(params, sim, _principal(caller, ctx.account_id, "User"))

    def get_context_keys_for_principal_policy(self, ctx, params: dict) -> dict:
        sim = Simulation()
        _, _, boundary = self._principal_sources(ctx.account_id, params["PolicySourceArn"], sim)
        for i, text in enumerate(params.get("PolicyInputList") or [], 1):
            sim.add("identity", f"PolicyInputList.{i}", INPUT_TYPE, text)
        return {"ContextKeyNames": context_keys(sim.all())}

    def get_context_keys_for_custom_policy(self, ctx, params: dict) -> dict:
        sim = Simulation()
        for i, text in enumerate(params.get("PolicyInputList") or [], 1):
            sim.add("identity", f"PolicyInputList.{i}", INPUT_TYPE, text)
        return {"ContextKeyNames": context_keys(sim.all())}

    # -- the policies ---------------------------------------------------------------
    def _principal_sources(self, account: str, source_arn: str, sim: Simulation):
        resource = source_arn.split(":", 5)[-1] if source_arn.count(":") >= 5 else ""
        kind, _, rest = resource.partition("/")
        name = rest.rsplit("/", 1)[-1]
        if kind not in ("user", "role", "group") or not name or not source_arn.startswith("arn:"):
            raise InvalidInput(f"Invalid ARN: {source_arn}")
        if source_arn.split(":")[4] != account:
            raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
        boundary = None
        if kind == "group":
            if self.iam.entity("group", account, name) is None:
                raise NoSuchEntity(f"The group with name {name} cannot be found.")
            sources = self._sources(account, "group", name)
        else:
            found = self.principal_policies(account, source_arn)
            record = self.get_user(account, name) if kind == "user" else self.get_role(account, name)
            if record is None:
                raise NoSuchEntity(f"The {kind} with name {name} cannot be found.")
            sources = found.get("sources") or []
            boundary = found.get("boundary")
        for source in sources:
            sim.add("identity", source["id"], SOURCE_TYPES.get(source["type"], source["type"]),
                    source["document"])
        return kind, name, boundary

    def _inputs(self, params: dict, sim: Simulation, boundary) -> None:
        for i, text in enumerate(params.get("PolicyInputList") or [], 1):
            sim.add("identity", f"PolicyInputList.{i}", INPUT_TYPE, text)
        boundaries = params.get("PermissionsBoundaryPolicyInputList") or []
        if boundaries:  # a simulated boundary replaces the principal's own
            sim.add("boundary", "PermissionsBoundaryPolicyInputList.1", INPUT_TYPE,
                    boundaries[0])
        elif boundary is not None:
            sim.add("boundary", boundary[0], "user-managed", boundary[1])
        if params.get("ResourcePolicy"):
            sim.add("resource", "ResourcePolicy", "resource", params["ResourcePolicy"])

    # -- simulating -----------------------------------------------------------------
    def _simulate(self, params: dict, sim: Simulation, principal: Principal) -> dict:
        actions = params.get("ActionNames") or []
        resources = params.get("ResourceArns") or []
        context = _context(params.get("ContextEntries") or [])
        owner = _account_of(params.get("ResourceOwner"))
        results = []
        for action in actions:
            for resource in resources or ["*"]:
                request = AuthzRequest(principal, action, resource, context, owner)
                decision = evaluate(request, sim.identity, sim.resource, sim.boundary)
                results.append(self._result(sim, request, decision, bool(resources)))
        return _page(results, params)

    def _result(self, sim: Simulation, request: AuthzRequest, decision: Decision,
                specific: bool) -> dict:
        statements = [_statement(sim, m) for m in decision.matched
                      if decision.decision != "allowed" or m.kind != "boundary"]
        missing = _missing(sim, request, decision)
        result = {
            "EvalActionName": request.action,
            "EvalResourceName": request.resource,
            "EvalDecision": decision.decision,
            "MatchedStatements": statements,
            "MissingContextValues": [] if specific else missing,
            "OrganizationsDecisionDetail": {"AllowedByOrganizations": True},
        }
        if decision.allowed_by_boundary is not None:
            result["PermissionsBoundaryDecisionDetail"] = {
                "AllowedByPermissionsBoundary": decision.allowed_by_boundary}
        if sim.resource is not None:  # how each policy type contributed
            result["EvalDecisionDetails"] = {
                DETAIL_LABELS.get(kind, kind): verdict
                for kind, verdict in getattr(decision, "by_kind", {}).items()}
        if specific:
            detail = {
                "EvalResourceName": request.resource,
                "EvalResourceDecision": decision.decision,
                "MatchedStatements": statements,
                "MissingContextValues": missing,
            }
            if "EvalDecisionDetails" in result:
                detail["EvalDecisionDetails"] = result["EvalDecisionDetails"]
            if "PermissionsBoundaryDecisionDetail" in result:
                detail["PermissionsBoundaryDecisionDetail"] = result["PermissionsBoundaryDecisionDetail"]
            result["ResourceSpecificResults"] = [detail]
        return result


def _principal(arn: str, account: str, kind: str) -> Principal:
    parts = arn.split(":")
    owner = parts[4] if len(parts) > 5 and parts[4] else account
    return Principal(arn=arn, account=owner, type=kind,
                     role_arn=arn if kind == "AssumedRole" else "")


def _account_of(owner: str | None) -> str | None:
    if not owner:
        return None
    parts = owner.split(":")
    return parts[4] if len(parts) > 4 else owner


def _context(entries: list[dict]) -> dict:
    context = {}
    for entry in entries:
        name = entry.get("ContextKeyName")
        values = [str(v) for v in entry.get("ContextKeyValues") or []]
        if not name:
            continue
        if entry.get("ContextKeyType") in LIST_TYPES:
            context[name.lower()] = values
        elif values:
            context[name.lower()] = values[0]
    return context


def _statement(sim: Simulation, m) -> dict:
    source_id, source_type = sim.sources.get(m.policy_id, (m.policy_id, "none"))
    return {
        "SourcePolicyId": source_id,
        "SourcePolicyType": source_type,
        "StartPosition": {"Line": m.start[0], "Column": m.start[1]},
        "EndPosition": {"Line": m.end[0], "Column": m.end[1]},
    }


def _missing(sim: Simulation, request: AuthzRequest, decision: Decision) -> list[str]:
    """Keys the engine looked for in conditions, and the variables of Resource patterns of
    statements about this action, that the context does not hold."""
    given = {k.lower() for k in request.context}
    found: dict[str, str] = {}
    for key in decision.missing_context_keys:
        found.setdefault(key.lower(), key)
    for policy in sim.all():
        doc = policy.document
        if not doc.interpolates:
            continue
        for st in doc.statements:
            actions = st.actions
            if actions is not None and not any(match_action(a, request.action) for a in actions):
                continue
            for pattern in (st.resources or ()) + (st.not_resources or ()):
                for key in variable_keys(pattern):
                    found.setdefault(key.lower(), key)
    return [key for lower, key in found.items() if lower not in given]


def _page(results: list[dict], params: dict) -> dict:
    start = 0
    if params.get("Marker"):
        try:
            start = int(params["Marker"])
        except ValueError:
            raise InvalidInput("Invalid Marker.") from None
    size = params.get("MaxItems") or 1000
    page = results[start:start + size]
    out = {"EvaluationResults": page, "IsTruncated": start + size < len(results)}
    if out["IsTruncated"]:
        out["Marker"] = str(start + size)
    return out
