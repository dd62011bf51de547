"""Wildcards: actions (case-insensitive), ARNs (case-sensitive, per component), globs.

`*` matches any run of characters and `?` exactly one. An ARN pattern is matched
component by component (partition, service, region, account, resource): a wildcard in the
region never swallows the account, while within the final resource component `*` crosses
`/` and `:`. Characters substituted from policy variables arrive as the sentinels
LITERAL_STAR / LITERAL_QMARK and match only themselves. Compiled patterns are cached by
their text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from cloudlet.policy.variables import LITERAL_QMARK, LITERAL_STAR

_LITERALS = {LITERAL_STAR: "*", LITERAL_QMARK: "?"}


def glob_regex(pattern: str, star: str = ".*", one: str = ".") -> str:
    return "".join(
        star if c == "*" else one if c == "?" else re.escape(_LITERALS.get(c, c))
        for c in pattern
    )


def arn_regex(pattern: str) -> str:
    """A regex for a Resource (or Arn* condition) pattern: per ARN component, or a glob."""
    if pattern == "*":
        return ".*"
    parts = pattern.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return glob_regex(pattern)
    head = [glob_regex(p, "[^:]*", "[^:]") for p in parts[1:5]]
    return "arn:" + ":".join(head) + ":" + glob_regex(parts[5])


@lru_cache(maxsize=65536)
def compiled_glob(pattern: str, ignore_case: bool = False) -> re.Pattern:
    return re.compile(glob_regex(pattern), re.S | (re.I if ignore_case else 0))


@lru_cache(maxsize=65536)
def compiled_arn(pattern: str) -> re.Pattern:
    return re.compile(arn_regex(pattern), re.S)


def match_action(pattern: str, action: str) -> bool:
    return compiled_glob(pattern, True).fullmatch(action) is not None


def match_glob(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return compiled_glob(pattern, ignore_case).fullmatch(value) is not None


def match_arn(pattern: str, arn: str) -> bool:
    return compiled_arn(pattern).fullmatch(arn) is not None
