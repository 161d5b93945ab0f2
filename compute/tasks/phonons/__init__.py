"""Harmonic phonons: force constants with phonopy, stability and C_V against Alexandria PBE."""

from compute.tasks.figures import Axis, Curves, ElementTable, Parity
from compute.tasks.phonons import metrics
from compute.tasks.phonons.alexandria import ALEXANDRIA_SET, ALEXANDRIA_SMALL_SET
from compute.tasks.phonons.protocol import run
from compute.tasks.spec import Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="phonons",
    title="Phonons (harmonic)",
    category="Accuracy against DFT",
    description=(
        "Relax cell and positions with symmetry kept (FIRE, FrechetCell filter, fmax "
        "0.001 eV/Å); phonopy force constants from 0.01 Å displacements in a diagonal "
        "supercell whose lattice vectors are all at least 10 Å; DOS and thermal properties "
        "on phonopy's mesh (length 50 Å), bands along seekpath's standard path. Ranked on "
        "C_V(300 K) against Alexandria's PBE phonons, imaginary modes (below −0.1 THz "
        "leaving out the acoustic modes at Γ) and the acoustic sum rule."
    ),
    run=run,
    evaluate=metrics.evaluate,
    quantities=(
        Quantity("heat_capacity_300k", "C_V(300 K)", "J/K/mol", digits=2),
        Quantity("entropy_300k", "S(300 K)", "J/K/mol", digits=2),
        Quantity("free_energy_300k", "F(300 K)", "kJ/mol", digits=3),
        Quantity("max_frequency_thz", "ν max", "THz", digits=3),
        Quantity("min_frequency_thz", "ν min", "THz", digits=3),
    ),
    metrics=metrics.METRICS,
    summary=("heat_capacity_error", "imaginary_modes"),
    structure_sets=(ALEXANDRIA_SMALL_SET, ALEXANDRIA_SET),
    reference_keys=metrics.REFERENCE_KEYS,
    groups=metrics.GROUPS,
    parameters=(
        Parameter("fmax", "eV/Å", above=0),
        Parameter("steps", "at most", minimum=0),  # 0: phonons of the input cell
        Parameter("displacement_a", "Å", above=0),
        Parameter("min_supercell_length_a", "Å", above=0),
        Parameter("mesh_length_a", "Å", above=0),
        Parameter("band_points", "per segment", minimum=2),
    ),
    headline_metric="heat_capacity_error",
    figures=(
        Parity(("heat_capacity_300k",), reference="PBE"),
        ElementTable(),
        Curves(
            "bands",
            "Phonon bands",
            x=Axis("q_distance", "wave vector (1/Å)"),
            y=Axis("frequencies_thz", "ν (THz)"),
        ),
        Curves("dos", "Phonon DOS", x=Axis("dos_thz", "ν (THz)"), y=Axis("dos", "states/THz")),
        Curves(
            "heat_capacity",
            "Heat capacity",
            x=Axis("temperature_k", "T (K)"),
            y=Axis("heat_capacity", "C_V (J/K/mol)"),
            records="thermal",
        ),
    ),
)
