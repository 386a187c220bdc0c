"""Typed config dataclasses built from YAML/dicts: unknown keys and wrong types are errors, all reported at once."""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from pathlib import Path
from typing import Any, Sequence, TypeVar

import yaml

from volctrans.errors import ConfigError

T = TypeVar("T")


def _type_problem(name: str, value: Any, annotation: Any) -> str | None:
    """Return a message if value does not fit annotation (a small subset of typing: enough for configs)."""
    origin = typing.get_origin(annotation)
    if annotation is Any:
        return None
    if origin in (typing.Union, types.UnionType):
        problems = [_type_problem(name, value, option) for option in typing.get_args(annotation)]
        if any(problem is None for problem in problems):
            return None
        # Report the problem of the option that best matches the value's shape (e.g. the bad list item).
        return next((p for p in problems if p and "[" in p.split(":")[0]), f"{name}: expected {annotation}, got {value!r}")
    if annotation is type(None):
        return None if value is None else f"{name}: expected null, got {value!r}"
    if origin in (list, tuple):
        if not isinstance(value, (list, tuple)):
            return f"{name}: expected a list, got {value!r}"
        (item_type, *_) = typing.get_args(annotation) or (Any,)
        for index, item in enumerate(value):
            problem = _type_problem(f"{name}[{index}]", item, item_type)
            if problem:
                return problem
        return None
    if origin is dict:
        return None if isinstance(value, dict) else f"{name}: expected a mapping, got {value!r}"
    if annotation is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if ok else f"{name}: expected a number, got {value!r}"
    if annotation is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
        return None if ok else f"{name}: expected an integer, got {value!r}"
    if isinstance(annotation, type):
        return None if isinstance(value, annotation) else f"{name}: expected {annotation.__name__}, got {value!r}"
    return None


def from_dict(cls: type[T], values: dict[str, Any] | None, source: str = "config") -> T:
    """Build dataclass `cls` from `values`, collecting every unknown key, missing field and type error."""
    values = dict(values or {})
    hints = typing.get_type_hints(cls)
    fields = {field.name: field for field in dataclasses.fields(cls)}
    # A class may name keys it no longer has (RENAMED = {"old": "what to write instead"}): say so rather than
    # listing every known key.
    renamed = getattr(cls, "RENAMED", {})
    problems = [f"{key}: no longer a key, use {renamed[key]}" if key in renamed
                else f"unknown key '{key}' (known: {', '.join(sorted(fields))})" for key in values if key not in fields]
    kwargs: dict[str, Any] = {}
    for name, field in fields.items():
        if name in values and dataclasses.is_dataclass(hints[name]):
            # A nested component config: build it too, prefixing its problems with the key.
            try:
                if not isinstance(values[name], dict):
                    raise ConfigError(source, [f"expected a mapping, got {values[name]!r}"])
                kwargs[name] = from_dict(hints[name], values[name], source)
            except ConfigError as error:
                problems.extend(f"{name}.{problem}" if re.match(r"\w+[:\[,]", problem) else f"{name}: {problem}"
                                for problem in error.problems)
        elif name in values:
            problem = _type_problem(name, values[name], hints[name])
            if problem:
                problems.append(problem)
            elif hints[name] is float and isinstance(values[name], int):
                kwargs[name] = float(values[name])
            else:
                kwargs[name] = values[name]
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            problems.append(f"missing required key '{name}'")
    if problems:
        raise ConfigError(source, problems)
    instance = cls(**kwargs)
    validate = getattr(instance, "validate", None)
    if validate is not None:
        more = validate()
        if more:
            raise ConfigError(source, more)
    return instance


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping (an empty file is an empty mapping)."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = yaml.safe_load(handle)
    except yaml.YAMLError as error:
        raise ConfigError(str(path), [f"not valid YAML: {error}".replace("\n", " ")]) from error
    except OSError as error:
        raise ConfigError(str(path), [f"cannot read: {error.strerror}"]) from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["top level must be a mapping"])
    return data



def parse_overrides(items: Sequence[str], source: str = "--set") -> dict[str, Any]:
    """`KEY=VALUE` strings as a mapping; VALUE is YAML (200, true, [a, b], {k: v}); `a.b=1` sets key b of a.

    Every malformed item is reported at once.
    """
    values: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            problems.append(f"expected KEY=VALUE, got '{item}'")
            continue
        try:
            value = yaml.safe_load(text)
        except yaml.YAMLError:
            problems.append(f"{key.strip()}: not a YAML value: {text!r}")
            continue
        *parents, last = key.strip().split(".")
        target = values
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                problems.append(f"{key.strip()}: {parent} is set to a value and to a mapping")
                break
        else:
            target[last] = value
    if problems:
        raise ConfigError(source, problems)
    return values


def _merge(values: dict[str, Any], more: dict[str, Any]) -> dict[str, Any]:
    """`values` updated by `more`; mappings under the same key are merged, not replaced."""
    merged = dict(values)
    for key, value in more.items():
        merged[key] = _merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def build_config(cls: type[T], path: str | Path | None = None, values: dict[str, Any] | None = None,
                 overrides: Sequence[str] = (), base: dict[str, Any] | None = None) -> T:
    """The one path from a YAML file, command-line values and `--set KEY=VALUE` overrides to config dataclass `cls`.

    Later sources win: `base` (defaults that depend on the run, e.g. a terminal) < the YAML file < `values` (flags
    that were given; None = not given) < `overrides`. Then `from_dict`: unknown keys and type errors, all at once.
    """
    merged = dict(base or {})
    if path:
        merged = _merge(merged, load_yaml(path))
    merged = _merge(merged, {key: value for key, value in (values or {}).items() if value is not None})
    merged = _merge(merged, parse_overrides(overrides))
    return from_dict(cls, merged, source=str(path) if path else "command line")
