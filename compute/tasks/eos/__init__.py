"""Bulk equation of state: MLIP Arena's protocol, scored by curve shape and against WIEN2k."""

from compute.structure_sets.delta import DELTA_SET
from compute.tasks.eos import metrics
from compute.tasks.eos.protocol import run
from compute.tasks.figures import ElementTable, Parity
from compute.tasks.spec import Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="eos",
    title="Equation of state (bulk)",
    category="Physical soundness",
    description=(
        "MLIP Arena's bulk EOS protocol. FIRE relaxation with the FrechetCell filter to "
        "fmax 0.1 eV/Å, then 21 volumes from 0.8 to 1.2 of the relaxed volume, positions "
        "relaxed at each fixed cell, and a Birch–Murnaghan fit. Scored by the smoothness "
        "of E(V) and, on the Delta set, against WIEN2k PBE references."
    ),
    run=run,
    evaluate=metrics.evaluate,
    quantities=(
        Quantity("v0_a3_per_atom", "V₀", "Å³/atom", digits=3),
        Quantity("b0_gpa", "B₀", "GPa", digits=1),
        Quantity("b0_prime", "B₀′", "", digits=2),
        Quantity("e0_ev_per_atom", "E₀", "eV/atom", digits=4),
    ),
    metrics=metrics.METRICS,
    summary=("delta_mev_per_atom", "b0_rel_error"),
    structure_sets=(DELTA_SET,),
    reference_keys=metrics.REFERENCE_KEYS,
    groups=metrics.GROUPS,
    parameters=(
        Parameter("fmax", "eV/Å", above=0),
        Parameter("steps", "at most", minimum=0),  # 0: the input cell, scaled
        Parameter("npoints", "volumes", minimum=5),  # a 4-parameter fit needs a spare point
        Parameter("min_volume_factor", "× relaxed V", above=0, below=1),
        Parameter("max_volume_factor", "× relaxed V", above=1),
    ),
    headline_metric="delta_mev_per_atom",
    figures=(Parity(("v0_a3_per_atom", "b0_gpa"), reference="WIEN2k"), ElementTable()),
)
