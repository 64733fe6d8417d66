"""Catalog texts with placeholders: each becomes one full-match pattern that a served text must match.

A placeholder is `{name}` (lower-case letters, digits and `_`, starting with a letter or `_`) and stands
for a non-empty run of any characters; everything else is literal, so `{"status": "COMPLETED"}` or
`?limit=20.` mean exactly those characters. A name used twice in one text stands for the same value both
times."""
from __future__ import annotations

import re

PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


def placeholders(text: str) -> list[str]:
    """The placeholder names of a catalog text, in order of appearance (repeats included)."""
    return PLACEHOLDER.findall(text)


def literal_part(text: str) -> str:
    """What a catalog text says besides its placeholders."""
    return PLACEHOLDER.sub("", text)


def text_pattern(text: str) -> re.Pattern:
    """The pattern a served text must match in full to be what the catalog text describes."""
    parts: list[str] = []
    seen: set[str] = set()
    position = 0
    for placeholder in PLACEHOLDER.finditer(text):
        parts.append(re.escape(text[position:placeholder.start()]))
        name = placeholder.group(1)
        # Lazy: with a full match the pattern still has to reach the end, and a value stops at the
        # first place where the literal text after it fits.
        parts.append(f"(?P={name})" if name in seen else f"(?P<{name}>.+?)")
        seen.add(name)
        position = placeholder.end()
    parts.append(re.escape(text[position:]))
    return re.compile("".join(parts), re.DOTALL)


def match_text(variants: tuple[str, ...], served: str) -> dict[str, str] | None:
    """The placeholder values of the first variant that `served` matches in full, or None if none does."""
    for variant in variants:
        matched = text_pattern(variant).fullmatch(served)
        if matched:
            return matched.groupdict()
    return None
