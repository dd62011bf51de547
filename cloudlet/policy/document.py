"""Policy documents: parse the JSON text, find each statement's position, validate.

`parse(text)` returns a `PolicyDocument` (cached by text) without judging it; the
`validate_*_policy(text)` functions apply IAM's grammar for each kind of policy and raise
`ServiceError(code="MalformedPolicyDocument")` with AWS's wording. Positions are what the
policy simulator reports: 1-based line and column just after the statement's opening `{`
and just after its closing `}` (AWS's CLI example: a one-line policy whose statement object
spans 0-based offsets 36..165 reports StartPosition 1:38 and EndPosition 1:167).
"""

from __future__ import annotations

import json
import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import lru_cache

from cloudlet.errors import ServiceError
from cloudlet.policy.conditions import known_operator

VERSIONS = ("2012-10-17", "2008-10-17")
STATEMENT_FIELDS = frozenset(
    {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
)
DOCUMENT_FIELDS = frozenset({"Version", "Id", "Statement"})

Position = tuple[int, int]


@dataclass(frozen=True)
class Statement:
    sid: str | None
    effect: str
    actions: tuple[str, ...] | None = None
    not_actions: tuple[str, ...] | None = None
    resources: tuple[str, ...] | None = None
    not_resources: tuple[str, ...] | None = None
    # {"AWS": (...), "Service": (...), "Federated": (...), "CanonicalUser": (...)};
    # the bare "*" principal is {"*": ("*",)}.
    principals: dict[str, tuple[str, ...]] | None = None
    not_principals: dict[str, tuple[str, ...]] | None = None
    # {operator: {key: (values...)}} with values as strings (JSON scalars stringified)
    conditions: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    index: int = 0
    start: Position = (1, 1)
    end: Position = (1, 1)


@dataclass(frozen=True)
class PolicyDocument:
    version: str | None
    id: str | None
    statements: list[Statement]
    text: str = ""

    @property
    def interpolates(self) -> bool:
        """Only Version 2012-10-17 substitutes policy variables."""
        return self.version == "2012-10-17"


def malformed(message: str) -> ServiceError:
    return ServiceError(message, code="MalformedPolicyDocument", status=400)


SYNTAX = "Syntax errors in policy."
VENDOR = "Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc."


# --- parsing ----------------------------------------------------------------------------


@lru_cache(maxsize=4096)
def parse(text: str) -> PolicyDocument:
    """The document as data; structural errors raise MalformedPolicyDocument."""
    try:
        raw = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        raise malformed(SYNTAX) from exc
    if not isinstance(raw, dict):
        raise malformed(SYNTAX)
    _known_fields(raw, DOCUMENT_FIELDS)
    version = _optional_text(raw, "Version")
    policy_id = _optional_text(raw, "Id")
    if "Statement" not in raw:
        raise malformed(SYNTAX)
    body = raw["Statement"]
    items = body if isinstance(body, list) else [body]
    positions = _statement_positions(text)
    statements = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise malformed(SYNTAX)
        start, end = positions[index] if index < len(positions) else ((1, 1), (1, 1))
        statements.append(_statement(item, index, start, end))
    return PolicyDocument(version, policy_id, statements, text)


def _known_fields(raw: dict, known: frozenset) -> None:
    for name in raw:  # IAM names the first unknown field, as written
        if name not in known:
            raise malformed(f"Unknown field {name}")


def _no_constant(name):
    raise ValueError(f"{name} is not JSON")


def _no_duplicates(pairs):
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"duplicate key {key}")
        result[key] = value
    return result


def _strings(value) -> tuple[str, ...]:
    values = value if isinstance(value, list) else [value]
    if not values and isinstance(value, list):
        return ()
    out = []
    for item in values:
        if not isinstance(item, str):
            raise malformed(SYNTAX)
        out.append(item)
    return tuple(out)


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, str)):
        return str(value)
    raise malformed(SYNTAX)


def _principal(value) -> dict[str, tuple[str, ...]]:
    if value == "*":
        return {"*": ("*",)}
    if not isinstance(value, dict) or not value:
        raise malformed(SYNTAX)
    return {kind: _strings(ids) for kind, ids in value.items()}


def _condition(value) -> dict[str, dict[str, tuple[str, ...]]]:
    if not isinstance(value, dict):
        raise malformed(SYNTAX)
    out: dict[str, dict[str, tuple[str, ...]]] = {}
    for operator, block in value.items():
        if not isinstance(block, dict):
            raise malformed(SYNTAX)
        keys: dict[str, tuple[str, ...]] = {}
        for key, values in block.items():
            items = values if isinstance(values, list) else [values]
            keys[key] = tuple(_scalar(v) for v in items)
        out[operator] = keys
    return out


def _optional_text(raw: dict, name: str) -> str | None:
    """A field that, when present, must be a string: anything else is a syntax error."""
    value = raw.get(name)
    if value is not None and not isinstance(value, str):
        raise malformed(SYNTAX)
    return value


