"""Input validation against a botocore input shape, in AWS's words.

    validate(operation.input_shape, params)   # raises ValidationError

Checks what the model states: required members, unknown members, Python types, enums,
length bounds of strings, blobs, lists and maps, and value bounds of numbers. Numbers are
also held to their type's own bounds, for every service at once: an `integer` is 32 bits,
a `long` 64, a NaN never satisfies a `min` or `max`, and an epoch-number timestamp must
fall in years 1 to 9999. Strings must have a UTF-8 form: a lone surrogate (JSON's
`"\ud800"`) would otherwise reach a provider that cannot store it, or merge with another
name once replaced. Every violation is reported in one message, the way AWS
services do:

    2 validation errors detected: Value null at 'roleArn' failed to satisfy constraint:
    Member must not be null; Value 'x' at 'durationSeconds' failed to satisfy constraint:
    Member must have value greater than or equal to 900

Paths name members with a lower-case first letter and list items as `tags.1.member.key`
(1-based). Sensitive values are not echoed ("Value at 'password' ..."). `None` is an
absent member. Patterns are not checked: the models' patterns are Java regexes.

The walk keeps one small rules tuple per shape so a request costs a few dict lookups per
value.
"""

from __future__ import annotations

import datetime as dt
import math
import re

from botocore.model import Shape

from cloudlet.errors import SerializationError, ValidationError
from cloudlet.protocols.numeric import from_epoch, number_text

_STRING = (str,)
_NUMBER = (int, float)
_BLOB = (bytes, bytearray, memoryview, str)
_TIMESTAMP = (dt.datetime, int, float)
_LIST = (list, tuple)
_TYPES = {
    "string": _STRING,
    "integer": (int,),
    "long": (int,),
    "float": _NUMBER,
    "double": _NUMBER,
    "boolean": (bool,),
    "blob": _BLOB,
    "timestamp": _TIMESTAMP,
    "list": _LIST,
    "map": (dict,),
    "structure": (dict,),
}
# A JSON client's "\ud800": text with no UTF-8 form (the codecs keep bytes that are not
# UTF-8 as U+DC80..U+DCFF, and refuse them before this).
_SURROGATES = re.compile("[\ud800-\udfff]")
_NUMERIC = frozenset(("integer", "long", "float", "double"))
_SIZED = frozenset(("string", "blob", "list", "map"))
# The value bounds of the integer types, beyond which no model's range reaches.
_TYPE_BOUNDS = {
    "integer": (-(2**31), 2**31 - 1),
    "long": (-(2**63), 2**63 - 1),
}


class _Rules:
    """What one shape asks of a value, read from the model once."""

    __slots__ = ("kind", "types", "enum", "enum_text", "min", "max", "sensitive", "names")

    def __init__(self, shape: Shape):
        meta = shape.metadata
        self.kind = shape.type_name
        serialization = shape.serialization
        # Documents, JSON-valued headers and streams are whatever the codec made of them.
        unchecked = shape.metadata.get("document") or any(
            serialization.get(k) for k in ("streaming", "eventstream", "jsonvalue")
        )
        self.types = None if unchecked else _TYPES.get(self.kind)
        enum = meta.get("enum")
        self.enum = frozenset(enum) if enum else None
        self.enum_text = f"[{', '.join(enum)}]" if enum else ""
        bounded = self.kind in _SIZED or self.kind in _NUMERIC
        self.min = meta.get("min") if bounded else None
        self.max = meta.get("max") if bounded else None
        if self.min is not None and self.kind in _SIZED and self.min <= 0:
            self.min = None
        if self.kind in _TYPE_BOUNDS:
            low, high = _TYPE_BOUNDS[self.kind]
            self.min = low if self.min is None else max(self.min, low)
            self.max = high if self.max is None else min(self.max, high)
        self.sensitive = bool(meta.get("sensitive"))
        # member name -> how a path spells it
        self.names = (
            {name: name[:1].lower() + name[1:] for name in shape.members}
            if self.kind == "structure"
            else None
        )


_rules: dict[Shape, _Rules] = {}


def _rules_for(shape: Shape) -> _Rules:
    rules = _rules.get(shape)
    if rules is None:
        rules = _rules[shape] = _Rules(shape)
    return rules


