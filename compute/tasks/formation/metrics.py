"""Per-crystal metrics against DFT, where the structure has a DFT reference.

A model whose energies are MP2020-corrected is compared with the corrected DFT
formation energy, any other with the uncorrected one. RMSD and symmetry compare the
model-relaxed structure with the input, which for a reference set is the DFT-relaxed
structure (``volume_a3_per_atom`` in its reference says so).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from compute.tasks.failures import FAILURE_RATE
from compute.tasks.formation.geometry import SYMPRECS
from compute.tasks.spec import HIGHER, LOWER, Metric, MetricGroup

REFERENCE_KEYS = (
    "formation_energy_per_atom",
    "formation_energy_per_atom_uncorrected",
    "volume_a3_per_atom",
)

ENERGY_METRICS = (
    Metric(
        "formation_energy_error",
        "|E_form error|",
        "Mean |E_form − E_form,DFT|, MP2020-corrected where the model's family is; ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=3,
        unit="eV/atom",
        absolute=True,
    ),
)
GEOMETRY_METRICS = (
    Metric(
        "rmsd",
        "RMSD",
        "StructureMatcher RMSD of the relaxed from the DFT structure per (V/N)^(1/3), "
        "1 where none matches (Matbench Discovery); ideal 0.",
        direction=LOWER,
        ideal=0,
        digits=4,
    ),
    *(
        Metric(
            f"symmetry_kept_{name}",
            f"Symmetry kept ({symprec:g})",
            f"Share of crystals whose space group at symprec {symprec:g} the relaxation keeps.",
            direction=HIGHER,
            ideal=1,
            percent=True,
        )
        for name, symprec in SYMPRECS.items()
    ),
)
SHOWN_METRICS = (
    Metric(
        "sign_flip",
        "Sign flips",
        "Share of crystals whose formation energy has the other sign than DFT's.",
        direction=LOWER,
        ideal=0,
        percent=True,
        ranked=False,
    ),
    Metric(
        "volume_error",
        "|V error|",
        "Mean |V − V_DFT| / V_DFT of the relaxed cell; ideal 0.",
        direction=LOWER,
        ideal=0,
        percent=True,
        absolute=True,
        ranked=False,
    ),
)
METRICS = (*ENERGY_METRICS, *GEOMETRY_METRICS, *SHOWN_METRICS, FAILURE_RATE)
GROUPS = (
    MetricGroup(
        "energy",
        "Formation energy against DFT",
        "How close the model's formation energies come to WBM's PBE ones.",
        tuple(m.key for m in ENERGY_METRICS),
        aspect="accuracy",
    ),
    MetricGroup(
        "geometry",
        "Relaxation fidelity",
        "How close the model's relaxed structures stay to the DFT ones (Matbench Discovery).",
        (*(m.key for m in GEOMETRY_METRICS), FAILURE_RATE.key),  # no relaxed structure at all
        aspect="accuracy",  # against the DFT-relaxed structures
    ),
)


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    """Errors against the reference's DFT formation energy and structure, where given."""
    reference = reference or {}
    metrics: dict[str, Any] = {}
    key = "formation_energy_per_atom"
    dft = reference.get(key if output["energy_correction"] else f"{key}_uncorrected")
    if dft is not None:
        model = output[key]
        metrics["formation_energy_error"] = model - dft
        metrics["sign_flip"] = float((model < 0) != (dft < 0))
    if "volume_a3_per_atom" in reference:
        metrics["rmsd"] = output["rmsd"]
        for name in SYMPRECS:
            kept = output["space_groups_relaxed"][name] == output["space_groups_input"][name]
            metrics[f"symmetry_kept_{name}"] = float(kept)
        dft_volume = reference["volume_a3_per_atom"]
        metrics["volume_error"] = (output["volume_a3_per_atom"] - dft_volume) / dft_volume
    return metrics
