"""What MLIP Arena's two stability runs share: heating (NVT) and compression (NPT).

The failure rules that end a run's valid time, the score (the valid share of the run;
its mean over structures is the area under the survival curve), the metrics, the
headline quantities and the figures. Each task folder holds only its own protocol.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ase import Atoms

from compute.md import FailureLimits, MDProtocol
from compute.structure_sets.md_cells import MD_CELLS
from compute.structure_sets.random_mixtures import RANDOM_MIXTURES
from compute.tasks.failures import FAILURE_RATE
from compute.tasks.figures import Axis, Survival, time_series
from compute.tasks.reproduction import TIMING, TRAJECTORY
from compute.tasks.spec import HIGHER, Metric, Parameter, Quantity

FAILURE_RULES = (
    "A run stops being valid at the first step where the energy or a force is not "
    "finite, the model raises, a force exceeds 50 eV/Å, two atoms come closer than "
    "0.5 Å, or the temperature exceeds twice the target. The score is the valid share of "
    "the run; its mean over structures is the area under MLIP Arena's curve of runs "
    "still valid against normalised time."
)
# Both runs cover both sets by default: ordered crystals, and random mixtures as MLIP
# Arena probes unphysical configurations.
STRUCTURE_SETS = (MD_CELLS, RANDOM_MIXTURES)
DEFAULT_SETS = tuple(s.name for s in STRUCTURE_SETS)
LIMITS = FailureLimits(max_force_ev_per_a=50.0, min_distance_a=0.5, max_temperature_ratio=2.0)


def default_timestep_fs(atoms: Atoms) -> float:
    """MLIP Arena's step: 2 fs, or 0.5 fs when the cell holds hydrogen."""
    return 0.5 if "H" in atoms.get_chemical_symbols() else 2.0


def scored(output: Mapping[str, Any], protocol: MDProtocol, *, natoms: int) -> dict[str, Any]:
    """``run_md``'s output with the valid share and where the run failed, if it did."""
    failure = output["failure"] or {}
    series = output["series"]
    return {
        **output,
        "natoms": natoms,
        "timestep_fs": protocol.timestep_fs,
        "valid_fraction": output["steps_done"] / protocol.steps,
        "failure_rule": failure.get("rule"),
        "failure_step": failure.get("step"),
        "failure_temperature_k": failure.get("temperature_k"),
        "final_temperature_k": series[-1]["temperature_k"] if series else None,
    }


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "valid_fraction": output["valid_fraction"],
        "completed": 1.0 if output["completed"] else 0.0,
    }


QUANTITIES = (
    Quantity("valid_fraction", "Valid share", "", digits=3, reproduce=TRAJECTORY),
    Quantity("failure_step", "Failure step", "", digits=0, reproduce=TRAJECTORY),
    Quantity("failure_temperature_k", "T at failure", "K", 0, TRAJECTORY),
    Quantity("steps_per_second", "Speed", "steps/s", digits=1, reproduce=TIMING),
)


def metrics(end: str) -> tuple[Metric, ...]:
    """The valid time, the share of completed runs (those that reached ``end``), failures."""
    return (
        Metric(
            "valid_fraction",
            "Valid time (AUC)",
            "Share of the run before the first failure; the mean over structures is the "
            "area under the curve of runs still valid against normalised time",
            HIGHER,
            digits=3,
            on_failure=0.0,
            reproduce=TRAJECTORY,
        ),
        Metric(
            "completed",
            "Completed",
            f"Share of runs that reached {end} with no failure rule firing",
            HIGHER,
            digits=2,
            percent=True,
            ranked=False,
            on_failure=0.0,
        ),
        FAILURE_RATE,
    )


LIMIT_PARAMETERS = (
    Parameter("max_force_ev_per_a", "eV/Å", above=0),
    Parameter("min_distance_a", "Å", minimum=0),
    Parameter("max_temperature_ratio", "× target T", above=1),
)
FIGURES = (
    Survival("valid_fraction"),
    time_series("temperature", "Temperature against time", Axis("temperature_k", "T (K)")),
)
