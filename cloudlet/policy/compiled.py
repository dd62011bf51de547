"""Documents compiled for fast evaluation, cached by their text.

Each statement's Action/NotAction list becomes one case-insensitive regex, its
Resource/NotResource patterns without variables one case-sensitive regex (an ARN pattern
compiles component by component: `*` stays inside its colon-delimited component, except
in the final resource component), and the patterns with variables are resolved per
request and compiled through a cache. A document remembers, per action name, which of its
statements can apply, so a request only looks at those.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from cloudlet.policy.document import PolicyDocument, Statement, parse
from cloudlet.policy.matching import arn_regex, compiled_arn, glob_regex
from cloudlet.policy.variables import resolve


def _any_of(regexes: list[str], flags: int) -> re.Pattern | None:
    if not regexes:
        return None
    return re.compile("|".join(f"(?:{r})" for r in regexes), flags)


@dataclass
class CompiledStatement:
    statement: Statement
    deny: bool
    actions: re.Pattern | None  # None: the statement names no action
    not_action: bool
    static_resources: re.Pattern | None
    dynamic_resources: tuple[tuple[str, str], ...]  # (literal prefix, pattern with variables)
    not_resource: bool
    any_resource: bool  # no Resource/NotResource (trust policies)

    def action_matches(self, action: str) -> bool:
        if self.actions is None:
            return False
        hit = self.actions.fullmatch(action) is not None
        return not hit if self.not_action else hit

    def resource_matches(self, resource: str, context: dict) -> bool:
        if self.any_resource:
            return True
        hit = self.static_resources is not None and self.static_resources.fullmatch(resource) is not None
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


def _statement(st: Statement, interpolate: bool) -> CompiledStatement:
    action_patterns = st.actions if st.actions is not None else st.not_actions
    actions = _any_of([glob_regex(a) for a in action_patterns], re.I | re.S) \
        if action_patterns is not None else None
    resource_patterns = st.resources if st.resources is not None else st.not_resources
    static, dynamic = [], []
    for pattern in resource_patterns or ():
        if interpolate and "${" in pattern:
            dynamic.append((_literal_prefix(pattern), pattern))
        else:
            static.append(arn_regex(pattern))
    return CompiledStatement(
        statement=st,
        deny=st.effect == "Deny",
        actions=actions,
        not_action=st.actions is None,
        static_resources=_any_of(static, re.S),
        dynamic_resources=tuple(dynamic),
        not_resource=st.resources is None and st.not_resources is not None,
        any_resource=resource_patterns is None,
    )


def _literal_prefix(pattern: str) -> str:
    """The text before the first variable or wildcard: a resource must start with it."""
    end = len(pattern)
    for c in "$*?":
        i = pattern.find(c)
        if i != -1:
            end = min(end, i)
    return pattern[:end]


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
