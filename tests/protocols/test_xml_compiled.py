"""The compiled XML writer (`write_document`) writes exactly what the tree writer
(`XmlWriter` + `to_bytes`) writes, for botocore's protocol cases and for generated values
of every output shape of S3, IAM and STS."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
from conformance import cases, model_for

from cloudlet.models import service_model
from cloudlet.protocols.xml import (
    XmlWriter,
    namespace_attributes,
    set_namespace,
    to_bytes,
    write_document,
)

TEXTS = ["plain", "a&b <c> \"d\" 'e'\r\nf\tg", "", "é/ü ☃ \U0001f600", "x\x01y\x1fz"]


def tree_document(root_name: str, shape, value: dict) -> bytes:
    root = ET.Element(root_name)
    set_namespace(root, shape)
    root.set("xmlns", "urn:example")
    XmlWriter().write_members(root, shape, value)
    return to_bytes(root, declaration=True)


def compiled_document(root_name: str, shape, value: dict) -> bytes:
    attributes = {**namespace_attributes(shape), "xmlns": "urn:example"}
    return write_document(root_name, attributes, shape, value, declaration=True)


def sample(shape, seed: int, depth: int = 0):
    """A value for `shape`, varied by `seed`: empty and missing members, odd text."""
    kind = shape.type_name
    if kind == "structure":
        if depth > 4:
            return {}
        return {name: sample(member, seed + i, depth + 1)
                for i, (name, member) in enumerate(shape.members.items())
                if (seed + i) % 5 != 0}
    if kind == "list":
        return [] if depth > 4 or seed % 4 == 0 else [
            sample(shape.member, seed + i, depth + 1) for i in range(seed % 3 + 1)]
    if kind == "map":
        return {} if depth > 4 or seed % 4 == 0 else {
            f"k{i}{TEXTS[(seed + i) % len(TEXTS)]}": sample(shape.value, seed + i, depth + 1)
            for i in range(seed % 3 + 1)}
    if kind == "boolean":
        return seed % 2 == 0
    if kind in ("integer", "long"):
        return seed * 7919 - 3
    if kind in ("float", "double"):
        return [1.5, float("nan"), float("inf"), -0.25][seed % 4]
    if kind == "timestamp":
        return dt.datetime(2024, 1, 2, 3, 4, 5, (seed % 2) * 250000, tzinfo=dt.UTC)
    if kind == "blob":
        return bytes(range(seed % 7))
    if shape.enum:
        return shape.enum[seed % len(shape.enum)]
    return TEXTS[seed % len(TEXTS)]


OUTPUT = [pytest.param(s, c, id=f"{stem}:{c['id']}") for stem, p, s, c in cases("output")
          if p in ("rest-xml", "query", "ec2")]


@pytest.mark.parametrize("suite,case", OUTPUT)
def test_protocol_cases_write_the_same_bytes(suite, case):
    operation = model_for(suite, case).operation_model(case["given"]["name"])
    shape = operation.output_shape
    if shape is None:
        return
    value = case.get("result") or {}
    assert compiled_document("Root", shape, value) == tree_document("Root", shape, value)


@pytest.mark.parametrize("service", ["s3", "iam", "sts"])
def test_every_output_shape_writes_the_same_bytes(service):
    model = service_model(service)
    compared = 0
    for name in model.operation_names:
        shape = model.operation_model(name).output_shape
        if shape is None:
            continue
        for seed in range(6):
            value = sample(shape, seed)
            assert compiled_document(name, shape, value) == tree_document(name, shape, value), name
            compared += 1
    assert compared > 20
