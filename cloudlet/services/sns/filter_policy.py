"""SNS subscription filter policies: checking a policy, matching a message against it.

    check(policy_json, scope)          raises InvalidParameter, as SNS words it
    matches(policy, scope, attributes, body) -> bool

A policy is a JSON object of keys to arrays of conditions (scope MessageAttributes: keys
are message attribute names; scope MessageBody: keys nest as the JSON message does). A
condition is a string, number, true/false/null (exact match) or one operator object:
`prefix`, `suffix`, `equals-ignore-case`, `anything-but` (a value, a list of values, or a
`prefix`/`suffix` object), `numeric` (["=", 5] or a range [">", 0, "<=", 10]), `exists`
(true/false) and `cidr`. `$or` takes a list of policies, any of which may match. Keys are
ANDed; conditions within a key are ORed; a message array matches if any element does.
"""

from __future__ import annotations

import ipaddress
import json
import math

from cloudlet.services.sns.errors import FilterPolicyLimitExceeded, invalid

SCOPES = ("MessageAttributes", "MessageBody")
MAX_KEYS = 5
MAX_COMBINATIONS = 150
MAX_DEPTH = 5
MAX_SIZE = 256 * 1024
OPERATORS = {"prefix", "suffix", "equals-ignore-case", "anything-but", "numeric", "exists", "cidr"}
NUMERIC_OPS = ("=", "<", "<=", ">", ">=")
_ABSENT = object()


def _error(reason: str):
    return invalid(f"FilterPolicy: {reason}")


def check(text: str, scope: str = "MessageAttributes") -> dict:
    if len(text.encode()) > MAX_SIZE:
        raise _error("Filter policy is too long")
    try:
        policy = json.loads(text)
    except ValueError as e:
        raise _error(f"failed to parse JSON. {e.args[0] if e.args else ''}".strip()) from None
    except RecursionError:
        raise _error("failed to parse JSON. Too deeply nested") from None
    if not isinstance(policy, dict):
        raise _error("Filter policy must be a JSON object")
    if not policy:
        return policy
    if _combinations(policy, scope, 1) > MAX_COMBINATIONS:
        raise FilterPolicyLimitExceeded("Filter policy is too complex")
    return policy


def _combinations(obj: dict, scope: str, depth: int) -> int:
    if depth > MAX_DEPTH:
        raise _error(f"Filter policy can not have more than {MAX_DEPTH} levels of nesting")
    keys = [k for k in obj if k != "$or"]
    if len(keys) > MAX_KEYS:
        raise _error(f"Filter policy can not have more than {MAX_KEYS} keys")
    total = 1
    for key in keys:
        value = obj[key]
        if isinstance(value, dict):
            if scope != "MessageBody":
                raise _error(f'"{key}" must be an array (nested filter policies need '
                             "FilterPolicyScope MessageBody)")
            if not value:
                raise _error(f'"{key}" must not be an empty object')
            total *= _combinations(value, scope, depth + 1)
        elif isinstance(value, list):
            if not value:
                raise _error(f'Empty arrays are not allowed ("{key}")')
            for condition in value:
                _check_condition(key, condition)
            total *= len(value)
        else:
            raise _error(f'"{key}" must be an object or an array')
    if "$or" in obj:
        branches = obj["$or"]
        if not isinstance(branches, list) or len(branches) < 2 or not all(
                isinstance(b, dict) and b for b in branches):
            raise _error("$or must be an array of at least two non-empty objects")
        total *= sum(_combinations(b, scope, depth) for b in branches)
    return total


def _finite(value) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:
        return False


def _check_literal(key: str, value) -> None:
    if not (value is None or isinstance(value, (str, int, float, bool))):
        raise _error("Match value must be String, number, true, false, or null")
    if _is_number(value) and not _finite(value):
        raise _error(f'"{key}": numbers must be finite')


def _check_condition(key: str, condition) -> None:
    if not isinstance(condition, dict):
        _check_literal(key, condition)
        return
    if len(condition) != 1:
        raise _error("Only one key allowed in match expression")
    (op, arg), = condition.items()
    if op not in OPERATORS:
        raise _error(f"Unrecognized match type {op}")
    if op in ("prefix", "suffix", "equals-ignore-case"):
        if not isinstance(arg, str):
            raise _error(f"{op} match pattern must be a string")
    elif op == "exists":
        if not isinstance(arg, bool):
            raise _error("exists match pattern must be either true or false.")
    elif op == "cidr":
        try:
            ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            raise _error(f"Malformed CIDR, one '/' required: {arg!r}") from None
    elif op == "numeric":
        _numeric_bounds(arg)
    elif op == "anything-but":
        if isinstance(arg, dict):
            if len(arg) != 1 or next(iter(arg)) not in ("prefix", "suffix"):
                raise _error("Unsupported anything-but pattern")
            if not isinstance(next(iter(arg.values())), str):
                raise _error("anything-but prefix/suffix must be a string")
        elif isinstance(arg, list):
            if not arg:
                raise _error("Empty arrays are not allowed")
            for value in arg:
                if not (isinstance(value, str) or (_is_number(value) and _finite(value))):
                    raise _error("anything-but list must contain only strings or numbers")
        elif not (isinstance(arg, str) or (_is_number(arg) and _finite(arg))):
            raise _error("anything-but must be a string, a number or a list of them")


