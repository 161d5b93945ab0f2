"""The training-set vocabulary: one name per data set, so that filters list each once.

Names follow the data sets' own papers (CHGNet's MPtrj, Meta's OMat24, ...); a name
that differs only in case or punctuation from a known one is refused with the known one
suggested, so "MPTrj" cannot become a second MPtrj.
"""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError

TRAINING_SETS: dict[str, str] = {
    "MPtrj": "Materials Project relaxation trajectories (PBE/PBE+U), CHGNet's release",
    "sAlex": "subsampled Alexandria, released with OMat24",
    "Alexandria": "Alexandria PBE database",
    "OMat24": "Open Materials 2024 (Meta FAIR)",
    "OMol25": "Open Molecules 2025 (Meta FAIR)",
    "OC20": "Open Catalyst 2020",
    "ODAC25": "Open DAC 2025",
    "OMC25": "Open Molecular Crystals 2025",
    "MatPES-PBE": "MatPES, PBE",
    "MatPES-r2SCAN": "MatPES, r2SCAN",
    "SPICE": "SPICE molecules and dimers (ωB97M-D3(BJ))",
    "ANI-2x": "ANI-2x molecules (ωB97X/6-31G*)",
    "MAD": "Massive Atomic Diversity, PET-MAD's set",
    "OpenLAM": "OpenLAM, DPA-3's pretraining collection",
    "MatterSim": "MatterSim's own sampled structures (not public)",
}


def _folded(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def canonical_training_set(name: str) -> str | None:
    """The vocabulary's spelling of ``name`` (``MPTrj`` → ``MPtrj``), or None if unknown."""
    folded = _folded(name)
    return next((known for known in TRAINING_SETS if _folded(known) == folded), None)


def validate_training_sets(value: Any) -> None:
    """A JSON list of the vocabulary's names, each once."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValidationError('must be a JSON list of names such as ["MPtrj"]')
    problems = []
    for name in value:
        if name in TRAINING_SETS:
            continue
        known = canonical_training_set(name)
        problems.append(
            f"write {known!r}, not {name!r}" if known else f"unknown training set {name!r}"
        )
    if len(set(value)) < len(value):
        problems.append("a training set is listed twice")
    if problems:
        raise ValidationError(
            f"{'; '.join(problems)}; the training sets are {', '.join(TRAINING_SETS)}"
        )
