"""Job keys: identical work (model checkpoint, task version, structure, parameters)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from models_app.models import MLIP
from tasks_app.models import Task


def stable_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def job_key(*, model: MLIP, task: Task, structure_hash: str, params: dict[str, Any]) -> str:
    """Same key, same work: a result for it can stand in for running the job again."""
    return stable_hash(
        {
            "model": [model.name, model.family, model.checkpoint, model.calculator_kwargs],
            "task": [task.function, task.version],
            "structure": structure_hash,
            "params": params,
        }
    )
