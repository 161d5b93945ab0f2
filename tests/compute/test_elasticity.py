"""Elasticity task: the fitted tensor against central differences of EMT's stress, the
cubic and hexagonal patterns, EOS consistency, failures and the metrics by hand."""

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.calculators.emt import EMT
from ase.units import GPa

from compute.errors import TaskFailed
from compute.tasks import check_params, evaluate, run_task
from compute.tasks.elasticity.stiffness import moduli

# Voigt order of ASE's stress: xx, yy, zz, yz, xz, xy.
VOIGT_PAIRS = ((0, 0), (1, 1), (2, 2), (1, 2), (0, 2), (0, 1))


@pytest.fixture(scope="module")
def copper():
    """EMT fcc copper, one atom per cell: the task's output with the protocol's defaults."""
    return run_task("elasticity", bulk("Cu", "fcc", a=3.6), EMT(), {})


@pytest.fixture(scope="module")
def hcp_copper():
    return run_task("elasticity", bulk("Cu", "hcp", a=2.55), EMT(), {})


def central_difference_stiffness(cell: np.ndarray, h: float = 1e-4) -> np.ndarray:
    """C (GPa) by central differences of EMT's stress on a one-atom cell: column j is
    (σ(+h) − σ(−h)) / 2h under a small symmetric strain of engineering component j = h.
    A one-atom cell has nothing to relax at fixed cell (every site an inversion centre)."""

    def stress(strain: np.ndarray) -> np.ndarray:
        atoms = Atoms("Cu", cell=cell @ (np.eye(3) + strain), pbc=True)
        atoms.calc = EMT()
        return atoms.get_stress() / GPa

    stiffness = np.zeros((6, 6))
    for j, (k, m) in enumerate(VOIGT_PAIRS):
        strain = np.zeros((3, 3))
        strain[k, m] = strain[m, k] = h if k == m else h / 2  # engineering shear γ = 2ε
        stiffness[:, j] = (stress(strain) - stress(-strain)) / (2 * h)
    return stiffness


def test_cubic_constants_equal_central_differences_of_the_stress(copper):
    c = np.array(copper["c_ij_gpa"])
    spread = np.array(copper["c_ij_error_gpa"])
    reference = central_difference_stiffness(np.array(copper["relaxed_cell"]))
    # At h = 1e-4 the difference's own truncation (h² × fourth-order constants) is
    # ~1e-5 GPa. The fit over ±0.5 %, ±1 % is biased by the odd (third-order) curvature
    # of σ(ε): 1.42 times the spread of its central differences for a pure cubic term;
    # twice the spread leaves room for the next order (C11 here: 1.54 times).
    assert np.all(np.abs(c - reference) <= 2 * spread + 1e-6)
    c11, c12, c44 = reference[0, 0], reference[0, 1], reference[3, 3]
    assert (c11, c12, c44) == pytest.approx((172.62, 115.45, 89.92), abs=0.01)  # EMT Cu
    assert c[0, 0] == pytest.approx(c11, abs=2 * spread[0, 0])
    assert c[0, 1] == pytest.approx(c12, abs=2 * spread[0, 1])
    assert c[3, 3] == pytest.approx(c44, abs=2 * spread[3, 3])
    # The spread is small: the check is tight (below 0.2 % of each constant).
    assert spread[0, 0] < 0.01 and spread[0, 1] < 0.1 and spread[3, 3] < 0.2


