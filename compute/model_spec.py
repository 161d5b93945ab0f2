"""The plain description of a model that calculator loading needs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class ModelSpec:
    """What identifies a calculator: a family adapter, a checkpoint and its kwargs.

    ``checkpoint_sha256`` is the file hash an admin approved, which lets a checkpoint
    that needs full unpickling load from any source.
    """

    name: str
    family: str
    checkpoint: str = ""
    calculator_kwargs: dict[str, Any] = field(default_factory=dict)
    checkpoint_sha256: str = ""

    def cache_key(self, device: str) -> str:
        return json.dumps(
            [self.family, self.checkpoint, self.calculator_kwargs, self.checkpoint_sha256, device],
            sort_keys=True,
        )
