"""Compression stability: MLIP Arena's NPT ramp to 3000 K and 500 GPa, scored by valid time."""

from compute.tasks import stability
from compute.tasks.compression.protocol import run
from compute.tasks.figures import Axis, time_series
from compute.tasks.reproduction import TRAJECTORY
from compute.tasks.spec import Parameter, Quantity, TaskSpec

TASK = TaskSpec(
    name="compression",
    title="Compression stability",
    category="Dynamics",
    description=(
        "MLIP Arena's compression test: NPT (ASE's Melchionna integrator: a Nose–Hoover "
        "thermostat of 25 fs, a Parrinello–Rahman barostat of pfactor (75 fs)² × 100 GPa, "
        "the whole cell free) for 10 ps while the target rises linearly from 300 K to "
        "3000 K and from 0 to 500 GPa, at 2 fs (0.5 fs with hydrogen). " + stability.FAILURE_RULES
    ),
    run=run,
    evaluate=stability.evaluate,
    quantities=(
        *stability.QUANTITIES,
        Quantity("final_pressure_gpa", "Last pressure", "GPa", 1, TRAJECTORY),
        Quantity("final_volume_ratio", "Last V / V start", "", 3, TRAJECTORY),
    ),
    metrics=stability.metrics("3000 K and 500 GPa"),
    summary=("valid_fraction", "completed"),
    structure_sets=stability.STRUCTURE_SETS,
    default_sets=stability.DEFAULT_SETS,
    parameters=(
        Parameter("total_time_fs", "fs", above=0),
        Parameter("timestep_fs", "fs (null: by the lightest element)", above=0),
        Parameter("start_k", "K", above=0),
        Parameter("end_k", "K", above=0),
        Parameter("start_gpa", "GPa"),
        Parameter("end_gpa", "GPa"),
        Parameter("tdamp_fs", "fs", above=0),
        Parameter("ptime_fs", "fs", above=0),
        Parameter("barostat_modulus_gpa", "GPa", above=0),
        Parameter("seed", minimum=0),
        Parameter("sample_every", "steps", minimum=1),
        *stability.LIMIT_PARAMETERS,
        Parameter("trajectory_every", "steps, 0: none", minimum=0),
    ),
    time_limit_s=6 * 3600,
    # 100 steps on CPU: 500 GPa squeezed into 200 fs heats the cell by compression faster
    # than a 25 fs thermostat takes it out, so the temperature rule is loosened
    variants={"short": {"total_time_fs": 200.0, "sample_every": 5, "max_temperature_ratio": 10.0}},
    headline_metric="valid_fraction",
    figures=(
        *stability.FIGURES,
        time_series("pressure", "Pressure against time", Axis("pressure_gpa", "P (GPa)")),
    ),
)