def test_cubic_bulk_modulus_is_c11_plus_2_c12_over_3_and_matches_the_eos(copper):
    c = np.array(copper["c_ij_gpa"])
    # For a cubic tensor the Voigt and Reuss bounds coincide at (C11 + 2 C12) / 3; the
    # fitted tensor is cubic to pymatgen's 1e-10 zeroing and our 1e-6 rounding.
    assert copper["k_vrh_gpa"] == pytest.approx((c[0, 0] + 2 * c[0, 1]) / 3, rel=1e-8)
    assert copper["k_voigt_gpa"] == pytest.approx(copper["k_reuss_gpa"], rel=1e-8)
    # EOS over ±2 % of V (about ±0.7 % linear strain, as the strain stencil) from a
    # relaxation as tight: Birch–Murnaghan's B0 and the strain fit's K agree to the
    # stencils' nonlinear bias, 0.1 % here; held to 0.2 %.
    narrow = {"fmax": 1e-3, "min_volume_factor": 0.98, "max_volume_factor": 1.02}
    eos = run_task("eos", bulk("Cu", "fcc", a=3.6), EMT(), narrow)
    assert copper["k_vrh_gpa"] == pytest.approx(eos["b0_gpa"], rel=2e-3)
    # The EOS protocol's ±20 % of V: a third-order Birch–Murnaghan curve does not
    # follow EMT over that range and its B0 falls 1.2 % below K; held to 2 %.
    eos = run_task("eos", bulk("Cu", "fcc", a=3.6), EMT(), {})
    assert copper["k_vrh_gpa"] == pytest.approx(eos["b0_gpa"], rel=2e-2)


def test_hexagonal_tensor_has_the_hexagonal_pattern(hcp_copper):
    c = np.array(hcp_copper["c_ij_gpa"])
    e = np.array(hcp_copper["c_ij_error_gpa"])
    # The tolerances below come from the fit's own spread: it must itself be small (below
    # 0.2 % of C11), or a tensor whose entries sit in the wrong places would pass.
    assert e.max() < 0.4

    def same(a: tuple[int, int], b: tuple[int, int]) -> None:
        assert abs(c[a] - c[b]) <= 2 * (e[a] + e[b]) + 1e-6, (a, b, c[a], c[b])

    same((0, 0), (1, 1))  # C11 = C22
    same((0, 2), (1, 2))  # C13 = C23
    same((3, 3), (4, 4))  # C44 = C55
    c66_expected = (c[0, 0] - c[0, 1]) / 2
    assert abs(c[5, 5] - c66_expected) <= 2 * (e[5, 5] + (e[0, 0] + e[0, 1]) / 2)
    zero = np.ones((6, 6), dtype=bool)
    zero[:3, :3] = False
    zero[[3, 4, 5], [3, 4, 5]] = False
    assert np.all(np.abs(c[zero]) <= 2 * e[zero] + 1e-6)
    assert c[2, 2] > c[0, 0] + 10  # EMT's ideal-c/a hcp copper is stiffer along c
    assert hcp_copper["born_stable"] == 1
    assert hcp_copper["min_eigenvalue_gpa"] == pytest.approx(
        np.linalg.eigvalsh((c + c.T) / 2).min(), rel=1e-6
    )


def test_output_holds_the_tensor_its_fit_and_the_relaxed_cell(copper):
    assert np.array(copper["c_ij_gpa"]).shape == (6, 6)
    assert len(copper["strains_voigt"]) == len(copper["stresses_voigt_gpa"]) == 24
    # The relaxed cell is at zero stress (fmax 1e-3 eV/Å on the cell's virial).
    atoms = Atoms("Cu", cell=copper["relaxed_cell"], pbc=True)
    atoms.calc = EMT()
    assert np.abs(atoms.get_stress() / GPa).max() < 0.05
    # The RMS of what the tensor misses: the even (second-order) curvature of σ(ε),
    # about C111 ε² / 2 at 1 %: below 0.1 GPa, above zero.
    assert 0 < copper["fit_residual_gpa"] < 0.1


class RaisesAfterTenCalls(EMT):
    """EMT that raises on its eleventh evaluation: a model failing mid-protocol."""

    calls = 0

    def calculate(self, atoms=None, properties=("energy",), system_changes=()):
        self.calls += 1
        if self.calls > 10:
            raise RuntimeError("model exploded")
        super().calculate(atoms, properties, system_changes)


