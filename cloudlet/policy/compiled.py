"""Documents compiled for fast evaluation, cached by their text.

A statement's Action/NotAction list becomes an `ActionSet`: exact names in a set, wildcard
patterns grouped by service prefix and compiled (one case-insensitive regex per service)
only when an action of that service is first asked about — AWS's ReadOnlyAccess names
thousands of patterns and most services are never requested. Resource/NotResource
patterns without variables become a `ResourceSet` the same way (exact ARNs in a set,
the wildcard patterns one regex compiled on first use); ARN patterns compile component by
component (`*` stays inside its colon-delimited component, except in the final resource
component). Patterns with variables are resolved per request and compiled through a
cache, after a cheap check of their literal prefix. A document remembers, per action
name, which of its statements can apply, so a request only looks at those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from cloudlet.policy.document import PolicyDocument, Statement, parse
from cloudlet.policy.matching import arn_regex, compiled_arn, glob_regex
from cloudlet.policy.variables import LITERAL_QMARK, LITERAL_STAR, resolve, unliteral

_WILD = ("*", "?", LITERAL_STAR, LITERAL_QMARK)


def _any_of(regexes: list[str], flags: int) -> re.Pattern:
    return re.compile("|".join(f"(?:{r})" for r in regexes), flags)


class ActionSet:
    """Action patterns, matched case-insensitively."""

    def __init__(self, patterns: tuple[str, ...]):
        self.exact: set[str] = set()
        self.by_service: dict[str, list[str]] = {}
        self.generic: list[str] = []  # wildcards in the service prefix itself
        for pattern in patterns:
            folded = pattern.casefold()
            if "*" not in folded and "?" not in folded:
                self.exact.add(folded)
                continue
            service, colon, _ = folded.partition(":")
            if colon and "*" not in service and "?" not in service:
                self.by_service.setdefault(service, []).append(folded)
            else:
                self.generic.append(folded)
        self._compiled: dict[str, re.Pattern | None] = {}

    def _regex(self, group: str) -> re.Pattern | None:
        if group not in self._compiled:
            patterns = self.generic if group == "" else self.by_service.get(group, [])
            self._compiled[group] = (
                _any_of([glob_regex(p) for p in patterns], re.S) if patterns else None
            )
        return self._compiled[group]

    def matches(self, action: str) -> bool:
        folded = action.casefold()
        if folded in self.exact:
            return True
        service = folded.partition(":")[0]
        if service in self.by_service:
            regex = self._regex(service)
            if regex is not None and regex.fullmatch(folded):
                return True
        if self.generic:
            regex = self._regex("")
            return regex is not None and regex.fullmatch(folded) is not None
        return False


class ResourceSet:
    """Resource patterns without variables, matched case-sensitively."""

    def __init__(self, patterns: list[str]):
        self.everything = "*" in patterns
        self.exact = {unliteral(p) for p in patterns if not any(c in p for c in _WILD)}
        self.wild = [p for p in patterns if p != "*" and any(c in p for c in _WILD)]
        self._regex: re.Pattern | None = None

    def matches(self, resource: str) -> bool:
        if self.everything or resource in self.exact:
            return True
        if not self.wild:
            return False
        if self._regex is None:
            self._regex = _any_of([arn_regex(p) for p in self.wild], re.S)
        return self._regex.fullmatch(resource) is not None


@dataclass
class CompiledStatement:
    statement: Statement
    deny: bool
    actions: ActionSet | None  # None: the statement names no action
    not_action: bool
    static_resources: ResourceSet
    dynamic_resources: tuple[tuple[str, str], ...]  # (literal prefix, pattern with variables)
    not_resource: bool
    any_resource: bool  # no Resource/NotResource (trust policies)

    def action_matches(self, action: str) -> bool:
        if self.actions is None:
            return False
        hit = self.actions.matches(action)
        return not hit if self.not_action else hit

    def resource_matches(self, resource: str, context: dict) -> bool:
        if self.any_resource:
            return True
        hit = self.static_resources.matches(resource)
        if not hit:
            for prefix, pattern in self.dynamic_resources:
                if not resource.startswith(prefix):
                    continue
                resolved = resolve(pattern, context)
                if resolved is not None and compiled_arn(resolved).fullmatch(resource):
                    hit = True
                    break
        return not hit if self.not_resource else hit


@dataclass
class CompiledDocument:
    document: PolicyDocument
    statements: list[CompiledStatement]
    _by_action: dict[str, list[CompiledStatement]] = field(default_factory=dict)

    @property
    def interpolates(self) -> bool:
        return self.document.interpolates

    def for_action(self, action: str) -> list[CompiledStatement]:
        found = self._by_action.get(action)
        if found is None:
            if len(self._by_action) > 4096:
                self._by_action.clear()
            found = [s for s in self.statements if s.action_matches(action)]
            self._by_action[action] = found
        return found


def _literal_prefix(pattern: str) -> str:
    """The text before the first variable or wildcard: a resource must start with it."""
    end = len(pattern)
    for c in "$*?":
        i = pattern.find(c)
        if i != -1:
            end = min(end, i)
    return pattern[:end]


def _statement(st: Statement, interpolate: bool) -> CompiledStatement:
    action_patterns = st.actions if st.actions is not None else st.not_actions
    resource_patterns = st.resources if st.resources is not None else st.not_resources
    static, dynamic = [], []
    for pattern in resource_patterns or ():
        if interpolate and "${" in pattern:
            dynamic.append((_literal_prefix(pattern), pattern))
        else:
            static.append(pattern)
    return CompiledStatement(
        statement=st,
        deny=st.effect == "Deny",
        actions=ActionSet(action_patterns) if action_patterns is not None else None,
        not_action=st.actions is None,
        static_resources=ResourceSet(static),
        dynamic_resources=tuple(dynamic),
        not_resource=st.resources is None and st.not_resources is not None,
        any_resource=resource_patterns is None,
    )


def _compile(doc: PolicyDocument) -> CompiledDocument:
    return CompiledDocument(doc, [_statement(st, doc.interpolates) for st in doc.statements])


@lru_cache(maxsize=4096)
def compile_text(text: str) -> CompiledDocument:
    return _compile(parse(text))


def compile_document(document: PolicyDocument | str) -> CompiledDocument:
    if isinstance(document, str):
        return compile_text(document)
    if document.text:
        cached = compile_text(document.text)
        if cached.document is document or cached.document == document:
            return cached
    return _compile(document)
