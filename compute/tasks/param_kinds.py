"""How a protocol parameter's JSON value is checked against ``run``'s signature: its kind
(a float takes an int, a tuple a list, a number never a bool) and finiteness."""

from __future__ import annotations

import inspect
import math
import types
import typing
from typing import Any


def non_finite(value: Any) -> bool:
    """Whether a JSON value is, or holds, a number that is NaN or infinite."""
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, list | tuple):
        return any(non_finite(item) for item in value)
    if isinstance(value, dict):
        return any(non_finite(item) for item in value.values())
    return False


def default_kind(parameter: inspect.Parameter) -> Any:
    default = parameter.default
    return Any if default in (None, inspect.Parameter.empty) else type(default)


def _alternatives(kind: Any) -> tuple[Any, ...]:
    union = typing.get_origin(kind) in (typing.Union, types.UnionType)
    return typing.get_args(kind) if union else (kind,)


def fits(value: Any, kind: Any) -> bool:
    """Whether a JSON value can stand for a parameter annotated ``kind``: an int for a
    float, a list for a tuple; a bool never for a number."""
    for option in _alternatives(kind):
        origin = typing.get_origin(option) or option
        if option is Any or (option is type(None) and value is None):
            return True
        if origin in (int, float) and isinstance(value, bool):
            continue
        if origin is float and isinstance(value, int | float):
            return True
        if origin in (list, tuple) and isinstance(value, list | tuple):
            return True
        if isinstance(origin, type) and isinstance(value, origin):
            return True
        if not isinstance(origin, type):
            return True  # a typing form this check does not read (Literal, ...)
    return False


def kind_name(kind: Any) -> str:
    names = {bool: "true or false", int: "a whole number", float: "a number", str: "text"}
    options = [o for o in _alternatives(kind) if o is not type(None)]
    text = " or ".join(names.get(o, getattr(o, "__name__", str(o))) for o in options)
    return f"{text} or null" if len(options) < len(_alternatives(kind)) else text
