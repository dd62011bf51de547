"""JSON values <-> Python values, shape by shape, for `json` and `rest-json` bodies.

    decode(shape, value)  a `json.loads` result -> params (bytes for blobs, datetimes
                          for timestamps); a value of the wrong JSON type is a
                          SerializationError, as AWS answers
    encode(shape, value)  a result -> something `json.dumps` takes (base64 blobs,
                          epoch-second timestamps, "NaN"/"Infinity" floats)
    loads(body) / dumps(value)   the body text, with malformed input as SerializationError:
                          a body that is not UTF-8, bare NaN/Infinity (not JSON; a float's
                          special values travel as the strings "NaN", "Infinity", ...)

Numbers keep their magnitude whatever it is, for the validator to judge: an integer past
Python's int-str limit reads as +-10^4000, one beyond a double's range as +-Infinity.

Member keys are the member's `locationName` when it has one. Timestamps default to epoch
seconds and honour `timestampFormat`. Document shapes pass through untouched.
"""

from __future__ import annotations

import json
import math

from botocore.model import Shape

from cloudlet.errors import SerializationError
from cloudlet.protocols.base import (
    b64decode,
    b64encode,
    format_timestamp,
    parse_timestamp,
)
from cloudlet.protocols.numeric import HUGE, MAX_DIGITS, to_float

_SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def loads(body: bytes):
    """A request body as JSON; an empty body is `{}`."""
    if not body or not body.strip():
        return {}
    try:
        text = body.decode("utf-8") if isinstance(body, bytes | bytearray) else body
        try:
            return json.loads(text, parse_constant=_not_json)
        except ValueError:  # perhaps an integer past the int-str limit: read it again
            return json.loads(text, parse_constant=_not_json, parse_int=_integer)
    except (ValueError, RecursionError):
        raise SerializationError("The request body is not valid JSON.") from None


def _not_json(literal: str):
    raise ValueError(f"{literal} is not JSON")


def _integer(text: str) -> int:
    if len(text) > MAX_DIGITS:
        return -HUGE if text.startswith("-") else HUGE
    return int(text)


def dumps(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode("utf-8")


def is_document(shape: Shape) -> bool:
    return bool(shape.metadata.get("document"))


def member_key(name: str, member: Shape) -> str:
    return member.serialization.get("name", name)


# -- decode -----------------------------------------------------------------------------

def decode(shape: Shape, value):
    if value is None:
        return None
    if is_document(shape):
        return value
    return _DECODERS.get(shape.type_name, _decode_string)(shape, value)


def decode_members(shape: Shape, value, members: dict[str, Shape] | None = None) -> dict:
    """A JSON object as a structure's params, reading only `members` when given."""
    if not isinstance(value, dict):
        raise _mismatch(shape, value)
    members = shape.members if members is None else members
    params = {}
    for name, member in members.items():
        key = member_key(name, member)
        if key in value and value[key] is not None:
            params[name] = decode(member, value[key])
    return params


def _decode_structure(shape: Shape, value) -> dict:
    return decode_members(shape, value)


def _decode_list(shape: Shape, value) -> list:
    if not isinstance(value, list):
        raise _mismatch(shape, value)
    return [decode(shape.member, item) for item in value]


def _decode_map(shape: Shape, value) -> dict:
    if not isinstance(value, dict):
        raise _mismatch(shape, value)
    return {key: decode(shape.value, item) for key, item in value.items()}


def _decode_string(shape: Shape, value) -> str:
    if not isinstance(value, str):
        raise _mismatch(shape, value)
    return value


def _decode_integer(shape: Shape, value) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _mismatch(shape, value)
    return value


def _decode_float(shape: Shape, value) -> float:
    if isinstance(value, str) and value in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[value]
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise _mismatch(shape, value)
    return to_float(value)


def _decode_boolean(shape: Shape, value) -> bool:
    if not isinstance(value, bool):
        raise _mismatch(shape, value)
    return value


def _decode_timestamp(shape: Shape, value):
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _mismatch(shape, value)
    try:
        return parse_timestamp(value)
    except (SerializationError, OverflowError, OSError, ValueError):
        raise _mismatch(shape, value) from None


def _decode_blob(shape: Shape, value) -> bytes:
    if not isinstance(value, str):
        raise _mismatch(shape, value)
    return b64decode(value)


def _mismatch(shape: Shape, value) -> SerializationError:
    found = type(value).__name__ if value is not None else "null"
    return SerializationError(f"Expected a {shape.type_name} for {shape.name}, found {found}.")


_DECODERS = {
    "structure": _decode_structure,
    "list": _decode_list,
    "map": _decode_map,
    "string": _decode_string,
    "integer": _decode_integer,
    "long": _decode_integer,
    "short": _decode_integer,
    "byte": _decode_integer,
    "float": _decode_float,
    "double": _decode_float,
    "boolean": _decode_boolean,
    "timestamp": _decode_timestamp,
    "blob": _decode_blob,
}


# -- encode -----------------------------------------------------------------------------

def encode(shape: Shape, value):
    if value is None:
        return None
    if is_document(shape):
        return value
    encoder = _ENCODERS.get(shape.type_name)
    return encoder(shape, value) if encoder else value


def encode_members(shape: Shape, value: dict, members: dict[str, Shape] | None = None) -> dict:
    """A structure's values as a JSON object, writing only `members` when given."""
    members = shape.members if members is None else members
    encoded = {}
    for name, item in value.items():
        member = members.get(name)
        if member is not None and item is not None:
            encoded[member_key(name, member)] = encode(member, item)
    return encoded


def _encode_structure(shape: Shape, value) -> dict:
    return encode_members(shape, value)


def _encode_list(shape: Shape, value) -> list:
    return [encode(shape.member, item) for item in value]


def _encode_map(shape: Shape, value) -> dict:
    return {str(key): encode(shape.value, item) for key, item in value.items()}


def _encode_float(shape: Shape, value):
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return value


def _encode_integer(shape: Shape, value) -> int:
    return int(value)


def _encode_timestamp(shape: Shape, value):
    return format_timestamp(value, shape.serialization.get("timestampFormat", "unixTimestamp"))


def _encode_blob(shape: Shape, value) -> str:
    if hasattr(value, "read"):
        value = value.read()
    return b64encode(value)


_ENCODERS = {
    "structure": _encode_structure,
    "list": _encode_list,
    "map": _encode_map,
    "float": _encode_float,
    "double": _encode_float,
    "integer": _encode_integer,
    "long": _encode_integer,
    "short": _encode_integer,
    "byte": _encode_integer,
    "timestamp": _encode_timestamp,
    "blob": _encode_blob,
}
