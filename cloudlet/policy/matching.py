"""Wildcards: actions (case-insensitive), ARNs (case-sensitive, per component), globs.

`*` matches any run of characters and `?` exactly one. An ARN pattern is matched
component by component (partition, service, region, account, resource), so a wildcard in
the region never swallows the account; within the resource component `*` crosses `/`
and `:`. Compiled patterns are cached by their text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cloudlet.policy.variables import LITERAL_QMARK, LITERAL_STAR, unliteral

_LITERALS = {LITERAL_STAR: "*", LITERAL_QMARK: "?"}


@lru_cache(maxsize=65536)
def glob(pattern: str, ignore_case: bool = False):
    """A compiled full-match regex for a `*`/`?` pattern (no other metacharacters)."""
    if "*" not in pattern and "?" not in pattern:
        pattern = unliteral(pattern)
        if ignore_case:
            folded = pattern.casefold()
            return lambda value: value.casefold() == folded
        return lambda value: value == pattern
    body = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(_LITERALS.get(c, c))
        for c in pattern
    )
    flags = re.S | (re.I if ignore_case else 0)
    compiled = re.compile(body, flags)
    return lambda value: compiled.fullmatch(value) is not None


def match_action(pattern: str, action: str) -> bool:
    return glob(pattern, True)(action)


def match_glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return glob(pattern, ignore_case)(value)


@lru_cache(maxsize=65536)
def _arn_pattern(pattern: str):
    if pattern == "*":
        return lambda value: True
    parts = pattern.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return glob(pattern)
    matchers = [glob(p) for p in parts[1:]]

    def matcher(value: str) -> bool:
        pieces = value.split(":", 5)
        if len(pieces) < 6 or pieces[0] != "arn":
            return False
        return all(m(v) for m, v in zip(matchers, pieces[1:], strict=True))

    return matcher


def match_arn(pattern: str, arn: str) -> bool:
    return _arn_pattern(pattern)(arn)