def _statement(raw: dict, index: int, start: Position, end: Position) -> Statement:
    _known_fields(raw, STATEMENT_FIELDS)
    sid = _optional_text(raw, "Sid")
    effect = _optional_text(raw, "Effect")

    def opt(name, convert):
        return convert(raw[name]) if name in raw else None

    return Statement(
        sid=sid,
        effect=effect or "",
        actions=opt("Action", _strings),
        not_actions=opt("NotAction", _strings),
        resources=opt("Resource", _strings),
        not_resources=opt("NotResource", _strings),
        principals=opt("Principal", _principal),
        not_principals=opt("NotPrincipal", _principal),
        conditions=_condition(raw["Condition"]) if "Condition" in raw else {},
        index=index,
        start=start,
        end=end,
    )


_DECODER = json.JSONDecoder()
_BLANK = re.compile(r"[ \t\n\r]*")


def _statement_positions(text: str) -> list[tuple[Position, Position]]:
    """Spans of the statement objects: the elements of the top-level "Statement" array
    (or the one object). Walks the (already valid) top-level object, letting json's C
    decoder skip over each value, so a long policy costs little more than a short one."""
    newlines = [m.start() for m in re.finditer("\n", text)]

    def position(offset: int) -> Position:  # of the character just after `offset`
        line = bisect_right(newlines, offset)
        line_start = newlines[line - 1] + 1 if line else 0
        return (line + 1, offset - line_start + 2)

    def blank(i: int) -> int:
        return _BLANK.match(text, i).end()

    i = blank(0) + 1  # past the document's "{"
    while True:
        i = blank(i)
        if text[i] == "}":
            return []
        key, i = _DECODER.raw_decode(text, i)
        i = blank(blank(i) + 1)  # past ":"
        if key != "Statement":
            _, i = _DECODER.raw_decode(text, i)
            i = blank(i) + 1  # past "," (or the final "}")
            continue
        if text[i] == "{":
            _, end = _DECODER.raw_decode(text, i)
            return [(position(i), position(end - 1))]
        if text[i] != "[":
            return []
        spans = []
        i = blank(i + 1)  # past "["
        while text[i] != "]":
            start = i
            _, i = _DECODER.raw_decode(text, i)
            spans.append((position(start), position(i - 1)))
            i = blank(i)
            if text[i] == ",":
                i = blank(i + 1)
        return spans


# --- validation -------------------------------------------------------------------------

_ARN = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$", re.S)
PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
_ACTION = re.compile(r"^[A-Za-z0-9*?\-]+:[A-Za-z0-9*?\-_]*$")


def _check_document(text: str, *, iam_sids: bool = True) -> PolicyDocument:
    if not isinstance(text, str) or not text.strip():
        raise malformed(SYNTAX)
    doc = parse(text)
    raw_version_ok = doc.version in VERSIONS
    if doc.version is not None and not raw_version_ok:
        raise malformed("The policy must contain a valid version string")
    if not doc.statements:
        raise malformed(SYNTAX)
    sids = set()
    for st in doc.statements:
        if st.effect not in ("Allow", "Deny"):
            if not st.effect:
                raise malformed("Missing required field Effect")
            raise malformed("The policy failed legacy parsing")
        if not st.actions and not st.not_actions:
            raise malformed("Policy statement must contain actions.")
        if st.actions is not None and st.not_actions is not None:
            raise malformed(SYNTAX)
        if st.resources is not None and st.not_resources is not None:
            raise malformed(SYNTAX)
        if st.principals is not None and st.not_principals is not None:
            raise malformed(SYNTAX)
        for action in (st.actions or ()) + (st.not_actions or ()):
            _check_action(action)
        for resource in (st.resources or ()) + (st.not_resources or ()):
            _check_resource(resource)
        _check_conditions(st.conditions)
        if st.sid:
            if iam_sids and not re.fullmatch(r"[0-9A-Za-z]*", st.sid):
                raise malformed(
                    "Statement IDs (SID) must be alpha-numeric. Check that your input "
                    "satisfies the regular expression [0-9A-Za-z]*"
                )
            if st.sid in sids and doc.version == "2012-10-17":
                raise malformed("Statement IDs (SID) in a single policy must be unique.")
            sids.add(st.sid)
    return doc


def _check_action(action: str) -> None:
    if action == "*":
        return
    if action.count(":") > 1:
        raise malformed("Actions/Condition can contain only one colon.")
    if ":" not in action:
        raise malformed(VENDOR)
    vendor = action.split(":", 1)[0]
    if not vendor or not re.fullmatch(r"[A-Za-z0-9*?\-]+", vendor):
        raise malformed(f"Vendor {vendor} is not valid")
    if not _ACTION.match(action):
        raise malformed(f"Action {action} is not valid")


def _check_resource(resource: str) -> None:
    if resource == "*":
        return
    if not resource.startswith("arn:"):
        raise malformed(f'Resource {resource} must be in ARN format or "*".')
    match = _ARN.match(resource)
    if not match:
        raise malformed(f'Resource {resource} must be in ARN format or "*".')
    partition, service, region = match.group(1), match.group(2), match.group(3)
    if partition not in PARTITIONS and not any(c in partition for c in "*?$"):
        raise malformed(f'Partition "{partition}" is not valid for resource "{resource}".')
    if service == "iam" and region and region != "*":
        raise malformed(f"IAM resource {resource} cannot contain region information.")


