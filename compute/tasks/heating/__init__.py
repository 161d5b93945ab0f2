"""Heating stability: MLIP Arena's NVT ramp from 300 K to 3000 K, scored by valid time."""

from collections.abc import Mapping
from typing import Any

from compute.structure_sets.md_cells import MD_CELLS
from compute.structure_sets.random_mixtures import RANDOM_MIXTURES
from compute.tasks.failures import FAILURE_RATE
from compute.tasks.figures import Axis, Survival, time_series
from compute.tasks.heating.protocol import run
from compute.tasks.reproduction import TIMING, TRAJECTORY
from compute.tasks.spec import HIGHER, Metric, Parameter, Quantity, TaskSpec


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "valid_fraction": output["valid_fraction"],
        "completed": 1.0 if output["completed"] else 0.0,
    }


TASK = TaskSpec(
    name="heating",
    title="Heating stability",
    category="Dynamics",
    description=(
        "MLIP Arena's heating test: NVT with a Nose–Hoover chain (25 fs) whose target rises "
        "linearly from 300 K to 3000 K over 10 ps, at 2 fs (0.5 fs with hydrogen), on "
        "crystals of 108 to 216 atoms (md-cells) and on random mixtures of 64 atoms (random-"
        "mixtures), as MLIP Arena probes unphysical configurations. A run stops being valid "
        "at the first step where the energy or a force is not finite, the model raises, a "
        "force exceeds 50 eV/Å, two atoms come closer than 0.5 Å, or the temperature exceeds "
        "twice the target. The score is the valid share of the run; its mean over structures "
        "is the area under MLIP Arena's curve of runs still valid against normalised time."
    ),
    run=run,
    evaluate=evaluate,
    quantities=(
        Quantity("valid_fraction", "Valid share", "", digits=3, reproduce=TRAJECTORY),
        Quantity("failure_step", "Failure step", "", digits=0, reproduce=TRAJECTORY),
        Quantity("failure_temperature_k", "T at failure", "K", 0, TRAJECTORY),
        Quantity("steps_per_second", "Speed", "steps/s", digits=1, reproduce=TIMING),
    ),
    metrics=(
        Metric(
            "valid_fraction",
            "Valid time (AUC)",
            "Share of the run before the first failure; the mean over structures is the area "
            "under the curve of runs still valid against normalised time",
            HIGHER,
            digits=3,
            on_failure=0.0,
            reproduce=TRAJECTORY,
        ),
        Metric(
            "completed",
            "Completed",
            "Share of runs that reached 3000 K with no failure rule firing",
            HIGHER,
            digits=2,
            percent=True,
            ranked=False,
            on_failure=0.0,
        ),
        FAILURE_RATE,
    ),
    summary=("valid_fraction", "completed"),
    structure_sets=(MD_CELLS, RANDOM_MIXTURES),
    parameters=(
        Parameter("total_time_fs", "fs", above=0),
        Parameter("timestep_fs", "fs (null: by the lightest element)", above=0),
        Parameter("start_k", "K", above=0),
        Parameter("end_k", "K", above=0),
        Parameter("tdamp_fs", "fs", above=0),
        Parameter("seed", minimum=0),
        Parameter("sample_every", "steps", minimum=1),
        Parameter("max_force_ev_per_a", "eV/Å", above=0),
        Parameter("min_distance_a", "Å", minimum=0),
        Parameter("max_temperature_ratio", "× target T", above=1),
        Parameter("trajectory_every", "steps, 0: none", minimum=0),
    ),
    time_limit_s=6 * 3600,
    variants={"short": {"total_time_fs": 200.0, "sample_every": 5}},
    headline_metric="valid_fraction",
    figures=(
        Survival("valid_fraction"),
        time_series("temperature", "Temperature against time", Axis("temperature_k", "T (K)")),
    ),
)