def test_failures_say_why():
    with pytest.raises(TaskFailed, match=r"^relaxation did not reach fmax 0.001 eV/Å in 1 steps$"):
        run_task("elasticity", bulk("Cu", "fcc", a=3.4), EMT(), {"steps": 1})
    overlap = Atoms("Cu2", positions=[[0, 0, 0], [0, 0, 0]], cell=[3, 3, 3], pbc=True)
    with np.errstate(all="ignore"), pytest.raises(TaskFailed, match="non-finite energy"):
        run_task("elasticity", overlap, EMT(), {})
    with pytest.raises(TaskFailed, match=r"amplitudes must be two or more distinct non-zero"):
        run_task("elasticity", bulk("Cu", "fcc", a=3.6), EMT(), {"amplitudes": [0.01, 0.01]})
    with pytest.raises(TaskFailed, match="fmax must be > 0"):
        check_params("elasticity", {"fmax": 0})


def test_a_model_raising_mid_protocol_propagates_its_error():
    # The job function records any such error as the job's failure with its first line.
    with pytest.raises(RuntimeError, match="model exploded"):
        run_task("elasticity", bulk("Cu", "fcc", a=3.6), RaisesAfterTenCalls(), {})


def test_metrics_against_the_reference_by_hand():
    output = {"k_vrh_gpa": 120.0, "g_vrh_gpa": 40.0, "born_stable": 0}
    reference = {"k_vrh_gpa": 100.0, "g_vrh_gpa": 50.0}
    metrics = evaluate("elasticity", output, reference)
    assert metrics == pytest.approx(
        {
            "k_error_gpa": 20.0,
            "k_rel_error": 0.2,
            "g_error_gpa": -10.0,
            "g_rel_error": -0.2,
            "unstable_share": 1.0,
        }
    )
    assert evaluate("elasticity", {**output, "born_stable": 1}, reference)["unstable_share"] == 0
    assert evaluate("elasticity", output, None) == {}  # an imported set: no reference
    assert evaluate("elasticity", output, {"b0_gpa": 1.0}) == {}
    singular = evaluate("elasticity", {**output, "k_vrh_gpa": None}, reference)
    assert "k_error_gpa" not in singular and singular["g_error_gpa"] == -10.0


def cubic_tensor(c11: float, c12: float, c44: float) -> np.ndarray:
    c = np.zeros((6, 6))
    c[:3, :3] = c12
    c[[0, 1, 2], [0, 1, 2]] = c11
    c[[3, 4, 5], [3, 4, 5]] = c44
    return c


def test_born_stability_is_the_sign_of_the_cubic_eigenvalues():
    # A cubic tensor's eigenvalues are C11 + 2 C12, C11 − C12 (twice) and C44 (three times).
    stable = moduli(cubic_tensor(170.0, 120.0, 75.0))
    assert stable["born_stable"] == 1
    assert stable["min_eigenvalue_gpa"] == pytest.approx(50.0)
    # Hill's average for a cubic crystal, by hand: G_V = (C11 − C12 + 3 C44) / 5 and
    # G_R = 5 (C11 − C12) C44 / (4 C44 + 3 (C11 − C12)).
    g_voigt, g_reuss = (50 + 225) / 5, 5 * 50 * 75 / (300 + 150)
    assert stable["g_vrh_gpa"] == pytest.approx((g_voigt + g_reuss) / 2)
    assert stable["k_vrh_gpa"] == pytest.approx((170 + 240) / 3)
    unstable = moduli(cubic_tensor(120.0, 170.0, 75.0))  # C11 < C12: a tetragonal shear
    assert unstable["born_stable"] == 0
    assert unstable["min_eigenvalue_gpa"] == pytest.approx(-50.0)
    singular = moduli(cubic_tensor(170.0, 120.0, 0.0))  # no resistance to shear
    assert singular["born_stable"] == 0 and singular["min_eigenvalue_gpa"] == pytest.approx(0)
    assert singular["k_vrh_gpa"] is None and singular["g_voigt_gpa"] == pytest.approx(10.0)