def _check_conditions(conditions: dict) -> None:
    for operator, block in conditions.items():
        if not known_operator(operator):
            raise malformed(SYNTAX)
        for key in block:
            if ":" not in key:
                raise malformed(VENDOR)


def _principal_ok(kind: str, ident: str) -> bool:
    if kind == "*":
        return ident == "*"
    if kind == "AWS":
        return ident == "*" or bool(re.fullmatch(r"\d{12}", ident)) or ident.startswith("arn:")
    if kind == "Service":
        return bool(ident) and " " not in ident
    if kind == "Federated":
        return bool(ident)
    if kind == "CanonicalUser":
        return bool(ident)
    return False


def _check_principals(doc: PolicyDocument) -> None:
    for st in doc.statements:
        block = st.principals if st.principals is not None else st.not_principals
        if block is None:
            continue
        for kind, ids in block.items():
            if kind not in ("*", "AWS", "Service", "Federated", "CanonicalUser"):
                raise malformed(SYNTAX)
            for ident in ids:
                if not _principal_ok(kind, ident):
                    raise malformed(f'Invalid principal in policy: "{kind}":"{ident}"')


def _non_whitespace(text: str) -> int:
    return sum(1 for c in text if not c.isspace())


def limit_exceeded(message: str) -> ServiceError:
    return ServiceError(message, code="LimitExceeded", status=409)


# Size quotas (IAM and STS quotas page): inline policies count characters without
# whitespace, summed per identity; managed policies 6,144; trust policies 2,048.
INLINE_LIMITS = {"user": 2048, "group": 5120, "role": 10240}
MANAGED_LIMIT = 6144
TRUST_LIMIT = 2048
SESSION_LIMIT = 2048


def validate_identity_policy(text: str, *, managed: bool = False) -> PolicyDocument:
    """An identity-based policy (inline or managed): no Principal, Resource required."""
    doc = _check_document(text)
    for st in doc.statements:
        if st.principals is not None or st.not_principals is not None:
            raise malformed("Policy document should not specify a principal.")
        if not st.resources and not st.not_resources:
            raise malformed("Policy statement must contain resources.")
    if managed and _non_whitespace(text) > MANAGED_LIMIT:
        raise limit_exceeded(f"Cannot exceed quota for PolicySize: {MANAGED_LIMIT}")
    return doc


def validate_managed_policy(text: str) -> PolicyDocument:
    return validate_identity_policy(text, managed=True)


def check_inline_size(total_text: str | int, owner_kind: str, owner_name: str) -> None:
    """The aggregate inline-policy size of a user, group or role (whitespace excluded)."""
    size = total_text if isinstance(total_text, int) else _non_whitespace(total_text)
    limit = INLINE_LIMITS[owner_kind]
    if size > limit:
        raise limit_exceeded(
            f"Maximum policy size of {limit} bytes exceeded for {owner_kind} {owner_name}"
        )


def validate_resource_policy(text: str) -> PolicyDocument:
    """A resource-based policy: each statement names a Principal or NotPrincipal.
    (Services other than IAM accept any Sid text.)"""
    doc = _check_document(text, iam_sids=False)
    for st in doc.statements:
        if st.principals is None and st.not_principals is None:
            raise malformed("Missing required field Principal")
    _check_principals(doc)
    return doc


def validate_trust_policy(text: str) -> PolicyDocument:
    """A role's trust policy: Principal required, no Resource, only sts actions."""
    doc = _check_document(text)
    for st in doc.statements:
        if st.principals is None and st.not_principals is None:
            raise malformed(
                "Invalid principal in policy: com.amazon.balsa.error.InvalidPolicyException: "
                "The passed in policy has a statement with no principals!"
            )
        if st.resources is not None or st.not_resources is not None:
            raise malformed("Has prohibited field Resource.")
        for action in st.actions or ():
            if not action.lower().startswith(("sts:", "*")) and action != "*":
                raise malformed("AssumeRole policy may only specify STS AssumeRole actions.")
    _check_principals(doc)
    if _non_whitespace(text) > TRUST_LIMIT:
        raise limit_exceeded(f"Cannot exceed quota for ACLSizePerRole: {TRUST_LIMIT}")
    return doc


def validate_session_policy(text: str) -> PolicyDocument:
    """An inline session policy passed to AssumeRole/GetFederationToken (STS)."""
    if isinstance(text, str) and len(text) > SESSION_LIMIT:
        raise ServiceError(
            "1 validation error detected: Value at 'policy' failed to satisfy constraint: "
            f"Member must have length less than or equal to {SESSION_LIMIT}",
            code="ValidationError",
            status=400,
        )
    doc = _check_document(text)
    for st in doc.statements:
        if st.principals is not None or st.not_principals is not None:
            raise malformed("Policy document should not specify a principal.")
        if not st.resources and not st.not_resources:
            raise malformed("Policy statement must contain resources.")
    return doc
