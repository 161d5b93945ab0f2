"""Task specs: display precision, metric comparison, parameters and the registry, by hand."""

import math
import re

import pytest
from ase.build import bulk
from ase.calculators.emt import EMT

from compute.errors import TaskFailed
from compute.tasks import (
    TASKS,
    quantity_labels,
    reference_keys,
    spec_or_placeholder,
    structure_sets,
    task_spec,
)
from compute.tasks.spec import (
    HIGHER,
    LOWER,
    TARGET,
    Metric,
    Quantity,
    TaskSpec,
    displayed,
    format_mean_std,
    format_number,
)


@pytest.mark.parametrize(
    ("value", "digits", "percent", "text"),
    [
        (1.23456, 3, False, "1.235"),
        (0.0, 3, False, "0.000"),  # zero is shown fixed, not as 0e+00
        (0.001, 4, False, "0.0010"),  # the smallest fixed value
        (0.00099, 3, False, "0.00099"),  # below it: three significant digits
        (-2.5e-5, 2, False, "-2.5e-05"),
        (99999.5, 1, False, "99999.5"),  # the largest fixed values
        (100000.0, 3, False, "1e+05"),
        (-123456.0, 3, False, "-1.23e+05"),
        (0.0562, 3, True, "5.6%"),  # a percentage keeps digits − 2 decimals
        (0.0562, 4, True, "5.62%"),
        (0.0562, 2, True, "5.6%"),  # but at least one
    ],
)
def test_numbers_are_shown_at_their_precision(value, digits, percent, text):
    assert format_number(value, digits, percent=percent) == text


@pytest.mark.parametrize(
    ("mean", "std", "digits", "percent", "text"),
    [
        (1.875, 0.88388, 3, False, "1.875 ± 0.884"),
        (2.1e-05, 1.4e-05, 3, False, "2.1e-05 ± 0.000"),  # a deviation is never ``g``
        (0.0842, 0.0607, 3, True, "8.4% ± 6.1%"),
        (123456.0, None, 3, False, "1.23e+05"),  # one structure: no deviation
        (None, None, 3, False, "–"),
        (math.nan, 0.1, 3, False, "–"),
    ],
)
def test_a_mean_is_shown_with_its_deviation(mean, std, digits, percent, text):
    assert format_mean_std(mean, std, digits, percent=percent) == text
    metric = Metric("m", "M", "", direction=LOWER, digits=digits, percent=percent)
    assert metric.mean_std_text(mean, std) == text


def test_numbers_are_not_percentages_unless_asked():
    assert format_number(0.25, 2) == "0.25"
    assert displayed(0.25, 1) == 0.2


def test_the_number_a_reader_sees_is_the_rounded_one():
    assert displayed(1.23456, 3) == 1.235
    assert displayed(0.0562, 3, percent=True) == pytest.approx(0.056, abs=1e-15)
    assert displayed(-2.4e-5, 2) == -2.4e-05  # tiny values keep their significant digits
    assert displayed(123456.0, 3) == 123000.0


def metric(direction, ideal=None, **options):
    return Metric("m", "M", "help", direction=direction, ideal=ideal, **options)


def test_badness_is_lower_for_better_means_at_display_precision():
    assert metric(LOWER).badness(1.23456) == 1.235
    assert metric(HIGHER).badness(0.9) == -0.9
    assert metric(TARGET, ideal=1, digits=2).badness(1.304) == pytest.approx(0.3, abs=1e-15)
    assert metric(TARGET, ideal=1, digits=2).badness(0.696) == pytest.approx(0.3, abs=1e-15)
    assert metric(TARGET, ideal=-1).badness(-1.0004) == 0.0  # reads −1.000: ideal
    for direction in (LOWER, HIGHER):
        assert metric(direction).badness(None) is None
        assert metric(direction).badness(math.nan) is None
        assert metric(direction).badness(math.inf) is None


def test_values_drop_non_finite_numbers_and_absolute_metrics_average_magnitudes():
    assert metric(LOWER).value(-0.2) == -0.2
    assert metric(LOWER, absolute=True).value(-0.2) == 0.2
    assert metric(LOWER).value(3) == 3.0 and isinstance(metric(LOWER).value(3), float)
    for raw in (None, math.nan, math.inf, -math.inf):
        assert metric(LOWER, absolute=True).value(raw) is None


