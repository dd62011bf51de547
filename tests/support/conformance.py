"""Loading botocore's protocol test cases (../shared/conformance/botocore-protocols) as data.

Input cases: an HTTP request that a client sent; the codec must parse it back to `params`.
Output cases: a result (or error) that the codec serializes; botocore's own parser must
read back the same result.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from pathlib import Path

from botocore.model import ServiceModel, Shape

# shared/ sits beside the repository, on developers' machines and in CI alike.
ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "botocore-protocols"
assert ROOT.is_dir(), f"conformance data not found at {ROOT}"


def _ignored() -> tuple[set[str], set[tuple[str, str, str]]]:
    data = json.loads((ROOT / "protocol-tests-ignore-list.json").read_text())
    suites = set()
    for direction in ("input", "output"):
        suites |= set(data.get("general", {}).get(direction, {}).get("suites", []))
    cases = set()
    for protocol, directions in data.get("protocols", {}).items():
        for direction, body in directions.items():
            for case in body.get("cases", []):
                cases.add((protocol, direction, case))
    return suites, cases


def cases(direction: str):
    """Yield (file stem, protocol, suite, case) for every case not on botocore's ignore list."""
    ignored_suites, ignored_cases = _ignored()
    for path in sorted((ROOT / direction).glob("*.json")):
        stem = path.stem
        for suite in json.loads(path.read_text()):
            if suite["description"] in ignored_suites:
                continue
            for case in suite["cases"]:
                if (stem, direction, case["id"]) in ignored_cases:
                    continue
                yield stem, suite["metadata"]["protocol"], suite, case


def model_for(suite: dict, case: dict) -> ServiceModel:
    given = case["given"]
    return ServiceModel(
        {
            "metadata": suite["metadata"],
            "operations": {given["name"]: given},
            "shapes": suite["shapes"],
        },
        "conformance",
    )


def normalize(shape: Shape | None, value):
    """A value in a comparable form: timestamps as epoch floats, blobs as bytes, floats
    with NaN made equal."""
    if value is None or shape is None:
        return value
    kind = shape.type_name
    if kind == "structure":
        if not isinstance(value, dict):
            return value
        return {
            k: normalize(shape.members.get(k), v)
            for k, v in value.items()
            if k != "ResponseMetadata" and v is not None  # None is an absent member
        }
    if kind == "list":
        return [normalize(shape.member, v) for v in value]
    if kind == "map":
        return {normalize(shape.key, k): normalize(shape.value, v) for k, v in value.items()}
    if kind == "timestamp":
        if isinstance(value, dt.datetime):
            return round(value.timestamp(), 3)
        if isinstance(value, int | float):
            return round(float(value), 3)
        return value
    if kind == "blob":
        if hasattr(value, "read"):
            value = value.read()
        return value.encode("utf-8") if isinstance(value, str) else value
    if kind in ("float", "double"):
        if isinstance(value, str):
            value = float(value)
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        return value
    if hasattr(value, "read"):
        return value.read().decode("utf-8")
    return value


def request_body(case: dict, protocol: str) -> bytes:
    body = case["serialized"].get("body") or ""
    if protocol == "smithy-rpc-v2-cbor":
        return base64.b64decode(body)
    return body.encode("utf-8")


def response_body(case: dict, protocol: str) -> bytes:
    body = case["response"].get("body") or ""
    if protocol == "smithy-rpc-v2-cbor":
        return base64.b64decode(body)
    return body.encode("utf-8")
