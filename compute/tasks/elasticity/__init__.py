"""Elastic constants: the full stiffness tensor, K and G against Materials Project PBE."""

from compute.tasks.elasticity import metrics
from compute.tasks.elasticity.protocol import run
from compute.tasks.elasticity.references import MP_ELASTICITY, MP_ELASTICITY_SUBSET
from compute.tasks.figures import ElementTable, Parity
from compute.tasks.spec import Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="elasticity",
    title="Elastic constants",
    category="Accuracy against DFT",
    description=(
        "Materials Project's and matcalc's strain protocol. BFGS relaxation of cell and "
        "positions (FrechetCell filter) to fmax 0.001 eV/Å; the six independent strain "
        "types at ±0.5 % and ±1 %, positions relaxed at each strained cell; the 6×6 "
        "stiffness tensor fitted by pymatgen's ElasticTensor.from_independent_strains. "
        "Headline: Voigt–Reuss–Hill K and G, and Born stability (every eigenvalue of the "
        "tensor positive). Scored against Materials Project PBE moduli of 3,953 binary "
        "crystals (de Jong et al., Sci. Data 2, 150009, 2015; CC BY 4.0)."
    ),
    run=run,
    evaluate=metrics.evaluate,
    version=1,
    quantities=(
        Quantity("k_vrh_gpa", "K_VRH", "GPa", digits=1),
        Quantity("g_vrh_gpa", "G_VRH", "GPa", digits=1),
        Quantity("born_stable", "Born-stable (1 yes, 0 no)", "", digits=0),
        Quantity("min_eigenvalue_gpa", "Smallest eigenvalue of C", "GPa", digits=1),
    ),
    metrics=metrics.METRICS,
    summary=("k_error_gpa", "g_error_gpa"),
    structure_sets=(MP_ELASTICITY, MP_ELASTICITY_SUBSET),
    reference_keys=metrics.REFERENCE_KEYS,
    groups=metrics.GROUPS,
    parameters=(
        Parameter("fmax", "eV/Å", above=0),
        Parameter("steps", "at most", minimum=1),
    ),
    headline_metric="k_error_gpa",
    figures=(
        Parity(("k_vrh_gpa", "g_vrh_gpa"), reference="PBE", colour_by="crystal_system"),
        ElementTable(("k_error_gpa", "g_error_gpa", "k_rel_error", "g_rel_error")),
    ),
)
