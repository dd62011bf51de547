"""The Condition element: every operator, `...IfExists`, `ForAllValues:`/`ForAnyValue:`.

A block `{operator: {key: [values]}}` holds when every operator holds; an operator holds
when every key under it holds (AND); a key holds when the request's value matches any of
the policy values (OR) — for the negated operators (StringNotEquals, NotIpAddress,
ArnNotLike, ...) when it matches none of them (NOR). A key missing from the request makes
a positive operator false and a negated one true; `...IfExists` makes it true; `Null`
tests presence. `ForAllValues:` holds for an empty or missing set, `ForAnyValue:` does not.
Condition key names are case-insensitive; the context arrives with lower-cased keys.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from datetime import UTC, datetime
from functools import lru_cache

from cloudlet.policy.matching import match_arn, match_glob
from cloudlet.policy.variables import resolve, unliteral

STRING = ("StringEquals", "StringNotEquals", "StringEqualsIgnoreCase",
          "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike")
NUMERIC = ("NumericEquals", "NumericNotEquals", "NumericLessThan",
           "NumericLessThanEquals", "NumericGreaterThan", "NumericGreaterThanEquals")
DATE = ("DateEquals", "DateNotEquals", "DateLessThan", "DateLessThanEquals",
        "DateGreaterThan", "DateGreaterThanEquals")
OTHER = ("Bool", "BinaryEquals", "IpAddress", "NotIpAddress", "ArnEquals", "ArnLike",
         "ArnNotEquals", "ArnNotLike", "Null")
BASE_OPERATORS = frozenset(STRING + NUMERIC + DATE + OTHER)
NEGATED = frozenset({"StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike",
                     "NumericNotEquals", "DateNotEquals", "NotIpAddress", "ArnNotEquals",
                     "ArnNotLike"})
# Operators whose policy values may hold policy variables.
INTERPOLATED = frozenset(STRING + ("ArnEquals", "ArnLike", "ArnNotEquals", "ArnNotLike")
                         + NUMERIC + DATE + ("Bool",))


@lru_cache(maxsize=1024)
def parse_operator(name: str) -> tuple[str, str | None, bool] | None:
    """(base operator, set qualifier or None, if_exists) — or None if unknown."""
    qualifier = None
    for prefix in ("ForAllValues:", "ForAnyValue:"):
        if name.startswith(prefix):
            qualifier, name = prefix[:-1], name[len(prefix):]
            break
    if_exists = False
    if name.endswith("IfExists") and name != "IfExists":
        name, if_exists = name[: -len("IfExists")], True
    if name not in BASE_OPERATORS or (if_exists and name == "Null"):
        return None
    return name, qualifier, if_exists


def known_operator(name: str) -> bool:
    return parse_operator(name) is not None


# --- single comparisons (positive sense: does the request value match the policy value)


def _number(text: str) -> float | None:
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


@lru_cache(maxsize=16384)
def _date(text: str) -> float | None:
    number = _number(text)
    if number is not None:
        return number
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except (TypeError, ValueError):
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


@lru_cache(maxsize=4096)
def _network(text: str):
    try:
        return ipaddress.ip_network(text.strip(), strict=False)
    except ValueError:
        return None


@lru_cache(maxsize=16384)
def _address(text: str):
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _binary(text: str) -> bytes | None:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None


def _ordered(op: str, a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return False
    if op.endswith("LessThanEquals"):
        return a <= b
    if op.endswith("LessThan"):
        return a < b
    if op.endswith("GreaterThanEquals"):
        return a >= b
    if op.endswith("GreaterThan"):
        return a > b
    return a == b  # Equals / NotEquals (negation applied by the caller)


def matches(base: str, request: str, policy: str) -> bool:
    if base in ("StringEquals", "StringNotEquals"):
        return request == unliteral(policy)
    if base in ("StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase"):
        return request.casefold() == unliteral(policy).casefold()
    if base in ("StringLike", "StringNotLike"):
        return match_glob(policy, request)
    if base.startswith("Numeric"):
        return _ordered(base, _number(request), _number(unliteral(policy)))
    if base.startswith("Date"):
        return _ordered(base, _date(request), _date(unliteral(policy)))
    if base == "Bool":
        return request.lower() in ("true", "false") and request.lower() == policy.lower()
    if base == "BinaryEquals":
        a, b = _binary(request), _binary(policy)
        return a == b if a is not None and b is not None else request == policy
    if base in ("IpAddress", "NotIpAddress"):
        address, network = _address(request), _network(policy)
        return (address is not None and network is not None
                and address.version == network.version and address in network)
    if base.startswith("Arn"):
        return match_arn(policy, request)
    return False


# --- a whole Condition block -------------------------------------------------------------


def _request_values(context: dict, key: str) -> list[str] | None:
    value = context.get(key)
    if value is None:
        return None
    if isinstance(value, list):
        return value
    return [value]


def _policy_values(base: str, values: tuple[str, ...], context: dict, interpolate: bool):
    if not interpolate or base not in INTERPOLATED:
        return values
    out = []
    for value in values:
        resolved = resolve(value, context)
        if resolved is not None:  # an unresolved variable matches nothing
            out.append(resolved)
    return out


def key_holds(operator: str, key: str, values: tuple[str, ...], context: dict,
              interpolate: bool = True) -> tuple[bool, bool]:
    """(holds, key_missing) for one key under one operator."""
    parsed = parse_operator(operator)
    if parsed is None:
        return False, False
    base, qualifier, if_exists = parsed
    requested = _request_values(context, key.lower())
    missing = requested is None
    if base == "Null":
        absent = requested is None or len(requested) == 0
        return any((v.lower() == "true") == absent for v in values), False
    if requested is None or (qualifier and not requested):
        if if_exists:
            return True, missing
        if qualifier == "ForAllValues":
            return True, missing
        if qualifier == "ForAnyValue":
            return False, missing
        return base in NEGATED, missing
    candidates = _policy_values(base, values, context, interpolate)
    negated = base in NEGATED

    def one(request: str) -> bool:
        hit = any(matches(base, request, p) for p in candidates)
        return not hit if negated else hit

    if qualifier == "ForAllValues":
        return all(one(r) for r in requested), False
    if qualifier == "ForAnyValue":
        return any(one(r) for r in requested), False
    if negated:
        return all(one(r) for r in requested), False
    return any(one(r) for r in requested), False


def block_holds(conditions: dict, context: dict, interpolate: bool = True,
                missing: list | None = None) -> bool:
    """Every operator, every key (AND). Missing keys are appended to `missing`."""
    result = True
    for operator, keys in conditions.items():
        for key, values in keys.items():
            holds, key_missing = key_holds(operator, key, values, context, interpolate)
            if key_missing and missing is not None and key not in missing:
                missing.append(key)
            if not holds:
                result = False
                if missing is None:
                    return False
    return result
