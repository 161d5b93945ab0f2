"""Harmonic phonons with phonopy: the glue between an ASE calculator and phonopy.

phonopy does the physics (displacements, force constants, dynamical matrix, mesh,
DOS, thermal properties); seekpath gives the band path. Frequencies are phonopy's THz
(imaginary ones negative); thermal properties are phonopy's per mole of its primitive
cell, rescaled here to a mole of the cell phonopy was given.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import seekpath
from ase import Atoms
from ase.calculators.calculator import Calculator
from phonopy import Phonopy
from phonopy.phonon.mesh import MeshGRGridFallbackWarning
from phonopy.phonon.thermal_properties import GammaAcousticWarning
from phonopy.structure.atoms import PhonopyAtoms
from phonopy.structure.cells import PrimitiveMatrixAutoDefaultWarning

from compute.batch import default_batch_size, evaluate_batch, has_batch_call, raise_first_failure

ROOM_TEMPERATURE_K = 300.0
T_MAX_K, T_STEP_K = 1000.0, 10.0  # the C_V(T), S(T), F(T) curve kept in the output
ACOUSTIC_BRANCHES = 3
DECIMALS = 5  # curves are stored to 10 MHz


def supercell_matrix(atoms: Atoms, min_length_a: float) -> list[int]:
    """Diagonal multiples of ``atoms``' cell making every lattice vector ≥ ``min_length_a``."""
    return [max(1, math.ceil(min_length_a / length)) for length in atoms.cell.lengths()]


def phonopy_for(atoms: Atoms, multiples: list[int]) -> Phonopy:
    """A Phonopy object of ``atoms`` (its masses too) on a diagonal supercell."""
    unitcell = PhonopyAtoms(
        symbols=atoms.get_chemical_symbols(),
        cell=np.asarray(atoms.cell),
        scaled_positions=atoms.get_scaled_positions(),
        masses=atoms.get_masses(),
    )
    with warnings.catch_warnings():  # "auto" is meant: thermal values are rescaled
        warnings.simplefilter("ignore", PrimitiveMatrixAutoDefaultWarning)
        return Phonopy(unitcell, supercell_matrix=np.diag(multiples), primitive_matrix="auto")


def ase_atoms(cell: PhonopyAtoms) -> Atoms:
    return Atoms(cell.symbols, cell=cell.cell, scaled_positions=cell.scaled_positions, pbc=True)


