"""Describe* `Filters`, written once for every kind.

    compiled = Filters.compile(kind, params.get("Filters"))   # InvalidParameterValue for an
    docs = [d for d in docs if compiled.matches(d)]           # unknown name, as AWS answers

A filter names a field by AWS's filter name (`vpc-id`, `ip-permission.from-port`,
`association.main`, ...), each with the values it may take: values of one filter are OR-ed,
filters AND-ed; `*` and `?` in a value are wildcards (`\\` escapes them). Every kind also
has `tag:<Key>`, `tag-key` and `tag-value`. `FIELDS[kind][name]` says where the value lives:
a dotted path through the document (lists are walked) or a function of the document.
`narrowing()` gives the indexed columns a filter can narrow by before documents are read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from cloudlet.services.ec2 import errors
from cloudlet.services.ec2.ids import KINDS

Field = str | Callable[[dict], Iterable]

# kind -> filter name -> where its values are. Families add theirs with `declare`.
FIELDS: dict[str, dict[str, Field]] = {}
# kinds whose Describe* answers an unknown filter with InvalidFilter (the rest:
# InvalidParameterValue, "The filter 'x' is invalid")
INVALID_FILTER_CODE: set[str] = set()
# filter names that map to an indexed column of ec2_resources (View.find's arguments)
COLUMNS = {
    "security-group": {"vpc-id": "vpc_ids", "group-name": "names", "group-id": "ids"},
    "security-group-rule": {"group-id": "parents", "security-group-rule-id": "ids"},
}
ANY_KIND_COLUMNS = {"vpc-id": "vpc_ids"}


def declare(kind: str, fields: dict[str, Field]) -> None:
    FIELDS.setdefault(kind, {}).update(fields)


def values_at(doc, path: str) -> list:
    """Every value at a dotted path, walking into lists."""
    current = [doc]
    for part in path.split("."):
        found = []
        for item in current:
            if isinstance(item, list):
                for element in item:
                    if isinstance(element, dict) and part in element:
                        found.append(element[part])
            elif isinstance(item, dict) and part in item:
                found.append(item[part])
        current = found
    flat = []
    for value in current:
        if isinstance(value, list):
            flat.extend(value)
        else:
            flat.append(value)
    return flat


def text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    return str(value)


def _pattern(value: str):
    """A filter value: the exact text, or a compiled wildcard pattern."""
    if "*" not in value and "?" not in value:
        return value
    out, escaped = [], False
    for char in value:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return re.compile("".join(out), re.DOTALL)


@dataclass
class Filter:
    name: str
    values: list[str]
    patterns: list
    field: Field | None  # None for tag filters

    @property
    def exact(self) -> bool:
        return all(isinstance(p, str) for p in self.patterns)

    def accepts(self, candidates: Iterable) -> bool:
        for candidate in candidates:
            value = text(candidate)
            for pattern in self.patterns:
                if pattern == value if isinstance(pattern, str) else pattern.fullmatch(value):
                    return True
        return False


class Filters:
    def __init__(self, kind: str, filters: list[Filter]):
        self.kind, self.filters = kind, filters
        self.indexed: set[str] = set()  # the names `narrowing` gave to an index

    @classmethod
    def compile(cls, kind: str, raw: list[dict] | None, extra: dict[str, Field] | None = None
                ) -> Filters:
        fields = {**FIELDS.get(kind, {}), **(extra or {})}
        compiled = []
        for item in raw or []:
            name = item.get("Name")
            if not name:
                continue
            values = [str(v) for v in item.get("Values") or []]
            if name.startswith("tag:") or name in ("tag-key", "tag-value"):
                field = None
            elif name in fields:
                field = fields[name]
            else:
                if kind in INVALID_FILTER_CODE:
                    raise errors.InvalidFilter(name=name)
                raise errors.InvalidParameterValue(message=f"The filter '{name}' is invalid")
            compiled.append(Filter(name, values, [_pattern(v) for v in values], field))
        return cls(kind, compiled)

    def __bool__(self) -> bool:
        return bool(self.filters)

    def without(self, names: set[str]) -> Filters:
        """These filters less the ones named (already applied, by an index)."""
        return Filters(self.kind, [f for f in self.filters if f.name not in names])

    def narrowing(self) -> dict:
        """Keyword arguments for `View.find`: exact `vpc-id` (and a few kinds' own indexed
        fields) and `tag:Key`."""
        found: dict = {}
        columns = COLUMNS.get(self.kind, ANY_KIND_COLUMNS)
        for f in self.filters:
            if not f.exact:
                continue
            if f.name in columns and columns[f.name] not in found:
                found[columns[f.name]] = f.values
                self.indexed.add(f.name)
            elif f.name.startswith("tag:") and f.name[4:] not in found.get("tags", {}):
                found.setdefault("tags", {})[f.name[4:]] = f.values
                self.indexed.add(f.name)
        return found

    def matches(self, doc: dict) -> bool:
        tags_member = KINDS[self.kind].tags_member if self.kind in KINDS else "Tags"
        for f in self.filters:
            if f.field is None:
                tags = doc.get(tags_member) or []
                if f.name == "tag-key":
                    candidates = [t["Key"] for t in tags]
                elif f.name == "tag-value":
                    candidates = [t.get("Value", "") for t in tags]
                else:
                    key = f.name[4:]
                    candidates = [t.get("Value", "") for t in tags if t["Key"] == key]
            elif isinstance(f.field, str):
                candidates = values_at(doc, f.field)
            else:
                candidates = f.field(doc)
            if not f.accepts(candidates):
                return False
        return True
