"""AWS's policy evaluation logic, as documented in the IAM User Guide ("Policy evaluation
logic", "How AWS enforcement code logic evaluates requests", "Cross-account policy
evaluation logic").

1. An explicit Deny in any applicable policy (identity, resource, boundary, session) wins.
2. The root user of an account may do anything to that account's resources.
3. Same account: a resource-based policy Allow that names the user, the role session
   (or the federated user), or everyone (`*`), is enough on its own. One that names the
   role still needs the boundary and the session policies to allow. One that names only
   the account delegates to the account's identity-based policies.
4. Otherwise identity-based policies must allow, and so must the permissions boundary
   (if any) and the session policies (if any).
5. Across accounts both sides must allow: the resource owner's resource-based policy and
   the caller's identity-based policies (with boundary and session policies).

`evaluate()` is pure: it receives everything and returns a `Decision` saying which
statements decided and which policy type to name in AWS's AccessDenied message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from cloudlet.policy.compiled import CompiledStatement, compile_document
from cloudlet.policy.conditions import block_holds
from cloudlet.policy.document import PolicyDocument, parse
from cloudlet.policy.variables import variable_keys

KIND_LABELS = {
    "identity": "identity-based policy",
    "resource": "resource-based policy",
    "boundary": "permissions boundary",
    "session": "session policy",
}
_ARTICLES = {
    "identity-based policy": "an",
    "resource-based policy": "a",
    "permissions boundary": "a",
    "session policy": "a",
}


@dataclass
class Principal:
    arn: str  # ...:root, ...:user/alice, arn:aws:sts::...:assumed-role/R/s, a service name
    account: str
    type: str  # "Account" (root) | "User" | "AssumedRole" | "FederatedUser" | "Service"
    #            | "Federated" (an OIDC/SAML provider) | "Anonymous"
    user_id: str = ""
    username: str = ""
    tags: dict[str, str] = field(default_factory=dict)
    is_root: bool = False
    # where a session came from: the role's ARN (with its path) for AssumedRole, the IAM
    # user's ARN for FederatedUser (GetFederationToken)
    role_arn: str = ""


@dataclass
class Policy:
    id: str
    document: PolicyDocument | str
    kind: str = "identity"  # "identity" | "resource" | "boundary" | "session"

    @property
    def parsed(self) -> PolicyDocument:
        doc = self.document
        return doc if isinstance(doc, PolicyDocument) else parse(doc)


@dataclass
class AuthzRequest:
    principal: Principal
    action: str
    resource: str
    context: dict = field(default_factory=dict)
    resource_account: str | None = None


@dataclass(frozen=True)
class MatchedStatement:
    policy_id: str
    kind: str
    index: int
    sid: str | None
    effect: str
    start: tuple[int, int]
    end: tuple[int, int]


@dataclass
class Decision:
    decision: str  # "allowed" | "explicitDeny" | "implicitDeny"
    matched: list[MatchedStatement] = field(default_factory=list)
    deciding_kind: str = ""  # "identity-based policy", "permissions boundary", ...
    missing_context_keys: list[str] = field(default_factory=list)
    allowed_by_boundary: bool | None = None  # None: no boundary applied
    allowed_by_session: bool | None = None  # None: no session policies applied
    # each applied policy type's own verdict, e.g. {"identity": "allowed",
    # "resource": "implicitDeny"} (for the simulator's EvalDecisionDetails)
    by_kind: dict[str, str] = field(default_factory=dict)

    @property
    def allowed(self) -> bool:
        return self.decision == "allowed"

    def message(self, principal_arn: str, action: str, resource: str) -> str:
        head = (f"User: {principal_arn} is not authorized to perform: {action} "
                f'on resource: "{resource}"')
        if self.decision == "explicitDeny":
            kind = self.deciding_kind or "identity-based policy"
            return f"{head} with an explicit deny in {_ARTICLES.get(kind, 'a')} {kind}"
        if self.decision == "implicitDeny":
            kind = self.deciding_kind or "identity-based policy"
            return f"{head} because no {kind} allows the {action} action"
        return ""


# --- the request context -----------------------------------------------------------------


def _text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_context(context: dict, principal: Principal | None = None) -> dict:
    """Lower-cased keys; values as strings or lists of strings. Fills the principal's
    global keys (aws:PrincipalArn, aws:username, aws:PrincipalTag/k, ...) when absent."""
    out: dict = {}
    for key, value in context.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple, set, frozenset)):
            out[key.lower()] = [_text(v) for v in value]
        else:
            out[key.lower()] = _text(value)
    if principal is not None:
        _principal_keys(out, principal)
    return out


def _principal_keys(out: dict, p: Principal) -> None:
    if p.type in ("Service", "Federated", "Anonymous"):
        return
    source = _role_arn_of(p) if p.type == "AssumedRole" else ""
    out.setdefault("aws:principalarn", source or p.arn)
    out.setdefault("aws:principalaccount", p.account)
    out.setdefault("aws:principaltype", p.type)
    if p.user_id:
        out.setdefault("aws:userid", p.user_id)
    if p.type == "User" and p.username:
        out.setdefault("aws:username", p.username)
    for key, value in p.tags.items():
        out.setdefault(f"aws:principaltag/{key.lower()}", value)


# --- statements --------------------------------------------------------------------------


def _role_arn_of(p: Principal) -> str:
    if p.role_arn:
        return p.role_arn
    # arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION -> arn:aws:iam::ACCOUNT:role/NAME
    parts = p.arn.split(":", 5)
    if len(parts) == 6 and parts[5].startswith("assumed-role/"):
        name = parts[5].split("/")[1]
        return f"arn:{parts[1]}:iam::{parts[4]}:role/{name}"
    return ""


def principal_match(block: dict, p: Principal) -> str | None:
    """How a Principal element names `p`: "everyone", "principal" (the user, session or
    federated user itself), "role" (the session's role), "account" (its account), or None."""
    best = None
    rank = {"account": 1, "role": 2, "principal": 3, "everyone": 4}
    for kind, ids in block.items():
        for ident in ids:
            found = _one_principal(kind, ident, p)
            if found and (best is None or rank[found] > rank[best]):
                best = found
    return best


def _one_principal(kind: str, ident: str, p: Principal) -> str | None:
    if kind == "*" or (kind == "AWS" and ident == "*"):
        return "everyone"
    if kind == "AWS":
        if p.type in ("Service", "Federated", "Anonymous"):
            return None
        if ident == p.account or ident == f"arn:aws:iam::{p.account}:root":
            return "principal" if p.type == "Account" else "account"
        if ident == p.arn:
            return "principal"
        if p.type in ("AssumedRole", "FederatedUser") and ident == _role_arn_of(p):
            return "role"  # the session's source identity: session policies still apply
        return None
    if kind == "Service":
        return "principal" if p.type == "Service" and ident == p.arn else None
    if kind == "Federated":
        return "principal" if p.type == "Federated" and ident == p.arn else None
    if kind == "CanonicalUser":
        return "principal" if ident in (p.user_id, p.arn) else None
    return None


def _applies(cs: CompiledStatement, request: AuthzRequest, ctx: dict, interpolate: bool,
             missing: list | None, check_principal: bool) -> str | None:
    """None if the statement does not apply (its action was already matched); else how it
    named the principal ("n/a" for identity-side policies)."""
    if not cs.resource_matches(request.resource, ctx):
        return None
    st = cs.statement
    how = "n/a"
    if check_principal:
        if st.principals is not None:
            how = principal_match(st.principals, request.principal)
            if how is None:
                return None
        elif st.not_principals is not None:
            # naming a role in NotPrincipal does not exclude its sessions: only the
            # session's own ARN (or the account, or everyone) does
            if principal_match(st.not_principals, request.principal) not in (None, "role"):
                return None
            how = "everyone"
        else:
            return None
    if st.conditions and not block_holds(st.conditions, ctx, interpolate, missing):
        return None
    return how


@dataclass
class _Scan:
    allows: list = field(default_factory=list)  # (MatchedStatement, how)
    denies: list = field(default_factory=list)


def _scan(policies: list[Policy], kind: str, request: AuthzRequest, ctx: dict,
          missing: list) -> _Scan:
    scan = _Scan()
    for policy in policies:
        doc = compile_document(policy.document)
        interpolate = doc.interpolates
        for cs in doc.for_action(request.action):
            how = _applies(cs, request, ctx, interpolate, missing, kind == "resource")
            if how is None:
                continue
            st = cs.statement
            matched = MatchedStatement(policy.id, kind, st.index, st.sid, st.effect,
                                       st.start, st.end)
            (scan.denies if cs.deny else scan.allows).append((matched, how))
    return scan


# --- the decision ------------------------------------------------------------------------


def evaluate(request: AuthzRequest, identity: list[Policy], resource: Policy | None = None,
             boundary: Policy | None = None, session: list[Policy] | None = None) -> Decision:
    p = request.principal
    ctx = normalize_context(request.context, p)
    missing: list[str] = []
    scans = {
        "identity": _scan(identity or [], "identity", request, ctx, missing),
        "session": _scan(session or [], "session", request, ctx, missing),
        "boundary": _scan([boundary] if boundary else [], "boundary", request, ctx, missing),
        "resource": _scan([resource] if resource else [], "resource", request, ctx, missing),
    }
    has_boundary = boundary is not None
    has_session = bool(session)
    boundary_ok = not has_boundary or bool(scans["boundary"].allows)
    session_ok = not has_session or bool(scans["session"].allows)
    applied = {"identity": True, "session": has_session, "boundary": has_boundary,
               "resource": resource is not None}
    details = {
        "allowed_by_boundary": boundary_ok if has_boundary else None,
        "allowed_by_session": session_ok if has_session else None,
        "missing_context_keys": missing,
        "by_kind": {kind: _verdict(scans[kind]) for kind, on in applied.items() if on},
    }

    # 1. explicit deny anywhere
    denies = [(kind, m) for kind, scan in scans.items() for m, _ in scan.denies]
    if denies:
        return Decision("explicitDeny", [m for _, m in denies], KIND_LABELS[denies[0][0]],
                        **details)

    resource_allows = scans["resource"].allows
    owner = request.resource_account or p.account
    same_account = owner == p.account and p.type not in ("Service", "Federated", "Anonymous")

    def allowed(*kinds: str) -> Decision:
        matched = [m for kind in kinds for m, _ in scans[kind].allows]
        return Decision("allowed", matched, "", **details)

    # services, web identities and anonymous callers have only the resource side
    if p.type in ("Service", "Federated", "Anonymous"):
        if resource_allows:
            return allowed("resource")
        return Decision("implicitDeny", [], KIND_LABELS["resource"], **details)

    # 2. root in its own account
    if p.is_root or p.type == "Account":
        if same_account:
            return allowed("resource")
        if resource_allows:
            return allowed("resource")
        return Decision("implicitDeny", [], KIND_LABELS["resource"], **details)

    hows = {how for _, how in resource_allows}
    identity_ok = bool(scans["identity"].allows)

    if same_account:
        # 3. a resource-based policy naming the principal itself decides alone
        if hows & {"principal", "everyone"}:
            return allowed("resource")
        if "role" in hows and boundary_ok and session_ok:
            return allowed("resource", "boundary", "session")
        # 4. identity-based policies, capped by boundary and session policies
        if identity_ok and boundary_ok and session_ok:
            return allowed("identity", "boundary", "session", "resource")
        # naming the role stood in for the identity side; what failed is boundary/session
        return Decision("implicitDeny", [],
                        _missing_kind(identity_ok or "role" in hows, boundary_ok, session_ok),
                        **details)

    # 5. across accounts: both sides
    if identity_ok and boundary_ok and session_ok and resource_allows:
        return allowed("identity", "boundary", "session", "resource")
    if identity_ok and boundary_ok and session_ok:
        return Decision("implicitDeny", [], KIND_LABELS["resource"], **details)
    return Decision("implicitDeny", [], _missing_kind(identity_ok, boundary_ok, session_ok),
                    **details)


def _verdict(scan: _Scan) -> str:
    if scan.denies:
        return "explicitDeny"
    return "allowed" if scan.allows else "implicitDeny"


def _missing_kind(identity_ok: bool, boundary_ok: bool, session_ok: bool) -> str:
    if not identity_ok:
        return KIND_LABELS["identity"]
    if not boundary_ok:
        return KIND_LABELS["boundary"]
    return KIND_LABELS["session"]


# --- GetContextKeysFor*Policy ------------------------------------------------------------


def context_keys(policies: list[Policy]) -> list[str]:
    """Condition keys the policies read: Condition keys and variables in Resource and
    condition values. First spelling wins; duplicates differing in case are dropped."""
    seen: dict[str, str] = {}

    def add(key: str) -> None:
        seen.setdefault(key.lower(), key)

    for policy in policies:
        doc = policy.parsed
        for st in doc.statements:
            if doc.interpolates:
                for pattern in (st.resources or ()) + (st.not_resources or ()):
                    for key in variable_keys(pattern):
                        add(key)
            for keys in st.conditions.values():
                for key, values in keys.items():
                    add(key)
                    if doc.interpolates:
                        for value in values:
                            for var in variable_keys(value):
                                add(var)
    return list(seen.values())
