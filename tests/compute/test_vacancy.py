"""The vacancy task against independent references: ASE's own climbing-image NEB on EMT
copper, an analytic saddle, hand-counted supercells, and a resumed run against an
unbroken one."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.calculator import Calculator, all_changes
from ase.calculators.emt import EMT
from ase.filters import FrechetCellFilter
from ase.mep import NEB, NEBTools
from ase.optimize import FIRE

from compute.errors import TaskFailed
from compute.run_context import CheckpointFile, RunContext
from compute.tasks import TASKS, run_task
from compute.tasks.vacancy.metrics import evaluate
from compute.tasks.vacancy.neb import climbing_image_neb
from compute.tasks.vacancy.protocol import hop_partner, repeats_for
from compute.tasks.vacancy.references import crystal, structures


class BreaksAt(EMT):
    """EMT (with stress) until call ``calls``, then NaN energies or a RuntimeError."""

    def __init__(self, calls: int, how: str) -> None:
        super().__init__()
        self.calls, self.how, self.made = calls, how, 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        self.made += 1
        if self.made > self.calls and self.how == "raise":
            raise RuntimeError("the model gave up")
        super().calculate(atoms, properties, system_changes)
        if self.made > self.calls:
            self.results["energy"] = float("nan")


SHORT = TASKS["vacancy"].variant_params("short")  # 2×2×2 cubic cells (32 sites), 5 images
CU_A = 3.61  # Å, near EMT's 3.59: the cell relaxation has work to do


def cu_cell() -> Atoms:
    return bulk("Cu", "fcc", a=CU_A, cubic=True)


@pytest.fixture(scope="module")
def short_cu() -> dict:
    return run_task("vacancy", cu_cell(), EMT(), SHORT)


def ase_reference(fmax: float = 0.01) -> tuple[float, float, float]:
    """Formation energy, barrier and the initial state's energy, by ASE alone: FIRE to a
    tighter fmax than the protocol's BFGS at 0.05 eV/Å."""
    pristine = cu_cell() * (2, 2, 2)
    pristine.calc = EMT()
    FIRE(FrechetCellFilter(pristine), logfile=None).run(fmax=fmax, steps=2000)
    n, e_n = len(pristine), pristine.get_potential_energy()
    initial, final = pristine.copy(), pristine.copy()
    del initial[0]  # atoms 1, 2, ...: site 1's atom at index 0
    del final[1]  # atoms 0, 2, ...: it has hopped into site 0
    images = [initial] + [initial.copy() for _ in range(3)] + [final]
    for image in images:
        image.calc = EMT()
    for end in (initial, final):
        FIRE(end, logfile=None).run(fmax=fmax, steps=2000)
    neb = NEB(images, climb=True, method="improvedtangent")
    neb.interpolate(method="idpp", mic=True)
    FIRE(neb, logfile=None).run(fmax=fmax, steps=2000)
    barrier, _ = NEBTools(images).get_barrier(fit=False)
    e_initial = initial.get_potential_energy()
    return e_initial - (n - 1) / n * e_n, barrier, e_initial


def test_emt_copper_matches_ases_own_climbing_image_neb(short_cu):
    formation, barrier, _ = ase_reference()
    assert short_cu["natoms"] == 32 and short_cu["repeats"] == [2, 2, 2]
    assert short_cu["relax_converged"] == [True, True, True] and short_cu["neb_converged"]
    # Two optimisations to fmax 0.05 and 0.01 eV/Å: residual forces that small leave
    # energies within a few meV (f² / 2k with k ~ 1 eV/Å² per coordinate).
    assert short_cu["vacancy_formation_ev"] == pytest.approx(formation, abs=0.005)
    assert short_cu["migration_barrier_ev"] == pytest.approx(barrier, abs=0.005)
    # EMT copper's own numbers (Jacobsen's fit: ~1.2 eV and ~0.8 eV in small cells).
    assert 1.0 < formation < 1.4 and 0.6 < barrier < 1.0


def test_a_symmetric_hop_peaks_at_the_middle_image(short_cu):
    assert short_cu["climbing_image"] == 2  # of images 0..4
    energies = short_cu["path_energy_ev"]
    assert energies[0] == 0.0 and max(energies) == energies[2]
    # Equivalent end states: equal to the end points' relaxation tolerance.
    assert short_cu["barrier_asymmetry"] < 1e-3
    assert abs(energies[-1]) < 1e-3
    assert energies[1] == pytest.approx(energies[3], abs=1e-3)  # the path is mirrored
    path = short_cu["path_a"]
    assert path[0] == 0.0 and all(b > a for a, b in zip(path, path[1:], strict=False))


