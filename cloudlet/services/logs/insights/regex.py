"""Insights regular expressions on RE2, the engine DuckDB runs.

RE2 matches in linear time, so no pattern can take catastrophic time; what RE2 cannot do
(lookaround, backreferences, huge repetitions) is refused at compile time with
MalformedQueryException rather than failing mid-query. Insights writes named groups as
`(?<name>...)`; RE2 (as bundled in DuckDB) spells them `(?P<name>...)`.
"""

from __future__ import annotations

import functools
import re
import threading

from cloudlet.services.logs.insights.errors import MalformedQuery

_lock = threading.Lock()
_NAMED = re.compile(r"\?P?<([A-Za-z_@][A-Za-z0-9_.@]*)>")


def check_regex(pattern: str, node) -> str:
    """The pattern, if RE2 compiles it; otherwise MalformedQueryException at `node`."""
    import duckdb  # loaded with the first query, not at start (it weighs ~60 MiB)

    with _lock:
        try:
            _checker().execute("SELECT regexp_matches('', $1)", [pattern]).fetchall()
        except duckdb.Error as e:
            reason = str(e).split("Error: ", 1)[-1]
            raise MalformedQuery(f"invalid regular expression /{pattern}/: {reason}",
                                 node.start, node.end) from None
    return pattern


@functools.cache
def _checker():
    import duckdb

    return duckdb.connect()


def named_groups(pattern: str) -> tuple[str, dict[str, int]]:
    """RE2's spelling of the pattern, and each named group's capture index (1-based)."""
    out, groups, index, i, in_class = [], {}, 0, 0, False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
            if pattern[i + 1:i + 2] == "]":      # []] : a literal ] first in the class
                out.append("[]")
                i += 2
                continue
        elif ch == "(":
            m = _NAMED.match(pattern, i + 1)
            if m:
                index += 1
                groups[m.group(1)] = index
                out.append(f"(?P<{_group_name(index)}>")
                i = m.end()
                continue
            if not pattern.startswith("?", i + 1):
                index += 1
        out.append(ch)
        i += 1
    return "".join(out), groups


def _group_name(index: int) -> str:
    return f"g{index}"


def glob_to_regex(glob: str, names: list[str]) -> tuple[str, dict[str, int]]:
    """`parse` with a glob: each `*` captures, lazily except a trailing one."""
    parts = glob.split("*")
    out = []
    for i, part in enumerate(parts):
        out.append(re.escape(part))
        if i < len(parts) - 1:
            out.append("(.*)" if i == len(parts) - 2 and parts[-1] == "" else "(.*?)")
    return "".join(out), {name: i + 1 for i, name in enumerate(names)}