def test_metric_definitions_are_checked_and_headed_with_units():
    with pytest.raises(ValueError, match="metric m: direction must be one of"):
        metric("sideways")
    with pytest.raises(ValueError, match="metric m: a target direction needs an ideal value"):
        metric(TARGET)
    assert metric(TARGET, ideal=0).ideal == 0
    assert metric(LOWER, unit="meV/atom").heading == "M (meV/atom)"
    assert metric(LOWER).heading == "M"
    assert metric(LOWER, digits=2).format(1.0) == "1.00"
    assert metric(LOWER, percent=True).format(0.0562) == "5.6%"
    assert metric(LOWER, percent=True).shown(0.0562) == pytest.approx(0.056, abs=1e-15)
    assert Quantity("b0_gpa", "B₀", "GPa").heading == "B₀ (GPa)"


def run_with_defaults(atoms, calculator, *, steps: int = 5, fmax: float = 0.1, tag=None):
    return {"steps": steps, "fmax": fmax, "tag": tag}


def run_with_a_required_parameter(atoms, calculator, mode, *, steps: int = 5):
    return {}


def test_a_spec_reads_its_protocol_from_the_run_signature():
    spec = TaskSpec(
        name="t",
        title="T",
        description="",
        run=run_with_defaults,
        quantities=(Quantity("steps", "Steps"), Quantity("gone", "Gone")),
        metrics=(metric(LOWER), Metric("s", "S", "", direction=HIGHER, ranked=False)),
        summary=("m",),
    )
    assert spec.default_params() == {"steps": 5, "fmax": 0.1, "tag": None}
    spec.check_params({"steps": 1, "tag": "x"})
    with pytest.raises(TaskFailed) as error:
        spec.check_params({"steps": 1, "zeta": 1, "alpha": 2})
    assert str(error.value) == "task 't' has no parameter alpha, zeta; it takes fmax, steps, tag"
    assert spec.headline({"steps": 3, "extra": 1}) == {"steps": 3, "gone": None}
    assert [m.key for m in spec.ranked_metrics] == ["m"]
    assert spec.metric("s").direction == HIGHER
    assert spec.default_structure_set == ""
    with_required = TaskSpec(name="u", title="U", description="", run=run_with_a_required_parameter)
    assert with_required.default_params() == {"steps": 5}


def test_a_summary_must_name_metrics_of_the_task():
    with pytest.raises(ValueError, match=r"task t: summary names unknown metrics \['b0'\]"):
        TaskSpec(name="t", title="T", description="", run=run_with_defaults, summary=("b0",))


def test_the_registry_finds_tasks_and_refuses_unknown_names():
    assert task_spec("eos") is TASKS["eos"]
    with pytest.raises(
        TaskFailed,
        match="^unknown task function 'kappa'; known: eos, ev, relax, diatomics, nve, "
        "heating, speed, formation, phonons, elasticity, vacancy, compression, combustion$",
    ):
        task_spec("kappa")
    placeholder = spec_or_placeholder("kappa")
    assert (placeholder.name, placeholder.title, placeholder.metrics) == ("kappa", "kappa", ())
    assert placeholder.description == "" and placeholder.default_params() == {}
    with pytest.raises(TaskFailed, match="this task's code is not installed; known: eos, ev"):
        placeholder.run(bulk("Cu"), EMT())
    assert spec_or_placeholder("ev") is TASKS["ev"]


def test_the_registry_lists_each_structure_set_once_and_every_reference_key():
    # eos, ev and relax share the Delta set; nve, heating and compression share md-cells.
    assert [s.name for s in structure_sets()] == [
        "delta-dcdft",
        "homonuclear-dimers",
        "md-cells",
        "random-mixtures",
        "speed-seeds",
        "wbm-random-972",
        "mp-elemental-references",
        "alexandria-phonons-small",
        "alexandria-phonons",
        "mp-elasticity",
        "mp-elasticity-subset",
        "vacancy-fcc",
        "vacancy-hcp",
        "combustion-h256o128",
    ]
    assert reference_keys() >= {"v0_a3_per_atom", "b0_gpa", "b0_prime", "r_e_a", "d_e_ev"}
    labels = quantity_labels()
    assert labels["b0_gpa"].unit == "GPa" and labels["volume_a3"].unit == "Å³"
    assert set(labels) >= {"v0_a3_per_atom", "e_min_ev_per_atom", "max_force_ev_per_a"}


