"""Turn plain TOML data into frozen, typed settings objects, collecting every problem at once.

The schema is the dataclasses themselves: a field's annotation says what type a key holds,
its default says whether the key is optional, and `setting(check=...)` adds the rule and the
sentence that names what is allowed. One walker serves the portal settings and the theme files,
so both report problems the same way: `<file>: <key>: <what is allowed>`.
"""
from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

T = TypeVar("T", bound="DataclassInstance")

# A check returns None when the value is fine, else the sentence naming what is allowed.
Check = Callable[[Any], "str | None"]


@dataclasses.dataclass(frozen=True)
class Problem:
    """One wrong key: where it came from, its dotted name and what is allowed."""

    source: str
    key: str
    message: str

    def __str__(self) -> str:
        return f"{self.source}: {self.key}: {self.message}"


class SettingsError(Exception):
    """Raised with every problem found, so an admin fixes the whole file in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def setting(default: Any = dataclasses.MISSING, *, check: Check | None = None,
            secret: bool = False, doc: str = "") -> Any:
    """Declare a settings field; mutable defaults are copied per instance."""
    metadata = {"check": check, "secret": secret, "doc": doc}
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=metadata)
    if dataclasses.is_dataclass(default) and isinstance(default, type):
        return dataclasses.field(default_factory=default, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


Origin = Callable[[str], str]


def build(cls: type[T], data: object, key_prefix: str, origin: Origin,
          problems: list[Problem]) -> T | None:
    """Build `cls` from `data` (any TOML value: a table is what is wanted); append a Problem for
    each wrong or unknown key."""
    if not isinstance(data, Mapping):
        problems.append(Problem(origin(key_prefix), key_prefix or "(top level)", "must be a table"))
        return None
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    for unknown in sorted(set(data) - set(fields)):
        key = _join(key_prefix, unknown)
        problems.append(Problem(origin(key), key, f"unknown key; allowed keys here: "
                                                  f"{', '.join(sorted(fields))}"))
    values: dict[str, Any] = {}
    ok = True
    for name, field in fields.items():
        key = _join(key_prefix, name)
        if name not in data:
            if _required(field):
                problems.append(Problem(origin(key), key, "is required"))
                ok = False
            elif dataclasses.is_dataclass(hints[name]):
                values[name] = build(hints[name], {}, key, origin, problems)
            continue
        value = _convert(hints[name], data[name], key, origin, problems)
        if value is _INVALID:
            ok = False
            continue
        check = field.metadata.get("check")
        message = check(value) if check else None
        if message:
            problems.append(Problem(origin(key), key, message))
            ok = False
            continue
        values[name] = value
    if not ok or any(v is None and dataclasses.is_dataclass(hints[n]) for n, v in values.items()):
        return None
    return cls(**values)


_INVALID = object()


def _required(field: dataclasses.Field[Any]) -> bool:
    return field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING


def _join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _convert(hint: Any, value: Any, key: str, origin: Origin, problems: list[Problem]) -> Any:
    """Coerce one TOML value to the annotated type, or record why it cannot be."""
    def wrong(expected: str) -> object:
        problems.append(Problem(origin(key), key, f"must be {expected} (got {value!r})"))
        return _INVALID

    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        built = build(hint, value, key, origin, problems)
        return _INVALID if built is None else built
    args = typing.get_args(hint)
    origin_type = typing.get_origin(hint)
    if origin_type in (types.UnionType, typing.Union):
        inner = next(a for a in args if a is not type(None))
        return None if value is None else _convert(inner, value, key, origin, problems)
    if origin_type is list:
        if not isinstance(value, list):
            return wrong("a list")
        items = [_convert(args[0], item, f"{key}[{i}]", origin, problems)
                 for i, item in enumerate(value)]
        return _INVALID if _INVALID in items else items
    if origin_type is dict:
        if not isinstance(value, Mapping):
            return wrong("a table")
        converted = {k: _convert(args[1], v, f"{key}.{k}", origin, problems)
                     for k, v in value.items()}
        return _INVALID if _INVALID in converted.values() else converted
    if hint is bool:
        return value if isinstance(value, bool) else wrong("true or false")
    if hint is int:
        return value if isinstance(value, int) and not isinstance(value, bool) else wrong("a whole number")
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return float(value) if ok else wrong("a number")
    if hint is str:
        return value if isinstance(value, str) else wrong("a string")
    raise TypeError(f"settings type {hint!r} is not supported")  # a schema bug, not user input


def secret_paths(cls: type[DataclassInstance], prefix: str = "") -> list[str]:
    """Dotted names of every field marked secret, for masking them wherever settings are shown."""
    paths: list[str] = []
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
        key = _join(prefix, field.name)
        table = _table_type(hints[field.name])
        if field.metadata.get("secret"):
            paths.append(key)
        elif table is not None:
            paths.extend(secret_paths(table, f"{key}[]" if typing.get_origin(hints[field.name]) is list else key))
    return paths


def _table_type(hint: Any) -> Any:
    """The dataclass a field holds, also when the table is optional (`OidcSettings | None`) or an
    array of tables (`list[WebhookEndpoint]`, whose keys are named `webhooks[].secret`)."""
    if typing.get_origin(hint) is list:
        return _table_type(typing.get_args(hint)[0])
    candidates = typing.get_args(hint) if typing.get_origin(hint) in (types.UnionType, typing.Union) else (hint,)
    return next((c for c in candidates if isinstance(c, type) and dataclasses.is_dataclass(c)), None)