class CurvedValley(Calculator):
    """One atom on E = Eb sin²(πx/d) + k (y − h sin(πx/d))²: minima at x = 0 and x = d,
    a saddle of exactly Eb at (d/2, h), and Eb + k h² on the straight line between."""

    implemented_properties = ["energy", "forces"]

    def __init__(self, eb: float = 0.5, k: float = 2.0, h: float = 0.6, d: float = 2.0):
        super().__init__()
        self.eb, self.k, self.h, self.d = eb, k, h, d

    def calculate(self, atoms=None, properties=("energy",), system_changes=all_changes):
        super().calculate(atoms, properties, system_changes)
        x, y, _ = self.atoms.positions[0]
        q = math.pi / self.d
        s, c = math.sin(q * x), math.cos(q * x)
        valley = y - self.h * s
        energy = self.eb * s * s + self.k * valley * valley
        dx = 2 * self.eb * s * c * q - 2 * self.k * valley * self.h * c * q
        dy = 2 * self.k * valley
        self.results = {"energy": energy, "forces": np.array([[-dx, -dy, 0.0]])}


def valley_atom(x: float) -> Atoms:
    atoms = Atoms("H", positions=[[x, 0.0, 5.0]], cell=[10, 10, 10], pbc=False)
    atoms.calc = CurvedValley()
    return atoms


@pytest.mark.parametrize("n_images", [6, 7])
def test_the_neb_finds_an_analytic_saddle_off_the_straight_line(n_images):
    # 6 images put none at the saddle by symmetry: only the climbing image reaches it.
    result = climbing_image_neb(
        valley_atom(0.0), valley_atom(2.0), CurvedValley(), n_images=n_images,
        fmax=0.01, steps=1000, interpolation="linear",
    )  # fmt: skip
    assert result.converged
    barrier = max(result.energies_ev) - result.energies_ev[0]
    # Straight line: 0.5 + 2 × 0.36 = 1.22 eV. A force of 0.01 eV/Å leaves the climbing
    # image within 0.01 / (2π²·0.5/4) ≈ 4 mÅ of the saddle: energy error below 1e-4 eV.
    assert barrier == pytest.approx(0.5, abs=1e-4)
    top = result.images[result.climbing_image].positions[0]
    assert top[:2] == pytest.approx([1.0, 0.6], abs=0.01)


def test_a_killed_neb_resumes_where_an_unbroken_one_ends(tmp_path, short_cu):
    checkpoints = CheckpointFile(tmp_path / "vacancy.json")
    context = RunContext(checkpoints=checkpoints, checkpoint_seconds=0.0)
    relax_calls = 12  # three relaxations of 2 BFGS steps, and the frozen end points
    with pytest.raises(TaskFailed, match=r"^NEB: the model failed at step 6: the model gave up"):
        run_task("vacancy", cu_cell(), BreaksAt(relax_calls + 3 * 6 + 1, "raise"), SHORT, context)
    saved = checkpoints.load()
    assert saved["neb"]["step"] == 5 and saved["end_points"]["relax_steps"] == [2, 2, 2]
    counting = BreaksAt(10**9, "raise")
    resumed = run_task("vacancy", cu_cell(), counting, SHORT, context)
    assert resumed["resumed_from_step"] == saved["neb"]["step"]
    # Only the NEB's remaining steps were computed: 3 moving images a step, from the
    # saved step's positions on, and each end point's energy and forces once.
    assert counting.made == 3 * (resumed["neb_steps"] - resumed["resumed_from_step"] + 1) + 2
    assert resumed["neb_steps"] == short_cu["neb_steps"]
    for key in ("migration_barrier_ev", "vacancy_formation_ev", "barrier_asymmetry"):
        assert resumed[key] == pytest.approx(short_cu[key], abs=1e-9)
    assert resumed["path_a"] == pytest.approx(short_cu["path_a"], abs=1e-9)


@pytest.mark.parametrize(
    ("breaks_at", "message"),
    [(0, r"^pristine relaxation: non-finite energy or forces at step 0$"),
     (12 + 3 * 6, r"^NEB: non-finite energy at step 6$")],  # as in the resume test
)  # fmt: skip
def test_a_model_that_breaks_is_a_failure_naming_the_stage_and_step(breaks_at, message):
    with pytest.raises(TaskFailed, match=message):
        run_task("vacancy", cu_cell(), BreaksAt(breaks_at, "nan"), SHORT)


@pytest.mark.parametrize(
    ("params", "message"),
    [({"repeats": [2, 2]}, "repeats must be three whole numbers of at least 1, not [2, 2]"),
     ({"repeats": [2, 0, 2]}, "repeats must be three whole numbers"),
     ({"optimizer": "LBFGS"}, "optimizer must be one of BFGS, FIRE, not 'LBFGS'"),
     ({"interpolation": "spline"}, "interpolation must be idpp or linear, not 'spline'"),
     ({"n_images": 2}, "n_images must be >= 3, not 2")],
)  # fmt: skip
def test_bad_parameters_are_one_line_before_any_work(params, message):
    calculator = BreaksAt(0, "raise")  # any model call would say so
    with pytest.raises(TaskFailed, match=re.escape(message)):
        run_task("vacancy", cu_cell(), calculator, params)
    assert calculator.made == 0


