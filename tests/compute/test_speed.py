"""The speed task against synthetic costs: a calculator that takes a known time per atom
on a scripted clock (the protocol's clock advances by the call's cost, so every figure is
a hand computation and no test depends on the machine's load), the exponent of a known
power law, and each reason a size series stops."""

from __future__ import annotations

import importlib.metadata
import platform
import sys
from types import SimpleNamespace

import ase
import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT

from compute.errors import TaskFailed
from compute.run_context import RunContext
from compute.structure_sets.md_cells import CELLS, md_cells
from compute.structure_sets.speed_seeds import speed_seeds
from compute.tasks.speed import evaluate, protocol
from compute.tasks.speed.protocol import run, scaling_exponent, time_calls

COPPER = bulk("Cu", "fcc", a=3.61, cubic=True)  # 4 atoms: n × n × n holds 4 n³


class Clock:
    now = 0.0

    def perf_counter(self) -> float:
        return self.now


CLOCK = Clock()


@pytest.fixture(autouse=True)
def scripted_clock(monkeypatch):
    """The protocol reads CLOCK, which a Costs call advances by its cost."""
    monkeypatch.setattr(protocol, "time", SimpleNamespace(perf_counter=CLOCK.perf_counter))


class Costs(Calculator):
    """Zero energy, forces and stress after ``us_per_atom`` µs per atom on CLOCK; fails
    with ``fails`` (an exception) on cells above ``fails_above`` atoms."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, us_per_atom=1.0, fails_above=None, fails=None, device=None):
        super().__init__()
        self.us_per_atom, self.fails_above, self.fails = us_per_atom, fails_above, fails
        self.calls, self.told = [], []
        if device is not None:
            self.device = device

    def calculate(self, atoms=None, properties=("energy",), system_changes=None):
        super().calculate(atoms, properties, system_changes or [])
        self.calls.append((len(atoms), tuple(properties)))
        self.told.append(system_changes)  # None: not told what changed
        if self.fails_above is not None and len(atoms) > self.fails_above:
            raise self.fails
        CLOCK.now += self.us_per_atom * 1e-6 * len(atoms)
        self.results = {"energy": 0.0, "forces": np.zeros((len(atoms), 3)), "stress": np.zeros(6)}


def test_the_exponent_of_a_known_power_law():
    natoms = [32, 108, 256, 500]
    assert scaling_exponent(natoms, [7.0 * n**-1.5 for n in natoms]) == pytest.approx(
        1.5, rel=1e-12
    )
    assert scaling_exponent([10, 1000], [2.0, 2.0]) == pytest.approx(0.0, abs=1e-12)
    assert scaling_exponent([32], [10.0]) is None


def test_every_call_is_made_and_timed_with_what_the_model_implements():
    costs = Costs()
    seconds = time_calls(COPPER, costs, warmup=2, repeats=3)
    assert len(seconds) == 3 and all(s >= 0 for s in seconds)
    assert costs.calls == [(4, ("energy", "forces", "stress"))] * 5  # 2 untimed, 3 timed
    assert costs.told == [all_changes] * 5  # everything changed: no call reuses a cache
    # A real model recomputes everything on each timed call: EMT's own numbers come out.
    rattled = COPPER.copy()
    rattled.rattle(0.05, seed=1)
    emt = EMT()
    time_calls(rattled, emt, warmup=1, repeats=1)
    fresh = EMT()
    assert emt.results["energy"] == pytest.approx(fresh.get_potential_energy(rattled), abs=1e-12)
    assert np.allclose(emt.results["stress"], fresh.get_stress(rattled), rtol=0, atol=1e-12)
    costs = Costs(us_per_atom=2000.0)  # 8 ms for 4 atoms
    costs.implemented_properties = ["energy", "forces"]
    seconds = time_calls(COPPER, costs, warmup=0, repeats=2)
    assert costs.calls == [(4, ("energy", "forces"))] * 2
    assert seconds == pytest.approx([0.008, 0.008], rel=1e-9)


def test_time_per_atom_and_exponent_of_a_linear_cost():
    reported = []
    context = RunContext(on_progress=lambda d, t: reported.append((d, t)), progress_seconds=0.0)
    output = run(
        COPPER,
        Costs(us_per_atom=100.0),
        repeats_per_side=[1, 2, 3],
        warmup=1,
        repeats=3,
        context=context,
    )
    sizes = output["sizes"]
    assert [s["natoms"] for s in sizes] == [4, 32, 108]
    assert output["largest_natoms"] == 108 and output["stopped"] == "every size ran"
    # 100 µs/atom on every size, so time ∝ N: an exponent of exactly 1.
    assert output["us_per_atom_step"] == pytest.approx(100.0, rel=1e-9)
    assert output["scaling_exponent"] == pytest.approx(1.0, abs=1e-9)
    for size in sizes:
        assert size["seconds_min"] <= size["seconds_per_call"]
        assert size["steps_per_second"] == pytest.approx(1 / size["seconds_per_call"], rel=1e-12)
        assert size["us_per_atom_step"] == pytest.approx(
            1e6 * size["seconds_per_call"] / size["natoms"], rel=1e-12
        )
    assert output["steps_per_second_largest"] == sizes[-1]["steps_per_second"]
    assert output["us_per_atom_step"] == sizes[-1]["us_per_atom_step"]
    assert reported == [(1, 3), (2, 3), (3, 3)]
    assert evaluate(output, None) == {
        "us_per_atom_step": output["us_per_atom_step"],
        "scaling_exponent": output["scaling_exponent"],
    }


def test_the_default_sizes_run_n_from_2_to_16():
    output = run(COPPER, Costs(), warmup=0, repeats=1)
    sides = [2, 3, 4, 5, 6, 8, 10, 13, 16]  # the task's description: n from 2 up to 16
    assert [s["natoms"] for s in output["sizes"]] == [4 * n**3 for n in sides]


@pytest.mark.parametrize(
    ("params", "calculator", "stopped", "sizes"),
    [
        ({"max_natoms": 108}, Costs(), "every size ran", 3),  # at the cap: still runs
        ({"max_natoms": 107}, Costs(), "108 atoms is above max_natoms 107", 2),
        ({}, Costs(fails_above=40, fails=MemoryError()), "108 atoms did not fit in memory", 2),
        (
            {},
            Costs(fails_above=40, fails=RuntimeError("CUDA Out Of Memory. Tried to allocate")),
            "108 atoms did not fit in memory",
            2,
        ),
        # 32 atoms × 2 ms = 64 ms, above 30 ms: that size is kept, the next not tried.
        (
            {"max_seconds_per_call": 0.03},
            Costs(us_per_atom=2000.0),
            "one call on 32 atoms took 0.1 s",
            2,
        ),
    ],
)
def test_each_reason_to_stop(params, calculator, stopped, sizes):
    output = run(COPPER, calculator, repeats_per_side=[1, 2, 3], warmup=0, repeats=1, **params)
    assert output["stopped"] == stopped and len(output["sizes"]) == sizes


def test_one_size_has_no_exponent_and_none_is_an_error():
    assert (
        run(COPPER, Costs(), repeats_per_side=[1], warmup=0, repeats=1)["scaling_exponent"] is None
    )
    with pytest.raises(TaskFailed, match="no size ran: 4 atoms is above max_natoms 3"):
        run(COPPER, Costs(), repeats_per_side=[1], max_natoms=3)
    with pytest.raises(RuntimeError, match="the model broke"):  # not memory: raised
        run(
            COPPER,
            Costs(fails_above=0, fails=RuntimeError("the model broke")),
            repeats_per_side=[1],
        )


@pytest.mark.parametrize("params", [{"warmup": -1}, {"repeats": 0}, {"repeats_per_side": [2, 0]}])
def test_counts_below_their_minimum_are_refused(params):
    with pytest.raises(TaskFailed) as refused:
        run(COPPER, Costs(), **params)
    assert str(refused.value) == "warmup must be at least 0, repeats and every side at least 1"


def test_the_smallest_counts_run():
    calculator = Costs()
    output = run(COPPER, calculator, repeats_per_side=[1], warmup=0, repeats=1)
    assert len(calculator.calls) == 1 and output["sizes"][0]["natoms"] == 4


def test_the_environment_names_device_and_versions():
    import torch  # loaded, as a model's family would: its threads are recorded

    # A model whose calculator ships in an installed package (pytest stands in for one):
    # that package's version is stored too.
    packaged = type("PackagedCosts", (Costs,), {"__module__": "pytest.calculators"})
    output = run(COPPER, packaged(device="cuda:3"), repeats_per_side=[1], warmup=0, repeats=1)
    environment = output["environment"]
    assert environment["device"] == "cuda:3"
    assert environment["versions"] == {
        "ase": ase.__version__,
        "numpy": np.__version__,
        "pytest": importlib.metadata.version("pytest"),
        "torch": torch.__version__,
    }
    assert environment["torch_threads"] == torch.get_num_threads()
    assert environment["cuda_device"] == (
        torch.cuda.get_device_name() if torch.cuda.is_available() else None
    )
    assert environment["python"] == platform.python_version()
    assert environment["processor"] == (platform.processor() or platform.machine())
    # A calculator outside any installed package adds no version; no device means the CPU.
    plain = run(COPPER, Costs(), repeats_per_side=[1], warmup=0, repeats=1)["environment"]
    assert set(plain["versions"]) == {"ase", "numpy", "torch"} and plain["device"] == "cpu"


def test_without_torch_loaded_no_threads_or_cuda_device_are_recorded(monkeypatch):
    monkeypatch.delitem(sys.modules, "torch", raising=False)  # a process no model loaded it in
    environment = run(COPPER, Costs(), repeats_per_side=[1], warmup=0, repeats=1)["environment"]
    assert environment["torch_threads"] is None and environment["cuda_device"] is None


def test_the_speed_seeds_are_the_md_cells_crystals():
    # The seeds' lattice constants are the MD cells' (experimental) ones, one cubic cell each.
    table = {f"{formula}-{kind}": a for _, formula, kind, a, _ in CELLS}
    seeds = speed_seeds()
    assert [label for label, _, _ in seeds] == ["Cu-fcc", "Si-diamond", "MgO-rocksalt"]
    for label, atoms, info in seeds:
        assert info == {}
        assert np.allclose(atoms.cell.array, np.eye(3) * table[label], rtol=0, atol=1e-12)
        formula, kind = label.split("-")
        assert atoms == bulk(formula, kind, a=table[label], cubic=True)


def test_the_md_cells_are_the_tables_crystals_repeated():
    cells = md_cells()
    assert [label for label, _, _ in cells] == [row[0] for row in CELLS]
    for (label, atoms, info), (_, formula, kind, a, n) in zip(cells, CELLS, strict=True):
        assert info == {} and len(atoms) == int(label.rsplit("-", 1)[1])  # 108 or 216
        assert np.allclose(atoms.cell.array, np.eye(3) * a * n, rtol=0, atol=1e-12)
        assert atoms == bulk(formula, kind, a=a, cubic=True).repeat(n)
