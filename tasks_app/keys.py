"""Job keys: identical work (model checkpoint, task version, structure, parameters)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from models_app.models import MLIP
from tasks_app.models import Task

_STRUCTURE = "\x00structure hash\x00"  # stands in for the hash while the rest is encoded


def stable_hash(value: Any) -> str:
    return hashlib.sha256(_json(value).encode()).hexdigest()


def job_key(*, model: MLIP, task: Task, structure_hash: str, params: dict[str, Any]) -> str:
    """Same key, same work: a result for it can stand in for running the job again."""
    return job_keys(model=model, task=task, params=params)(structure_hash)


def job_keys(*, model: MLIP, task: Task, params: dict[str, Any]) -> Callable[[str], str]:
    """``job_key`` of one model, task and parameters as a function of the structure hash:
    the JSON around the hash is encoded, and its SHA-256 begun, once (a page keys
    thousands of structures)."""
    recipe = {
        "model": [model.name, model.family, model.checkpoint, model.calculator_kwargs],
        "task": [task.function, task.version],
        "structure": _STRUCTURE,
        "params": params,
    }
    before, after = _json(recipe).split(_json(_STRUCTURE))
    begun = hashlib.sha256(before.encode())

    def key(structure_hash: str) -> str:
        digest = begun.copy()
        digest.update((_json(structure_hash) + after).encode())
        return digest.hexdigest()

    return key


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
