"""E–V scan: the unrelaxed cell strained isotropically, scored by the shape of E(V)."""

from collections.abc import Mapping
from typing import Any

from compute.structure_sets.delta import DELTA_SET
from compute.tasks.curve_shape import CURVE_METRICS, SOUNDNESS, curve_metrics
from compute.tasks.ev.protocol import run
from compute.tasks.failures import FAILURE_RATE
from compute.tasks.figures import MIDDLE, Axis, Curves
from compute.tasks.spec import Parameter, Quantity, TaskSpec


def evaluate(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    return curve_metrics(output["volumes_a3"], output["energies_ev"])


TASK = TaskSpec(
    name="ev",
    title="E–V scan (unrelaxed)",
    category="Physical soundness",
    description=(
        "MLIP Arena's E–V scan. The input cell is strained isotropically by 1 + s for 21 "
        "linear strains s from −0.2 to +0.2 (volumes from 0.51 to 1.73 of the input), "
        "with no relaxation, and each energy taken as it is. Scored by the smoothness "
        "and monotonicity of E(V) around the input cell."
    ),
    run=run,
    evaluate=evaluate,
    quantities=(
        Quantity("e_input_ev_per_atom", "E input", "eV/atom", digits=4),
        Quantity("e_min_ev_per_atom", "E min", "eV/atom", digits=4),
        Quantity("v_min_ratio", "V(E min) / V input", "", digits=3),
    ),
    metrics=(*CURVE_METRICS, FAILURE_RATE),
    summary=("tortuosity", "energy_derivative_flips"),
    structure_sets=(DELTA_SET,),
    groups=(SOUNDNESS,),
    parameters=(
        Parameter("max_abs_strain", "linear strain, ±", above=0, below=1),
        Parameter("npoints", "volumes", minimum=5),
    ),
    headline_metric="tortuosity",
    figures=(
        Curves(
            "curves",
            "E(V), models overlaid",
            x=Axis("volumes_a3", "V / V input", ratio_to=MIDDLE),
            y=Axis("energies_ev", "E − E input (eV/atom)", minus=MIDDLE, per_atom=True),
        ),
    ),
)
