"""NVE energy drift: LAMBench's energy-conservation test, and MLIP Arena's hotter variant."""

from collections.abc import Mapping
from typing import Any

from compute.structure_sets.md_cells import MD_CELLS
from compute.tasks.failures import FAILURE_RATE
from compute.tasks.figures import FIRST, Axis, time_series
from compute.tasks.nve.protocol import run
from compute.tasks.reproduction import TIMING, TRAJECTORY
from compute.tasks.spec import HIGHER, LOWER, Metric, Parameter, Quantity, TaskSpec


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "drift_mev_per_atom_ps": output["drift_mev_per_atom_ps"] if output["completed"] else None,
        "lambench_instability": output["lambench_instability"],
        "completed": 1.0 if output["completed"] else 0.0,
    }


METRICS = (
    Metric(
        "drift_mev_per_atom_ps",
        "Energy drift",
        "|slope| of a line through the total energy after the first 20 % of the run, "
        "per atom; completed runs only",
        LOWER,
        digits=3,
        unit="meV/atom/ps",
        reproduce=TRAJECTORY,
    ),
    Metric(
        "lambench_instability",
        "LAMBench instability",
        "LAMBench's per-system error: log10(slope / 5e-4) in its units, clipped to 0..5; "
        "5 for a run that did not complete, or whose job failed",
        LOWER,
        digits=2,
        on_failure=5.0,
        reproduce=TRAJECTORY,
    ),
    Metric(
        "completed",
        "Completed",
        "Share of runs that reached the last step with no failure rule firing",
        HIGHER,
        digits=2,
        percent=True,
        ranked=False,
        on_failure=0.0,
    ),
    FAILURE_RATE,
)

TASK = TaskSpec(
    name="nve",
    title="NVE energy drift",
    category="Dynamics",
    description=(
        "LAMBench's NVE test: velocity Verlet at 1 fs for 10 ps from a Maxwell–Boltzmann "
        "start at 300 K (seed 0, net momentum and rotation removed). The total energy is "
        "sampled every 100 steps, the first 20 % dropped and a line fitted; the drift is "
        "its slope in meV/atom/ps. A run stops early when a failure rule fires (NaN, a "
        "force above 50 eV/Å, atoms closer than 0.5 Å, the temperature above 5 × 300 K)."
    ),
    run=run,
    evaluate=evaluate,
    version=1,
    quantities=(
        Quantity("drift_mev_per_atom_ps", "Drift", "meV/atom/ps", 4, TRAJECTORY),
        Quantity("lambench_slope", "LAMBench slope", "meV/atom per ASE time", 4, TRAJECTORY),
        Quantity("steps_done", "Steps done", "", digits=0, reproduce=TRAJECTORY),
        Quantity("steps_per_second", "Speed", "steps/s", digits=1, reproduce=TIMING),
    ),
    metrics=METRICS,
    summary=("drift_mev_per_atom_ps", "lambench_instability", "completed"),
    structure_sets=(MD_CELLS,),
    parameters=(
        Parameter("steps", "steps", minimum=1),
        Parameter("timestep_fs", "fs", above=0),
        Parameter("temperature_k", "K", above=0),
        Parameter("seed", minimum=0),
        Parameter("sample_every", "steps", minimum=1),
        Parameter("drop_fraction", "of the samples", minimum=0, below=1),
        Parameter("trajectory_every", "steps, 0: none", minimum=0),
    ),
    time_limit_s=6 * 3600,
    variants={
        "hot": {"temperature_k": 1000.0},  # MLIP Arena's hotter conservation run
        "short": {"steps": 400, "sample_every": 10},  # CPU tests and the setup job
    },
    headline_metric="drift_mev_per_atom_ps",
    figures=(
        time_series(
            "energy",
            "Total energy against time",
            Axis(
                "etot_ev",
                "E total − E total at t = 0 (meV/atom)",
                minus=FIRST,
                per_atom=True,
                factor=1000.0,
            ),
        ),
    ),
)
