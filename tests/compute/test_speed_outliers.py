"""The speed task's statistics on call times with outliers, as real models give them: a
slow first call (compilation, caches), a pause (garbage collection, another process), a
call faster than the rest. A calculator that always takes the same time cannot tell a
median from a mean or a minimum; these can.

Time is scripted: each call advances a clock the protocol reads, by the time listed for
it, so every figure below is a hand computation, exact to float rounding.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.calculator import Calculator

from compute.tasks.speed import protocol

COPPER = bulk("Cu", "fcc", a=3.61, cubic=True)  # 4 atoms; repeated twice per side, 32
COST_S_PER_ATOM = 1e-5  # 10 µs per atom and call: 40 µs on 4 atoms, 320 µs on 32
PAUSE_S = 0.05  # one pause per size, the same whatever its atoms
WARMUP_S = 2.0  # each warm-up call: compiling, never timed


class Clock:
    now = 0.0

    def perf_counter(self) -> float:
        return self.now


class Scripted(Calculator):
    """Each size: two slow warm-up calls, then five timed ones of c·N × (1, ½, 1, 1, 1)
    with a constant pause after the fourth."""

    implemented_properties = ["energy", "forces", "stress"]

    def __init__(self, clock: Clock):
        super().__init__()
        self.clock, self.calls = clock, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=None):
        cost = COST_S_PER_ATOM * len(atoms)
        script = [WARMUP_S, WARMUP_S, cost, cost / 2, cost, cost + PAUSE_S, cost]
        self.clock.now += script[self.calls % len(script)]
        self.calls += 1
        self.results = {"energy": 0.0, "forces": np.zeros((len(atoms), 3)), "stress": np.zeros(6)}


@pytest.fixture
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(protocol, "time", SimpleNamespace(perf_counter=clock.perf_counter))
    return clock


def test_outliers_leave_the_median_the_minimum_and_the_exponent_where_they_belong(clock):
    """Per size the timed calls are x, x/2, x, x + 0.05 s, x with x = 10 µs × N: median x,
    minimum x/2 (the mean, 0.7 x + 10 ms, would be 25 to 250 times x). So 10 µs/atom
    on both sizes, steps/s = 1/x, and time ∝ N: an exponent of exactly 1. The pause is
    above max_seconds_per_call (10 ms), the median is not: the series goes on."""
    calculator = Scripted(clock)
    output = protocol.run(
        COPPER, calculator, repeats_per_side=[1, 2], warmup=2, repeats=5, max_seconds_per_call=0.01
    )
    assert calculator.calls == 2 * 7
    assert output["stopped"] == "every size ran"
    for size, natoms in zip(output["sizes"], [4, 32], strict=True):
        per_call = COST_S_PER_ATOM * natoms
        assert size["natoms"] == natoms
        assert size["seconds_per_call"] == pytest.approx(per_call, rel=1e-9)
        assert size["seconds_min"] == pytest.approx(per_call / 2, rel=1e-9)
        assert size["steps_per_second"] == pytest.approx(1 / per_call, rel=1e-9)
        assert size["us_per_atom_step"] == pytest.approx(10.0, rel=1e-9)
    assert output["us_per_atom_step"] == pytest.approx(10.0, rel=1e-9)
    assert output["scaling_exponent"] == pytest.approx(1.0, abs=1e-9)


def test_a_series_stops_when_the_median_call_not_one_pause_is_too_slow(clock):
    """With 32 atoms' median at 320 µs and max_seconds_per_call 100 µs, the series stops
    after that size (it ran, and is kept); the 4 atoms' median, 40 µs, goes on
    although its pause took 50 ms."""
    output = protocol.run(
        COPPER,
        Scripted(clock),
        repeats_per_side=[1, 2, 3],
        warmup=2,
        repeats=5,
        max_seconds_per_call=1e-4,
    )
    assert [s["natoms"] for s in output["sizes"]] == [4, 32]
    # The message rounds to 0.1 s, as fits the default limit of 20 s.
    assert output["stopped"] == "one call on 32 atoms took 0.0 s"