def _numeric_bounds(arg) -> list[tuple[str, float]]:
    if not isinstance(arg, list) or len(arg) not in (2, 4):
        raise _error("Value of numeric must be an array.")
    bounds = []
    for i in range(0, len(arg), 2):
        op, number = arg[i], arg[i + 1]
        if op not in NUMERIC_OPS:
            raise _error(f"Unrecognized numeric range operator: {op}")
        if not _is_number(number) or not _finite(number):
            raise _error("Value of numeric must be a number")
        bounds.append((op, float(number)))
    if len(bounds) == 2:
        (low_op, low), (high_op, high) = bounds
        if low_op not in (">", ">=") or high_op not in ("<", "<="):
            raise _error("Bad numeric range operator")
        if low >= high:
            raise _error("Bottom must be less than top")
    return bounds


# -- matching -------------------------------------------------------------------------------
def matches(policy: dict, scope: str, attributes: dict, body: str) -> bool:
    if not policy:
        return True
    try:
        return _matches(policy, scope, attributes, body)
    except (OverflowError, RecursionError):  # a number or a nesting beyond any policy's
        return False


def _matches(policy: dict, scope: str, attributes: dict, body: str) -> bool:
    if scope == "MessageBody":
        try:
            document = json.loads(body)
        except (ValueError, RecursionError):
            return False
        if not isinstance(document, dict):
            return False
        return _match_object(policy, lambda key: _body_values(document, key), document)
    return _match_object(policy, lambda key: _attribute_values(attributes, key), None)


def _match_object(obj: dict, values_of, document) -> bool:
    for key, conditions in obj.items():
        if key == "$or":
            if not any(_match_object(branch, values_of, document) for branch in conditions):
                return False
            continue
        if isinstance(conditions, dict):  # nested (MessageBody scope)
            inner = [v for v in _as_list(document.get(key, _ABSENT) if isinstance(document, dict)
                                         else _ABSENT) if isinstance(v, dict)]
            if not any(_match_object(conditions, lambda k, d=d: _body_values(d, k), d)
                       for d in inner):
                return False
            continue
        if not _match_key(conditions, values_of(key)):
            return False
    return True


def _as_list(value) -> list:
    if value is _ABSENT:
        return []
    return value if isinstance(value, list) else [value]


def _body_values(document: dict, key: str):
    if key not in document:
        return _ABSENT
    value = document[key]
    if isinstance(value, list):
        return [v for v in value if not isinstance(v, (dict, list))]
    if isinstance(value, dict):
        return []
    return [value]


def _attribute_values(attributes: dict, key: str):
    attribute = attributes.get(key)
    if attribute is None or "StringValue" not in attribute:  # absent, or binary
        return _ABSENT
    kind, text = attribute["DataType"], attribute["StringValue"]
    if kind.startswith("Number"):
        try:
            return [float(text)]
        except (ValueError, OverflowError):
            return [text]
    if kind.startswith("String.Array"):
        try:
            values = json.loads(text)
        except (ValueError, RecursionError):
            return [text]
        if isinstance(values, list):
            return [v for v in values if not isinstance(v, (dict, list))]
    return [text]


def _match_key(conditions: list, values) -> bool:
    present = values is not _ABSENT
    for condition in conditions:
        if isinstance(condition, dict) and "exists" in condition:
            if condition["exists"] == present:
                return True
            continue
        if present and any(_match_value(condition, v) for v in values):
            return True
    return False


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _equal(literal, value) -> bool:
    if _is_number(literal):
        return _is_number(value) and float(literal) == float(value)
    if isinstance(literal, bool) or literal is None:
        return value is literal
    return isinstance(value, str) and value == literal


def _match_value(condition, value) -> bool:
    if not isinstance(condition, dict):
        return _equal(condition, value)
    (op, arg), = condition.items()
    if op == "prefix":
        return isinstance(value, str) and value.startswith(arg)
    if op == "suffix":
        return isinstance(value, str) and value.endswith(arg)
    if op == "equals-ignore-case":
        return isinstance(value, str) and value.lower() == arg.lower()
    if op == "numeric":
        return _is_number(value) and all(_compare(value, o, n) for o, n in _numeric_bounds(arg))
    if op == "cidr":
        try:
            return ipaddress.ip_address(value) in ipaddress.ip_network(arg, strict=False)
        except (TypeError, ValueError):
            return False
    if op == "anything-but":
        if isinstance(arg, dict):
            (kind, text), = arg.items()
            if not isinstance(value, str):
                return True
            return not (value.startswith(text) if kind == "prefix" else value.endswith(text))
        return not any(_equal(a, value) for a in (arg if isinstance(arg, list) else [arg]))
    return False


def _compare(value, op: str, number: float) -> bool:
    value = float(value)
    return {"=": value == number, "<": value < number, "<=": value <= number,
            ">": value > number, ">=": value >= number}[op]
