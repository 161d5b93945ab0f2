"""Checks of a registry entry that need no model package: is the checkpoint a form the
family takes, and are the calculator kwargs ones its adapter's ``load`` accepts.

The admin runs them before saving, on the web host, where the family's packages may be
missing; so kwargs are read from the adapter's source, and version names from
``Family.versions``.
"""

from __future__ import annotations

import ast
import difflib
import importlib.util
import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from compute.calculators import FAMILIES
from compute.checkpoints import is_url
from compute.errors import CalculatorLoadError
from compute.hub import is_hub_checkpoint, parse_hub_checkpoint

FILE_SUFFIXES = (".pt", ".pth", ".pt2", ".model", ".ckpt", ".json", ".pb", ".yaml", ".npz")
ANY_KEYWORD = "**"


def checkpoint_problem(family: str, checkpoint: str) -> str:
    """Why ``family`` cannot take ``checkpoint``, or '': a shipped version name, an
    existing path, a URL, or hf://ORG/REPO/FILE."""
    spec = FAMILIES[family]
    if not checkpoint:
        return "" if not spec.weights else f"{family} needs a checkpoint: {_forms(family)}"
    if not spec.weights:
        return f"{family} has no weights; leave the checkpoint empty"
    if is_hub_checkpoint(checkpoint):
        try:
            parse_hub_checkpoint(checkpoint)
        except CalculatorLoadError as exc:
            return str(exc)
        return ""
    if is_url(checkpoint) or (spec.versions and re.fullmatch(spec.versions, checkpoint)):
        return ""
    if _looks_like_path(checkpoint):
        if Path(checkpoint).expanduser().exists():
            return ""
        return f"checkpoint file {checkpoint!r} does not exist on this machine"
    return f"{family} has no version {checkpoint!r}; {_forms(family)}"


def kwargs_problem(family: str, kwargs: Mapping[str, Any]) -> str:
    """Why ``family``'s adapter would refuse these keyword arguments, or ''."""
    accepted = adapter_keywords(family)
    if ANY_KEYWORD in accepted:
        return ""
    unknown = sorted(set(kwargs) - set(accepted))
    if not unknown:
        return ""
    hints = [
        f"{name!r} (did you mean {close[0]!r}?)"
        if (close := difflib.get_close_matches(name, accepted, n=1))
        else repr(name)
        for name in unknown
    ]
    takes = ", ".join(accepted) if accepted else "no keyword arguments"
    return f"{family} takes no keyword {', '.join(hints)}; it takes {takes}"


@cache
def adapter_keywords(family: str) -> tuple[str, ...]:
    """The keyword arguments of the family adapter's ``load`` besides ``device``, read from
    its source (``**`` where it takes any)."""
    origin = importlib.util.find_spec(FAMILIES[family].module).origin
    tree = ast.parse(Path(origin).read_text())
    load = next(
        node for node in tree.body if isinstance(node, ast.FunctionDef) and node.name == "load"
    )
    names = [a.arg for a in (*load.args.args[1:], *load.args.kwonlyargs) if a.arg != "device"]
    return (*names, ANY_KEYWORD) if load.args.kwarg else tuple(names)


def _looks_like_path(checkpoint: str) -> bool:
    return (
        "/" in checkpoint
        or "\\" in checkpoint
        or checkpoint.startswith(("~", "."))
        or checkpoint.endswith(FILE_SUFFIXES)
    )


def _forms(family: str) -> str:
    versions = FAMILIES[family].versions
    shipped = f"a version matching {versions}, " if versions else ""
    return f"give {shipped}an existing path, a URL or hf://ORG/REPO/FILE"
