"""Structure relaxation: a utility task with no ranking metrics."""

from compute.structure_sets.delta import DELTA_SET
from compute.tasks.relax.protocol import run
from compute.tasks.spec import Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="relax",
    title="Structure relaxation",
    category="Utility",
    description="Relax positions and cell with a named ASE optimizer and cell filter.",
    run=run,
    quantities=(
        Quantity("energy_per_atom_ev", "E", "eV/atom", digits=4),
        Quantity("volume_a3", "V", "Å³", digits=3),
        Quantity("max_force_ev_per_a", "max |F|", "eV/Å", digits=4),
    ),
    structure_sets=(DELTA_SET,),
    parameters=(
        Parameter("fmax", "eV/Å", above=0),
        Parameter("steps", "at most", minimum=1),
    ),
)
