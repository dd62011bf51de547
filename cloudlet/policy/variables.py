"""Policy variables: `${aws:username}`, `${aws:PrincipalTag/team, 'none'}`, `${*}`.

Only documents of Version 2012-10-17 interpolate; older ones read `${...}` literally.
A substituted value is literal text: its `*` and `?` are not wildcards (they become the
sentinels LITERAL_STAR / LITERAL_QMARK, which `matching.glob` matches literally). A
variable with no value in the request and no default leaves the whole pattern
unresolved: `resolve` returns None and that pattern matches nothing.
"""

from __future__ import annotations

import re
from functools import lru_cache

LITERAL_STAR = "\ue000"
LITERAL_QMARK = "\ue001"
_VARIABLE = re.compile(r"\$\{([^}]*)\}")
_DEFAULT = re.compile(r"^\s*([^,\s]+)\s*,\s*'([^']*)'\s*$")
_SPECIAL = {"*": LITERAL_STAR, "?": LITERAL_QMARK, "$": "$"}


def literal(value: str) -> str:
    return value.replace("*", LITERAL_STAR).replace("?", LITERAL_QMARK)


def unliteral(value: str) -> str:
    return value.replace(LITERAL_STAR, "*").replace(LITERAL_QMARK, "?")


@lru_cache(maxsize=65536)
def parts(text: str) -> tuple:
    """Literal strings and ("var", key_lowercase, default_or_None) items, in order."""
    out: list = []
    pos = 0
    for m in _VARIABLE.finditer(text):
        if m.start() > pos:
            out.append(text[pos : m.start()])
        inner = m.group(1)
        if inner in _SPECIAL:
            out.append(_SPECIAL[inner])
        else:
            dm = _DEFAULT.match(inner)
            if dm:
                out.append(("var", dm.group(1).lower(), dm.group(2)))
            else:
                out.append(("var", inner.strip().lower(), None))
        pos = m.end()
    if pos < len(text):
        out.append(text[pos:])
    return tuple(out)


def has_variables(text: str) -> bool:
    return "${" in text


def resolve(text: str, context: dict) -> str | None:
    """`text` with its variables substituted from `context` (lower-cased keys)."""
    if "${" not in text:
        return text
    out = []
    for part in parts(text):
        if isinstance(part, str):
            out.append(part)
            continue
        _, key, default = part
        value = context.get(key)
        if isinstance(value, list):
            value = value[0] if len(value) == 1 else None
        if value is None or value == "":
            if default is None:
                return None
            value = default
        out.append(literal(str(value)))
    return "".join(out)


def variable_keys(text: str) -> list[str]:
    """The condition keys a pattern's variables read (for GetContextKeysFor*Policy)."""
    if "${" not in text:
        return []
    return [m.group(1).split(",")[0].strip() for m in _VARIABLE.finditer(text)
            if m.group(1) not in _SPECIAL]