def test_the_protocols_are_mlip_arenas():
    """eos_bulk: FIRE with FrechetCell to 0.1 eV/Å, 500 steps, 21 volumes over ±20 %, no
    symmetry constraint; relax: the same optimizer to 0.05 eV/Å."""
    assert task_spec("eos").default_params() == {
        "optimizer": "FIRE",
        "cell_filter": "FrechetCell",
        "fmax": 0.1,
        "steps": 500,
        "npoints": 21,
        "min_volume_factor": 0.8,
        "max_volume_factor": 1.2,
        "symmetry": False,
    }
    assert task_spec("relax").default_params() == {
        "optimizer": "FIRE",
        "cell_filter": "FrechetCell",
        "fmax": 0.05,
        "steps": 500,
        "symmetry": False,
    }
    assert task_spec("eos").summary == ("delta_mev_per_atom", "b0_rel_error")
    assert [q.key for q in task_spec("eos").quantities] == [
        "v0_a3_per_atom",
        "b0_gpa",
        "b0_prime",
        "e0_ev_per_atom",
    ]


def test_the_dynamics_protocols_are_the_upstream_ones():
    """nve: LAMBench's nve_md (1 fs, 10 ps, 300 K, seed 0, a sample every 1 %, the first
    20 % dropped); heating: MLIP Arena's stability run (300 → 3000 K over 10 ps, Nose–Hoover
    25 fs, 50 eV/Å, 0.5 Å, 2 × target); speed: 3 warm-up calls, the median of 10."""
    assert task_spec("nve").default_params() == {
        "steps": 10000,
        "timestep_fs": 1.0,
        "temperature_k": 300.0,
        "seed": 0,
        "sample_every": 100,
        "drop_fraction": 0.2,
        "trajectory_every": 0,
    }
    assert task_spec("heating").default_params() == {
        "total_time_fs": 10000.0,
        "timestep_fs": None,  # 2 fs, 0.5 fs with hydrogen
        "start_k": 300.0,
        "end_k": 3000.0,
        "tdamp_fs": 25.0,
        "seed": 0,
        "sample_every": 10,
        "max_force_ev_per_a": 50.0,
        "min_distance_a": 0.5,
        "max_temperature_ratio": 2.0,
        "trajectory_every": 0,
    }
    assert task_spec("speed").default_params() == {
        "repeats_per_side": None,  # n = 2 … 16
        "warmup": 3,
        "repeats": 10,
        "max_seconds_per_call": 20.0,
        "max_natoms": 20000,
    }


def test_each_structure_set_is_listed_once_by_name(monkeypatch):
    from compute import tasks
    from compute.tasks.spec import StructureSetSpec

    other = StructureSetSpec("other", "", list)
    eos = tasks.TASKS["eos"]
    extra = TaskSpec(name="x", title="X", description="", run=run_with_defaults,
                     structure_sets=(other, eos.structure_sets[0]))  # fmt: skip
    monkeypatch.setattr(tasks, "TASKS", {"eos": eos, "x": extra})
    assert [s.name for s in tasks.structure_sets()] == ["delta-dcdft", "other"]


def test_the_delta_set_holds_the_71_crystals_with_wien2k_references():
    """Cu's WIEN2k PBE values as published with the Delta test (Lejaeghere et al. 2016):
    V0 11.9511 Å³/atom, B0 141.335 GPa, B′ 4.86."""
    (delta,) = [s for s in structure_sets() if s.name == "delta-dcdft"]
    structures = {label: (atoms, reference) for label, atoms, reference in delta.build()}
    assert len(structures) == 71 and delta.name == "delta-dcdft"
    atoms, reference = structures["Cu"]
    assert atoms.get_chemical_formula() == "Cu4"
    assert reference == {
        "source": "WIEN2k PBE (Delta test, ase.collections.dcdft)",
        "v0_a3_per_atom": pytest.approx(11.9511, abs=5e-5),
        "b0_gpa": pytest.approx(141.335, abs=5e-4),
        "b0_prime": pytest.approx(4.86, abs=5e-3),
    }


def test_a_percentage_is_compared_as_shown():
    """2 digits as a percentage show one decimal (5.7%), so 0.0567 reads 0.057; as a
    plain number it would read 0.06."""
    assert metric(LOWER, percent=True, digits=2).shown(0.0567) == pytest.approx(0.057, abs=1e-15)
    assert metric(LOWER, digits=2).shown(0.0567) == 0.06


def test_the_registry_evaluates_with_the_reference_it_is_given():
    from compute.tasks import evaluate

    volumes = [8.0, 9.0, 10.0, 11.0, 12.0]
    output = {
        "volumes_a3": volumes,
        "energies_ev": [(v - 10) ** 2 for v in volumes],
        "v0_a3_per_atom": 10.0,
        "b0_gpa": 100.0,
        "b0_prime": 4.0,
    }
    reference = {"v0_a3_per_atom": 10.0, "b0_gpa": 125.0, "b0_prime": 4.0}
    assert evaluate("eos", output, reference)["b0_rel_error"] == pytest.approx(-0.2, abs=1e-15)
    assert "b0_rel_error" not in evaluate("eos", output, None)