def produce_force_constants(
    phonon: Phonopy,
    calculator: Calculator,
    displacement_a: float,
    on_force: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Displace by ``displacement_a`` Å, evaluate every displaced supercell (many per
    model call where the calculator has a batch call), build the force constants;
    returns how many supercells were evaluated. Residual forces of the relaxed cell
    cancel in phonopy's ± pairs (real, or images under a symmetry that maps +u to −u),
    so they are not subtracted."""
    phonon.generate_displacements(distance=displacement_a)
    supercells = [ase_atoms(cell) for cell in phonon.supercells_with_displacements]
    size = default_batch_size(calculator, supercells) if has_batch_call(calculator) else 1
    forces = []
    for start in range(0, len(supercells), size):
        chunk = supercells[start : start + size]
        evaluations = evaluate_batch(chunk, calculator, batch_size=size)
        labels = [f"displacement {start + i + 1} of {len(supercells)}" for i in range(len(chunk))]
        raise_first_failure(evaluations, labels)
        forces += [evaluation.forces for evaluation in evaluations]
        on_force(len(forces), len(supercells))
    phonon.forces = np.array(forces)
    # compact: primitive × supercell atoms, all phonopy needs (and N_prim/N_super the size)
    phonon.produce_force_constants(calculate_full_force_constants=False, show_drift=False)
    return len(forces)


def band_path_qpoints(
    phonon: Phonopy, npoints: int
) -> tuple[list[np.ndarray], list[str], list[bool]]:
    """seekpath's standard path as q-points of phonopy's primitive cell.

    seekpath gives them in its standardised (possibly rotated) primitive cell; they are
    turned to Cartesian, rotated back and read in phonopy's primitive reciprocal basis.
    """
    primitive = phonon.primitive
    path = seekpath.get_path(primitive.totuple(), symprec=phonon.symmetry.tolerance)
    to_ours = (
        np.asarray(path["reciprocal_primitive_lattice"])
        @ np.asarray(path["rotation_matrix"])
        @ np.asarray(primitive.cell).T
        / (2 * np.pi)
    )
    coords = {name: np.asarray(q) @ to_ours for name, q in path["point_coords"].items()}
    ends = path["path"]
    segments = [np.linspace(coords[start], coords[end], npoints) for start, end in ends]
    connections = [
        end == following for (_, end), (following, _) in zip(ends, ends[1:], strict=False)
    ]
    labels = [_label(ends[0][0])]
    for (_, end), (start, _), joined in zip(ends, ends[1:], connections, strict=False):
        labels.append(_label(end) if joined else f"{_label(end)}|{_label(start)}")
    labels.append(_label(ends[-1][1]))
    return segments, labels, [*connections, False]


def _label(name: str) -> str:
    return "Γ" if name == "GAMMA" else name.replace("_", "")


def _rounded(values: Any) -> Any:
    return np.round(np.asarray(values, dtype=float), DECIMALS).tolist()


def band_structure(phonon: Phonopy, npoints: int) -> dict[str, Any]:
    """Frequencies (THz) along the standard path: distance, a list of branches per q."""
    segments, labels, connections = band_path_qpoints(phonon, npoints)
    phonon.run_band_structure(segments, path_connections=connections)
    bands = phonon.band_structure
    distances = np.concatenate(bands.distances)
    ticks = [float(d[0]) for d in bands.distances] + [float(bands.distances[-1][-1])]
    return {
        "qpoints": np.concatenate(bands.qpoints),
        "frequencies": np.concatenate(bands.frequencies),
        "q_distance": _rounded(distances),
        "band_ticks": _rounded(ticks),
        "band_labels": labels,
    }


def lowest_frequencies(qpoints: np.ndarray, frequencies: np.ndarray) -> tuple[float, float]:
    """(the lowest frequency leaving out the acoustic modes at Γ, the largest |ν| of those
    acoustic modes), in THz, over q-points of one primitive cell."""
    at_gamma = np.all(np.isclose(qpoints - np.rint(qpoints), 0.0, atol=1e-8), axis=1)
    rest = [frequencies[~at_gamma].ravel()]
    acoustic = 0.0
    for row in frequencies[at_gamma]:
        order = np.argsort(np.abs(row))
        acoustic = max(acoustic, float(np.abs(row[order[:ACOUSTIC_BRANCHES]]).max()))
        rest.append(row[order[ACOUSTIC_BRANCHES:]])
    values = np.concatenate(rest)
    return (float(values.min()) if values.size else 0.0), acoustic


def phonon_properties(phonon: Phonopy, *, mesh: float, band_points: int) -> dict[str, Any]:
    """Bands, DOS, thermal properties and frequency extremes of ``phonon``'s force constants.

    Extensive values are per mole of phonopy's unit cell (the cell it was given).
    """
    per_unitcell = len(phonon.unitcell) / len(phonon.primitive)
    with warnings.catch_warnings():
        # Said per structure, and kept in the result instead: the grid phonopy chose is
        # ``mesh``, and the sum rule's violation at Γ is ``acoustic_gamma_thz``, a metric.
        warnings.simplefilter("ignore", MeshGRGridFallbackWarning)
        warnings.simplefilter("ignore", GammaAcousticWarning)
        phonon.run_mesh(mesh, is_gamma_center=True)
        phonon.run_total_dos()
        # Γ's acoustic modes are zero up to the sum rule's noise: left out, not summed as 0
        phonon.run_thermal_properties(
            t_min=0.0, t_max=T_MAX_K, t_step=T_STEP_K, exclude_gamma_acoustic=True
        )
    on_mesh = phonon.mesh
    dos = phonon.total_dos
    thermal = phonon.thermal_properties
    bands = band_structure(phonon, band_points)
    band_frequencies = bands.pop("frequencies")

    qpoints = np.concatenate([on_mesh.qpoints, bands.pop("qpoints")])
    frequencies = np.concatenate([on_mesh.frequencies, band_frequencies])
    lowest, acoustic = lowest_frequencies(qpoints, frequencies)
    temperatures = np.asarray(thermal.temperatures)
    at_room = int(np.argmin(np.abs(temperatures - ROOM_TEMPERATURE_K)))
    heat_capacity = np.asarray(thermal.heat_capacity) * per_unitcell
    entropy = np.asarray(thermal.entropy) * per_unitcell
    free_energy = np.asarray(thermal.free_energy) * per_unitcell
    return {
        "heat_capacity_300k": float(heat_capacity[at_room]),
        "entropy_300k": float(entropy[at_room]),
        "free_energy_300k": float(free_energy[at_room]),
        "max_frequency_thz": float(frequencies.max()),
        "min_frequency_thz": lowest,
        "acoustic_gamma_thz": acoustic,
        "mesh": [int(n) for n in phonon.mesh_numbers],
        "thermal": [
            {"temperature_k": float(t), "heat_capacity": c, "entropy": s, "free_energy": f}
            for t, c, s, f in zip(
                temperatures,
                _rounded(heat_capacity),
                _rounded(entropy),
                _rounded(free_energy),
                strict=True,
            )
        ],
        **bands,
        "frequencies_thz": _rounded(band_frequencies),
        "dos_thz": _rounded(dos.frequency_points),
        "dos": _rounded(np.asarray(dos.dos) * per_unitcell),
    }


def save_force_constants(phonon: Phonopy, path: Path) -> str:
    """Write phonopy's parameters with the force constants, xz-compressed; the file's name."""
    return Path(phonon.save(path, settings={"force_constants": True}, compression=True)).name
