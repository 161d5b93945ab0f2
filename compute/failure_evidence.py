"""What a task had computed when it failed: the partial curve, the last structure, the
optimiser's or integrator's last steps.

A task notes the lists it fills (``note(volumes_a3=volumes)``: the same list objects,
so later points are seen without another call) and the structure it works on; the
relaxation notes each optimiser step. ``collecting`` gathers one run's notes, and
``evidence`` turns them into plain JSON data once the run has failed, so noting costs
nothing on the way.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import numpy as np
from ase import Atoms

from compute.structures import atoms_to_dict

LAST_STEPS = 20  # optimiser steps kept: enough to see a divergence or a stall
LAST_STRUCTURE = "last_structure"
OPTIMIZER_STEPS = "optimizer_steps"

_notes: ContextVar[dict[str, Any] | None] = ContextVar("failure_notes", default=None)


@contextmanager
def collecting() -> Iterator[dict[str, Any]]:
    """Collect the notes of the run inside the block."""
    token = _notes.set({})
    try:
        yield _notes.get()
    finally:
        _notes.reset(token)


def note(**values: Any) -> None:
    """Note values of the running task (lists it goes on filling, ``last_structure``:
    the Atoms it works on); nothing happens outside ``collecting``."""
    notes = _notes.get()
    if notes is not None:
        notes.update(values)


def note_step(atoms: Atoms, step: int, energy_ev: float, fmax_ev_per_a: float) -> None:
    """One optimiser step: its energy and largest force, and the structure it reached."""
    notes = _notes.get()
    if notes is None:
        return
    notes.setdefault(OPTIMIZER_STEPS, deque(maxlen=LAST_STEPS)).append(
        {"step": step, "energy_ev": energy_ev, "fmax_ev_per_a": fmax_ev_per_a}
    )
    notes[LAST_STRUCTURE] = atoms


def evidence(notes: Mapping[str, Any]) -> dict[str, Any]:
    """The notes as plain JSON data: Atoms as structure dicts, arrays as lists, non-finite
    numbers as None."""
    return {key: _plain(value) for key, value in notes.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, Atoms):
        return atoms_to_dict(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | deque | np.ndarray):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