def test_groups_hold_every_ranked_metric_once_and_units_name_real_parameters():
    from compute.tasks.eos import TASK as EOS
    from compute.tasks.spec import MetricGroup, Parameter, TaskSpec

    assert [g.title for g in EOS.metric_groups] == ["Physical soundness", "Accuracy against DFT"]
    assert EOS.parameter_unit("fmax") == "eV/Å" and EOS.parameter_unit("optimizer") == ""
    soundness = EOS.metric_groups[0]
    with pytest.raises(ValueError, match="groups must hold each ranked metric once"):
        TaskSpec(name="t", title="t", description="", run=EOS.run, metrics=EOS.metrics,
                 groups=(soundness,))  # fmt: skip
    with pytest.raises(ValueError, match=r"declares parameters run lacks: \['fmaxx'\]"):
        TaskSpec(name="t", title="t", description="", run=EOS.run,
                 parameters=(Parameter("fmaxx", "eV/Å"),))  # fmt: skip
    assert TaskSpec(name="t", title="t", description="", run=EOS.run).metric_groups == ()
    assert isinstance(soundness, MetricGroup)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"fmax": 0}, "fmax must be > 0, not 0"),
        ({"fmax": -1}, "fmax must be > 0, not -1"),
        ({"steps": -1}, "steps must be >= 0, not -1"),
        ({"npoints": 4}, "npoints must be >= 5, not 4"),
        ({"min_volume_factor": 1.0}, "min_volume_factor must be > 0 and < 1"),
        ({"min_volume_factor": 0.0}, "min_volume_factor must be > 0 and < 1"),
        ({"max_volume_factor": 1.0}, "max_volume_factor must be > 1"),
        ({"fmax": float("nan")}, "fmax must be finite, not nan"),
        ({"fmax": float("inf")}, "fmax must be finite, not inf"),
    ],
)
def test_parameters_out_of_their_range_or_not_finite_are_refused_by_name(params, message):
    from compute.tasks.eos import TASK as EOS

    with pytest.raises(TaskFailed, match=re.escape(message)):
        EOS.check_params(params)


def test_parameters_on_their_bounds_pass_and_lists_are_checked_for_finite_numbers():
    from compute.tasks.eos import TASK as EOS
    from compute.tasks.speed import TASK as SPEED

    EOS.check_params({"fmax": 1e-6, "steps": 1, "npoints": 5, "min_volume_factor": 0.5,
                      "max_volume_factor": 1.01})  # fmt: skip
    with pytest.raises(TaskFailed, match="repeats_per_side must be finite"):
        SPEED.check_params({"repeats_per_side": [1, float("nan")]})


def test_a_protocol_default_outside_its_own_range_is_a_definition_error():
    from compute.tasks.eos import TASK as EOS
    from compute.tasks.spec import Parameter, TaskSpec

    with pytest.raises(ValueError, match="default fmax must be > 1"):
        TaskSpec(name="t", title="t", description="", run=EOS.run,
                 parameters=(Parameter("fmax", "eV/Å", above=1),))  # fmt: skip


@pytest.mark.parametrize(
    ("task", "params", "message"),
    [
        ("nve", {"steps": 0}, "steps must be >= 1, not 0"),
        ("nve", {"timestep_fs": -1.0}, "timestep_fs must be > 0, not -1.0"),
        ("nve", {"drop_fraction": 1.0}, "drop_fraction must be >= 0 and < 1, not 1.0"),
        ("heating", {"end_k": 0.0}, "end_k must be > 0, not 0.0"),
        ("heating", {"max_temperature_ratio": 1.0}, "max_temperature_ratio must be > 1"),
        ("speed", {"repeats": 0}, "repeats must be >= 1, not 0"),
        ("speed", {"max_seconds_per_call": 0}, "max_seconds_per_call must be > 0, not 0"),
    ],
)
def test_dynamics_and_speed_parameters_are_checked_before_planning(task, params, message):
    from compute.tasks import TASKS

    with pytest.raises(TaskFailed, match=re.escape(message)):
        TASKS[task].check_params(params)
    TASKS[task].check_params(TASKS[task].variants.get("short", {}))  # the variants pass