def test_the_protocol_repeats_cells_as_counted_by_hand():
    assert repeats_for(cu_cell(), 100) == (3, 3, 3)  # 108 sites
    assert repeats_for(crystal("Mg", "hcp", 23.0), 100) == (3, 3, 2)  # MLIP Arena's 36
    assert repeats_for(bulk("Cu", "fcc", a=3.6), 100) == (5, 5, 5)  # 1 atom: n³ ≥ 100
    # Widths a, a, 2a, 2 atoms: L = 4a gives 4·4·2 = 32 cells (64 sites), L = 5a 5·5·3.
    tetragonal = Atoms("CuAu", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]],
                       cell=[3.0, 3.0, 6.0], pbc=True)  # fmt: skip
    assert repeats_for(tetragonal, 100) == (5, 5, 3)


def test_the_hop_is_to_a_nearest_neighbour_as_in_mlip_arena():
    mg = crystal("Mg", "hcp", 23.0)
    fcc, hcp = cu_cell() * (3, 3, 3), mg * (3, 3, 2)
    assert hop_partner(fcc) == 1 and hop_partner(hcp) == 1
    assert fcc.get_distance(0, 1, mic=True) == pytest.approx(CU_A / math.sqrt(2))
    assert hcp.get_distance(0, 1, mic=True) == pytest.approx(mg.cell.cellpar()[0])


def test_the_structure_sets_hold_the_pbe_tables():
    fcc = {s[0].removesuffix("-fcc-vacancy"): s for s in structures("fcc")}
    hcp = {s[0].removesuffix("-hcp-vacancy"): s for s in structures("hcp")}
    assert (len(fcc), len(hcp)) == (54, 55)  # 56 rows each, Co/Mn/Ni once (spin-polarised)
    _, cu, ref = fcc["Cu"]
    assert len(cu) == 4 and cu.get_volume() / 4 == pytest.approx(11.97)
    assert (ref["vacancy_formation_ev"], ref["migration_barrier_ev"]) == (1.07, 0.72)
    assert fcc["Ni"][2]["vacancy_formation_ev"] == 1.43  # Ni_mag's, not Ni's
    _, mg, ref = hcp["Mg"]
    a, _, c, *_ = mg.cell.cellpar()
    assert c / a == pytest.approx(math.sqrt(8 / 3)) and mg.get_volume() / 2 == pytest.approx(22.85)
    assert "migration_barrier_ev" not in hcp["Ar"][2]  # blank in the table


def test_metrics_are_errors_against_pbe_where_it_has_the_element():
    output = {"vacancy_formation_ev": 1.2, "migration_barrier_ev": 0.5,
              "barrier_asymmetry": 0.01, "neb_converged": False}  # fmt: skip
    metrics = evaluate(output, {"vacancy_formation_ev": 1.0, "migration_barrier_ev": 0.7})
    assert metrics["formation_error_ev"] == pytest.approx(0.2)
    assert metrics["barrier_error_ev"] == pytest.approx(-0.2)
    assert metrics["neb_not_converged"] == 1.0 and metrics["barrier_asymmetry"] == 0.01
    assert "barrier_error_ev" not in evaluate(output, {"vacancy_formation_ev": 1.0})
    assert set(evaluate(output, None)) == {"barrier_asymmetry", "neb_not_converged"}


def test_a_killed_fire_neb_resumes_with_its_velocities(tmp_path):
    params = {**SHORT, "optimizer": "FIRE"}
    counting = BreaksAt(10**9, "raise")
    unbroken = run_task("vacancy", cu_cell(), counting, params)
    # Die halfway through the NEB: its calls are the last 3 × (steps + 1).
    halfway = counting.made - 3 * (unbroken["neb_steps"] // 2)
    context = RunContext(checkpoints=CheckpointFile(tmp_path / "fire.json"), checkpoint_seconds=0)
    with pytest.raises(TaskFailed, match="^NEB: the model failed at step"):
        run_task("vacancy", cu_cell(), BreaksAt(halfway, "raise"), params, context)
    resumed = run_task("vacancy", cu_cell(), EMT(), params, context)
    assert 0 < resumed["resumed_from_step"] < unbroken["neb_steps"]
    assert resumed["neb_steps"] == unbroken["neb_steps"]
    assert resumed["path_a"] == pytest.approx(unbroken["path_a"], abs=1e-9)
    assert resumed["migration_barrier_ev"] == pytest.approx(
        unbroken["migration_barrier_ev"], abs=1e-9
    )