def validate(shape: Shape | None, params: dict | None) -> None:
    """Raise ValidationError listing every way `params` violates `shape`."""
    if shape is None:
        return
    errors: list[str] = []
    _check(shape, params or {}, "", errors)
    if errors:
        count = len(errors)
        noun = "error" if count == 1 else "errors"
        raise ValidationError(f"{count} validation {noun} detected: {'; '.join(errors)}")


def _check(shape: Shape, value, path: str, errors: list[str]) -> None:
    rules = _rules_for(shape)
    types = rules.types
    if types is None:
        return
    is_bool = value is True or value is False
    if not isinstance(value, types) or (is_bool and rules.kind != "boolean"):
        errors.append(_violation(rules, value, path, f"Member must be of type {rules.kind}"))
        return
    if rules.enum is not None and value not in rules.enum:
        errors.append(
            _violation(rules, value, path, f"Member must satisfy enum value set: {rules.enum_text}")
        )
    if rules.min is not None or rules.max is not None:
        _check_bounds(rules, value, path, errors)
    kind = rules.kind
    if kind == "string" and not value.isascii() and _SURROGATES.search(value):
        errors.append(_violation(rules, value, path,
                                 "Member must contain only valid UTF-8 characters"))
    if kind == "timestamp" and not isinstance(value, dt.datetime):
        _check_epoch(rules, value, path, errors)
    if kind == "structure":
        _check_structure(shape, rules, value, path, errors)
    elif kind == "list":
        member = shape.member
        prefix = f"{path}." if path else ""
        for index, item in enumerate(value, 1):
            if item is not None:
                _check(member, item, f"{prefix}{index}.member", errors)
    elif kind == "map":
        _check_map(shape, value, path, errors)


def _check_structure(shape, rules: _Rules, value: dict, path: str, errors: list[str]) -> None:
    members = shape.members
    names = rules.names
    prefix = f"{path}." if path else ""
    for name, item in value.items():
        member = members.get(name)
        if member is None:
            known = ", ".join(members)
            raise ValidationError(f'Unknown parameter in input: "{name}", must be one of: {known}')
        if item is not None:
            _check(member, item, prefix + names[name], errors)
    for name in shape.required_members:
        if value.get(name) is None:
            errors.append(
                f"Value null at '{prefix}{names[name]}' failed to satisfy constraint: "
                "Member must not be null"
            )


def _check_map(shape, value: dict, path: str, errors: list[str]) -> None:
    key_shape, value_shape = shape.key, shape.value
    for key, item in value.items():
        key_errors: list[str] = []
        _check(key_shape, key, path, key_errors)
        if key_errors:
            constraints = ", ".join(e.split("constraint: ", 1)[-1] for e in key_errors)
            errors.append(
                f"Value '{_render(value)}' at '{path}' failed to satisfy constraint: "
                f"Map keys must satisfy constraint: [{constraints}]"
            )
            return
        if item is not None:
            _check(value_shape, item, f"{path}.{key}", errors)


def _check_bounds(rules: _Rules, value, path: str, errors: list[str]) -> None:
    if rules.kind in _NUMERIC:
        measure, what = value, "value"
        if measure != measure:  # NaN: outside every range
            measure = -math.inf if rules.min is not None else math.inf
    else:
        measure, what = len(value), "length"
    if rules.min is not None and measure < rules.min:
        errors.append(
            _violation(
                rules, value, path, f"Member must have {what} greater than or equal to {rules.min}"
            )
        )
    if rules.max is not None and measure > rules.max:
        errors.append(
            _violation(
                rules, value, path, f"Member must have {what} less than or equal to {rules.max}"
            )
        )


def _check_epoch(rules: _Rules, value, path: str, errors: list[str]) -> None:
    try:
        from_epoch(value)
    except SerializationError:
        errors.append(_violation(rules, value, path,
                                 "Member must be a timestamp between years 1 and 9999"))


def _violation(rules: _Rules, value, path: str, constraint: str) -> str:
    shown = "Value" if rules.sensitive else f"Value '{_render(value)}'"
    return f"{shown} at '{path}' failed to satisfy constraint: {constraint}"


def _render(value) -> str:
    """A value the way AWS's (Java) services print it."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return f"[{', '.join(_render(v) for v in value)}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, bytes | bytearray | memoryview):
        return f"java.nio.HeapByteBuffer[pos=0 lim={len(value)} cap={len(value)}]"
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, int | float):
        return number_text(value)
    if isinstance(value, str) and not value.isascii():
        return _SURROGATES.sub("?", value)
    return str(value)
