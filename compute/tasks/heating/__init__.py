"""Heating stability: MLIP Arena's NVT ramp from 300 K to 3000 K, scored by valid time."""

from compute.tasks import stability
from compute.tasks.heating.protocol import run
from compute.tasks.spec import Parameter, TaskSpec

TASK = TaskSpec(
    name="heating",
    title="Heating stability",
    category="Dynamics",
    description=(
        "MLIP Arena's heating test: NVT with a Nose–Hoover chain (25 fs) whose target "
        "rises linearly from 300 K to 3000 K over 10 ps, at 2 fs (0.5 fs with hydrogen), on "
        "crystals of 108 to 216 atoms (md-cells) and on random mixtures of 64 atoms (random-"
        "mixtures), as MLIP Arena probes unphysical configurations. " + stability.FAILURE_RULES
    ),
    run=run,
    evaluate=stability.evaluate,
    quantities=stability.QUANTITIES,
    metrics=stability.metrics("3000 K"),
    summary=("valid_fraction", "completed"),
    structure_sets=stability.STRUCTURE_SETS,
    default_sets=stability.DEFAULT_SETS,
    parameters=(
        Parameter("total_time_fs", "fs", above=0),
        Parameter("timestep_fs", "fs (null: by the lightest element)", above=0),
        Parameter("start_k", "K", above=0),
        Parameter("end_k", "K", above=0),
        Parameter("tdamp_fs", "fs", above=0),
        Parameter("seed", minimum=0),
        Parameter("sample_every", "steps", minimum=1),
        *stability.LIMIT_PARAMETERS,
        Parameter("trajectory_every", "steps, 0: none", minimum=0),
    ),
    time_limit_s=6 * 3600,
    variants={"short": {"total_time_fs": 200.0, "sample_every": 5}},
    headline_metric="valid_fraction",
    figures=stability.FIGURES,
)
