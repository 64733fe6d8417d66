"""Field rules for JSON values: one definition checks a value and describes itself as JSON Schema.

Pure Python (no Flask), so request bodies, event contracts and API documents share the same rules."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any


def is_valid_text(value: str) -> bool:
    """False for strings no database or wire format can store, e.g. a lone surrogate from '\\ud800' in JSON."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True)
class Field:
    """One JSON field: its type (int or str), whether it is required, and its range, length, pattern or choices.

    `rule` is the human wording used in error messages, e.g. "an integer from 1 to 100"."""

    kind: type
    rule: str
    required: bool = True
    minimum: int | None = None
    maximum: int | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    description: str = ""
    example: Any = None

    def __post_init__(self):
        if self.kind not in (int, str):
            raise TypeError(f"Field kind must be int or str, not {self.kind!r}")
        # Compiled once: every record a consumer reads is checked field by field.
        object.__setattr__(self, "_compiled", None if self.pattern is None else re.compile(self.pattern))

    def check(self, value: Any) -> str | None:
        """What is wrong with `value`, or None when it is allowed."""
        if self.kind is int:
            # JSON true/false are bools in Python, which are ints: refuse them explicitly.
            if isinstance(value, bool) or not _is_integral(value):
                return f"must be an integer ({self.rule})"
            if (self.minimum is not None and value < self.minimum) or (
                self.maximum is not None and value > self.maximum
            ):
                return f"must be {self.rule}"
            return None
        if not isinstance(value, str):
            return f"must be a string ({self.rule})"
        if not is_valid_text(value):
            return "must be valid Unicode text (no lone surrogates)"
        if self.choices is not None and value not in self.choices:
            return f"must be one of {', '.join(self.choices)}"
        if (self.min_length is not None and len(value) < self.min_length) or (
            self.max_length is not None and len(value) > self.max_length
        ):
            return f"must be {self.rule}"
        # fullmatch: with match() and a `$` anchor, "USER0001\n" would pass.
        if self._compiled is not None and not self._compiled.fullmatch(value):
            return f"must be {self.rule}"
        return None

    def clean(self, value: Any) -> Any:
        """An allowed value as its rule's kind: 6.0 is the integer 6 (JSON Schema counts it an integer too),
        so what is stored and published is always 6."""
        return int(value) if self.kind is int and isinstance(value, float) else value

    def json_schema(self) -> dict:
        """This rule as a JSON Schema (2020-12, as OpenAPI 3.1 and AsyncAPI 3 use it)."""
        schema: dict[str, Any] = {"type": "integer" if self.kind is int else "string"}
        for key, value in (("minimum", self.minimum), ("maximum", self.maximum), ("minLength", self.min_length),
                           ("maxLength", self.max_length)):
            if value is not None:
                schema[key] = value
        if self.pattern is not None:
            # JSON Schema patterns are not anchored; ours are full matches.
            schema["pattern"] = f"^(?:{self.pattern})$"
        if self.choices is not None:
            schema["enum"] = list(self.choices)
        if self.description:
            schema["description"] = self.description
        if self.example is not None:
            schema["examples"] = [self.example]
        return schema


def check_fields(value: dict, fields: dict[str, Field], closed: bool = True) -> list[dict]:
    """Every problem of a JSON object against `fields`: [{field, message}], empty when it is allowed.

    A closed object (a request body) refuses unknown fields; an open one (an event) ignores them, so
    producers may add fields without breaking older consumers."""
    errors = []
    for name in value if closed else ():
        if name not in fields:
            message = f"unknown field; allowed fields are {', '.join(fields)}"
            errors.append({"field": _printable(name), "message": message})
    for name, field in fields.items():
        if name not in value or value[name] is None:
            if field.required:
                errors.append({"field": name, "message": f"is required ({field.rule})"})
            continue
        message = field.check(value[name])
        if message:
            errors.append({"field": name, "message": message})
    return errors


def clean_fields(value: dict, fields: dict[str, Field]) -> dict:
    """The `fields` present in an allowed object, each as its rule's kind (see Field.clean); others dropped."""
    return {name: field.clean(value[name]) for name, field in fields.items() if name in value}


def object_schema(fields: dict[str, Field]) -> dict:
    """A closed JSON object of `fields` as JSON Schema."""
    return {
        "type": "object",
        "properties": {name: field.json_schema() for name, field in fields.items()},
        "required": [name for name, field in fields.items() if field.required],
        "additionalProperties": False,
    }


def _is_integral(value: Any) -> bool:
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


def _printable(name: str) -> str:
    # A field name from the client goes back into the answer: keep it short and encodable.
    return name[:60].encode("utf-8", "backslashreplace").decode("utf-8")
