"""Homonuclear diatomics: MLIP Arena's dimer curves, scored by shape and against experiment."""

from compute.tasks.diatomics import metrics
from compute.tasks.diatomics.dft import DFT_METRICS
from compute.tasks.diatomics.dimers import DIMER_SET
from compute.tasks.diatomics.protocol import run
from compute.tasks.spec import MetricGroup, Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="diatomics",
    title="Homonuclear diatomics",
    category="Physical soundness",
    description=(
        "MLIP Arena's homonuclear diatomics. For each element the model supports, two atoms "
        "at distances from 0.9 × the covalent radius to 3.1 × the Alvarez van der Waals "
        "radius (6 Å where unknown) in 0.01 Å steps, in a 50 Å periodic box. Ranked on the "
        "smoothness, monotonicity and conservation of E(r) and F(r) as MLIP Arena ranks them, "
        "and on the errors of E(r), F(r), r_e and D_e against Matbench Discovery's VASP PBE "
        "curves (energies aligned at the largest shared distance); "
        "the bond length, well depth and harmonic frequency from a local fit are compared "
        "with experiment where known."
    ),
    run=run,
    evaluate=metrics.evaluate,
    quantities=(
        Quantity("r_e_a", "r_e", "Å", digits=3),
        Quantity("d_e_ev", "D_e", "eV", digits=3),
        Quantity("k_e_ev_per_a2", "k_e", "eV/Å²", digits=2),
        Quantity("omega_e_cm1", "ω_e", "cm⁻¹", digits=0),
    ),
    metrics=metrics.METRICS,
    summary=("conservation_deviation_ev_per_a", "force_flips", "r_e_error_a"),
    structure_sets=(DIMER_SET,),
    reference_keys=metrics.REFERENCE_KEYS,
    groups=(
        MetricGroup(
            "soundness",
            "Physical soundness",
            "Smoothness, monotonicity and energy conservation of E(r) and F(r).",
            tuple(m.key for m in metrics.METRICS if m.ranked and m not in DFT_METRICS),
        ),
        MetricGroup(
            "dft",
            "Accuracy against DFT",
            "E(r), F(r), r_e and D_e against Matbench Discovery's VASP PBE curve of each dimer.",
            tuple(m.key for m in DFT_METRICS),
        ),
    ),
    parameters=(
        Parameter("step_a", "Å", above=0),
        Parameter("box_a", "Å", above=0),
    ),
)
