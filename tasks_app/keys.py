"""Job keys: identical work (model checkpoint, task version, structure, parameters)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from models_app.models import MLIP
from tasks_app.models import Structure, Task


def stable_hash(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def job_key(*, model: MLIP, task: Task, structure: Structure, params: dict[str, Any]) -> str:
    return stable_hash(
        {
            "model": [model.name, model.family, model.checkpoint, model.calculator_kwargs],
            "task": [task.function, task.version],
            "structure": structure.content_hash,
            "params": params,
        }
    )
