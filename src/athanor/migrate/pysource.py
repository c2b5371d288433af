"""Python source the way ``ruff format`` writes it, for rendered revision files: string
literals in double quotes, and statements longer than the line length split at their last
bracket pair (the arguments on one indented line if they fit, else one per line with a
trailing comma), recursively.  A trailing comma already inside the brackets keeps them split,
as in ruff."""

from __future__ import annotations

import io
import tokenize

LINE_LENGTH = 88
"""ruff's default, as a rendered file should pass a project's formatter unconfigured."""
_OPEN = {"(": ")", "[": "]", "{": "}"}


def string_literal(value: str) -> str:
    """``value`` as a string literal, in double quotes unless that needs more escapes."""
    text = repr(value)
    if text.startswith("'") and '"' not in value:
        return '"' + text[1:-1] + '"'
    return text


def _tokens(source: str) -> list[tokenize.TokenInfo] | None:
    try:
        return list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError):
        return None


def double_quotes(source: str) -> str:
    """``source`` (one line) with plain single-quoted string literals in double quotes."""
    tokens = _tokens(source)
    if tokens is None:
        return source
    pieces: list[str] = []
    last = 0
    for token in tokens:
        text = token.string
        if token.type != tokenize.STRING or not text.startswith("'") or text.startswith("'''"):
            continue
        start, end = token.start[1], token.end[1]
        if token.start[0] != 1 or token.end[0] != 1:
            return source
        body = text[1:-1]
        if '"' in body or "\\'" in body:
            continue
        pieces.append(source[last:start])
        pieces.append('"' + body + '"')
        last = end
    pieces.append(source[last:])
    return "".join(pieces)


def _top_level(source: str) -> tuple[int, int, list[tuple[int, int]]] | None:
    """For a line ending in a closing bracket: where its opening bracket is, and the spans
    of the top-level comma-separated items inside (offsets into ``source``)."""
    tokens = _tokens(source)
    if tokens is None:
        return None
    significant = [
        t
        for t in tokens
        if t.type not in (tokenize.NEWLINE, tokenize.NL, tokenize.ENDMARKER, tokenize.COMMENT)
    ]
    if not significant or significant[-1].string not in (")", "]", "}"):
        return None
    if any(t.start[0] != 1 for t in significant):
        return None
    depth = 0
    opener = -1
    for index in range(len(significant) - 1, -1, -1):
        text = significant[index].string
        if text in (")", "]", "}"):
            depth += 1
        elif text in _OPEN:
            depth -= 1
            if depth == 0:
                opener = index
                break
    if opener < 0:
        return None
    items: list[tuple[int, int]] = []
    depth = 0
    start = significant[opener].end[1]
    for token in significant[opener + 1 : -1]:
        if token.string in _OPEN:
            depth += 1
        elif token.string in (")", "]", "}"):
            depth -= 1
        elif token.string == "," and depth == 0:
            items.append((start, token.start[1]))
            start = token.end[1]
    items.append((start, significant[-1].start[1]))
    return significant[opener].start[1], significant[-1].start[1], items


def format_statement(source: str, indent: int = 0, line_length: int = LINE_LENGTH) -> list[str]:
    """``source`` (a one-line statement) as lines indented by ``indent`` spaces that fit in
    ``line_length`` where brackets allow."""
    source = double_quotes(source.strip())
    return _split(source, indent, line_length)


def _split(source: str, indent: int, line_length: int) -> list[str]:
    pad = " " * indent
    structure = _top_level(source)
    items = [source[a:b].strip() for a, b in structure[2]] if structure is not None else []
    magic_comma = len(items) > 1 and items[-1] == ""
    if indent + len(source) <= line_length and not magic_comma:
        return [pad + source]
    if structure is None or not any(items):
        return [pad + source]
    opener, closer, _ = structure
    head, tail = source[: opener + 1], source[closer:]
    items = [item for item in items if item]
    inner = ", ".join(items)
    if not magic_comma and indent + 4 + len(inner) <= line_length:
        return [pad + head, pad + "    " + inner, pad + tail]
    if len(items) == 1 and not magic_comma:
        return [pad + head, *_split(items[0], indent + 4, line_length), pad + tail]
    lines = [pad + head]
    for item in items:
        split = _split(item, indent + 4, line_length)
        split[-1] += ","
        lines.extend(split)
    lines.append(pad + tail)
    return lines
