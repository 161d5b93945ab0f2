"""Formation energies and relaxation fidelity on WBM: Matbench Discovery's two questions."""

from compute.tasks.figures import ElementTable, Histogram, Parity
from compute.tasks.formation import metrics
from compute.tasks.formation.protocol import run, run_batch
from compute.tasks.formation.references import ELEMENTS_SET, WBM_SET
from compute.tasks.spec import Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="formation",
    title="Formation energy and relaxation (WBM)",
    category="Accuracy against DFT",
    description=(
        "Matbench Discovery's relaxation: FIRE with the FrechetCell filter to fmax 0.02 "
        "eV/Å from the DFT structure. The formation energy per atom against the model's "
        "own relaxed Materials Project elemental references, MP2020-corrected for models "
        "trained on Materials Project energies; compared with WBM's PBE formation "
        "energies, and the relaxed structure with the DFT one (RMSD, space group kept)."
    ),
    run=run,
    run_batch=run_batch,
    evaluate=metrics.evaluate,
    quantities=(
        Quantity("formation_energy_per_atom", "E_form", "eV/atom", digits=3),
        Quantity("volume_change", "ΔV/V", "", digits=4),
    ),
    metrics=metrics.METRICS,
    summary=("formation_energy_error", "rmsd"),
    structure_sets=(WBM_SET, ELEMENTS_SET),
    reference_keys=metrics.REFERENCE_KEYS,
    groups=metrics.GROUPS,
    parameters=(
        Parameter("fmax", "eV/Å", above=0),
        Parameter("steps", "at most", minimum=1),
    ),
    headline_metric="formation_energy_error",
    figures=(
        Parity(("formation_energy_per_atom",), reference="PBE", log=False),
        Histogram("formation_energy_error"),
        ElementTable(("formation_energy_error", "rmsd")),
        Histogram("rmsd", log=True),
    ),
)
