"""Vacancy formation and migration (climbing-image NEB): MLIP Arena's protocol against PBE."""

from compute.tasks.figures import LAST, Axis, Curves, ElementTable, Marker, Parity
from compute.tasks.spec import Parameter, Quantity, TaskSpec
from compute.tasks.vacancy import metrics
from compute.tasks.vacancy.protocol import run
from compute.tasks.vacancy.references import VACANCY_FCC, VACANCY_HCP

TASK = TaskSpec(
    name="vacancy",
    title="Vacancy formation and migration",
    category="Defects and kinetics",
    description=(
        "MLIP Arena's vacancy-migration protocol. The crystal (fcc: the cubic cell 3×3×3, "
        "108 sites; hcp: 3×3×2, 36 sites; other cells: the smallest balanced repetition "
        "with 100 sites or more) relaxed with BFGS and the FrechetCell filter to fmax "
        "0.05 eV/Å (500 steps at most); a vacancy at site 0 and at its nearest neighbour, "
        "both relaxed at that cell; a climbing-image NEB of 7 images (ASE, improved "
        "tangent, IDPP start, BFGS to fmax 0.05 eV/Å). Formation energy "
        "E(N−1) − (N−1)/N·E(N), E(N−1) the mean of the end points; the barrier is the "
        "highest image above the initial state. Compared with PBE (Angsten et al. 2014)."
    ),
    run=run,
    evaluate=metrics.evaluate,
    version=1,
    quantities=(
        Quantity("vacancy_formation_ev", "E_vac", "eV", digits=3),
        Quantity("migration_barrier_ev", "E_mig", "eV", digits=3),
        Quantity("barrier_asymmetry", "Asymmetry", "", digits=3),
    ),
    metrics=metrics.METRICS,
    summary=("formation_error_ev", "barrier_error_ev", "neb_not_converged"),
    structure_sets=(VACANCY_FCC, VACANCY_HCP),
    reference_keys=metrics.REFERENCE_KEYS,
    groups=metrics.GROUPS,
    time_limit_s=4 * 3600,
    variants={"short": {"repeats": [2, 2, 2], "n_images": 5}},  # CPU tests, the main job
    parameters=(
        Parameter("fmax", "eV/Å", above=0),
        Parameter("steps", "at most", minimum=1),
        Parameter("n_images", "images, end points included", minimum=3),
        Parameter("min_sites", "sites", minimum=3),
    ),
    headline_metric="barrier_error_ev",
    figures=(
        Curves(
            "path",
            "Minimum-energy path of the vacancy hop",
            x=Axis("path_a", "reaction coordinate (normalised)", ratio_to=LAST),
            y=Axis("path_energy_ev", "E − E initial (eV)"),
            marker=Marker("migration_barrier_ev", "PBE barrier", axis="y"),
        ),
        Parity(("vacancy_formation_ev", "migration_barrier_ev"), reference="PBE (Angsten 2014)"),
        ElementTable(("barrier_error_ev", "formation_error_ev", "barrier_asymmetry")),
    ),
)
