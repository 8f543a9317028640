"""Harbor's glob dialect for export filters: bmatcuk/doublestar (semantics-2.6.md 1.6).

Pattern and name are split on "/"; `**` as a whole component matches zero or more components;
inside a component `*` is any run of characters, `?` one character, `[...]`/`[^...]` a class,
`\\` escapes. Anchored, case-sensitive; the empty pattern matches everything. `{a,b}` alternation
is expanded before the split, so `{goharbor/*,nginx}` works (doublestar v1.1.1, Harbor 2.6's,
refuses a "/" inside braces; later doublestar versions allow it).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache


class BadPattern(ValueError):
    pass


def _component(pattern: str) -> str:
    """One path component of a pattern as a regular expression."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                raise BadPattern(f"pattern ends with an escape: {pattern}")
            out.append(re.escape(pattern[i + 1]))
            i += 2
        elif char == "*":
            out.append(".*")
            i += 1
        elif char == "?":
            out.append(".")
            i += 1
        elif char == "[":
            end = pattern.find("]", i + 2)
            if end < 0:
                raise BadPattern(f"unclosed [ in pattern: {pattern}")
            body = pattern[i + 1:end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            out.append("[" + ("^" if negate else "") + body.replace("\\", "\\\\").replace("[", "\\[") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def _unescaped(text: str) -> Iterator[tuple[int, str]]:
    """(index, character) of every character a backslash does not escape."""
    i = 0
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        yield i, text[i]
        i += 1


def _expand(pattern: str) -> list[str]:
    """Brace alternation expanded into plain patterns: a{b,c/d}e -> [abe, ac/de]."""
    depth, start = 0, -1
    for i, char in _unescaped(pattern):
        if char == "{":
            depth += 1
            start = i if depth == 1 else start
        elif char == "}":
            if not depth:
                raise BadPattern(f"unbalanced braces in pattern: {pattern}")
            depth -= 1
            if depth == 0:
                head, body, tail = pattern[:start], pattern[start + 1:i], pattern[i + 1:]
                return [expanded for alternative in _alternatives(body)
                        for expanded in _expand(head + alternative + tail)]
    if depth:
        raise BadPattern(f"unbalanced braces in pattern: {pattern}")
    return [pattern]


def _alternatives(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, char in _unescaped(body):
        depth += {"{": 1, "}": -1}.get(char, 0)
        if char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    return [*parts, body[start:]]


Compiled = tuple[tuple[re.Pattern[str] | None, ...], ...]


@lru_cache(maxsize=256)
def compile_pattern(pattern: str) -> Compiled:
    """Each alternative's components (None for `**`); BadPattern when the pattern is malformed."""
    try:
        return tuple(tuple(None if part == "**" else re.compile(_component(part), re.DOTALL)
                           for part in alternative.split("/")) for alternative in _expand(pattern))
    except re.error as error:
        raise BadPattern(f"invalid pattern {pattern}: {error}") from error


def _match(parts: tuple[re.Pattern[str] | None, ...], names: list[str]) -> bool:
    if not parts:
        return not names
    head, rest = parts[0], parts[1:]
    if head is None:
        return any(_match(rest, names[skip:]) for skip in range(len(names) + 1))
    return bool(names) and head.fullmatch(names[0]) is not None and _match(rest, names[1:])


def matches(pattern: str, name: str) -> bool:
    if not pattern:
        return True
    names = name.split("/")
    return any(_match(parts, names) for parts in compile_pattern(pattern))
