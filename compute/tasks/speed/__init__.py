"""Speed: energy, force and stress calls on growing cells, and how their cost scales."""

from collections.abc import Mapping
from typing import Any

from compute.structure_sets.speed_seeds import SPEED_SEEDS
from compute.tasks.figures import Axis, Curves
from compute.tasks.reproduction import TIMING
from compute.tasks.spec import LOWER, TARGET, Metric, Parameter, Quantity, TaskSpec
from compute.tasks.speed.protocol import run


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    return {
        "us_per_atom_step": output["us_per_atom_step"],
        "scaling_exponent": output["scaling_exponent"],
    }


TASK = TaskSpec(
    name="speed",
    title="Speed",
    category="Dynamics",
    description=(
        "Single energy, force and stress calls timed after 3 warm-up calls (median of 10) "
        "on the cell repeated n × n × n for n from 2 up to 16, stopping at the largest size "
        "that fits in memory or whose call takes more than 20 s. Reported: µs per atom per "
        "step at the largest size, and n in steps/s ∝ N^-n; the device, torch threads and "
        "package versions are stored beside every figure."
    ),
    run=run,
    evaluate=evaluate,
    quantities=(
        Quantity("us_per_atom_step", "Time", "µs/atom/step", digits=2, reproduce=TIMING),
        Quantity("largest_natoms", "Largest N", "atoms", digits=0, reproduce=TIMING),
        Quantity("scaling_exponent", "n in steps/s ∝ N^-n", "", digits=2, reproduce=TIMING),
    ),
    metrics=(
        Metric(
            "us_per_atom_step",
            "Time per atom",
            "Median time of one energy+forces+stress call per atom, at the largest size run; "
            "depends on the device (stored with the result)",
            LOWER,
            digits=2,
            unit="µs/atom/step",
            reproduce=TIMING,
        ),
        Metric(
            "scaling_exponent",
            "Scaling exponent",
            "n in steps/s ∝ N^-n over the sizes run; 1 is linear scaling",
            TARGET,
            ideal=1.0,
            digits=2,
            ranked=False,
            reproduce=TIMING,
        ),
    ),
    summary=("us_per_atom_step", "scaling_exponent"),
    structure_sets=(SPEED_SEEDS,),
    parameters=(
        Parameter("warmup", "calls", minimum=0),
        Parameter("repeats", "calls", minimum=1),
        Parameter("max_seconds_per_call", "s", above=0),
        Parameter("max_natoms", "atoms", minimum=1),
    ),
    time_limit_s=2 * 3600,
    variants={"short": {"repeats_per_side": [2, 3], "warmup": 1, "repeats": 3}},
    headline_metric="us_per_atom_step",
    compared_within=("environment.device", "environment.torch_threads"),
    figures=(
        Curves(
            "scaling",
            "Steps per second against size",
            x=Axis("natoms", "atoms", log=True),
            y=Axis("steps_per_second", "steps/s", log=True),
            records="sizes",
        ),
    ),
)
