"""Atoms as plain data, content hashes, structure sets as tasks declare them, and reading
structure files with clear errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from ase import Atoms
from ase.io import iread
from ase.neighborlist import neighbor_list

from compute.bounded_input import MAX_ATOMS, XYZ_FORMATS, check_file_size, check_xyz_atom_counts
from compute.errors import ComputeError, first_line

FILE_FORMATS = {".xyz": "extxyz", ".extxyz": "extxyz", ".cif": "cif", ".db": "db", ".json": "db"}
# No atomistic structure reaches this far; beyond it, squared distances overflow to inf.
MAX_COORDINATE_A = 1e5
# Closer than this, two nuclei are one atom typed twice (H₂'s bond is 0.74 Å).
MIN_DISTANCE_A = 0.5


class StructureFileError(ComputeError):
    """A structure file could not be read; the message names the frame or line."""


LabelledStructure = tuple[str, Atoms, dict[str, Any]]  # label, atoms, reference values


@dataclass(frozen=True)
class StructureSetSpec:
    """A structure set a task needs; ``build`` returns its structures in order."""

    name: str
    description: str
    build: Callable[[], list[LabelledStructure]]


def atoms_to_dict(atoms: Atoms) -> dict[str, Any]:
    """Plain, JSON-ready description: numbers, positions (Å), cell (Å), pbc."""
    return {
        "numbers": [int(z) for z in atoms.numbers],
        "positions": np.asarray(atoms.positions, dtype=float).round(10).tolist(),
        "cell": np.asarray(atoms.cell, dtype=float).round(10).tolist(),
        "pbc": [bool(p) for p in atoms.pbc],
    }


def atoms_from_dict(data: dict[str, Any]) -> Atoms:
    return Atoms(
        numbers=data["numbers"], positions=data["positions"], cell=data["cell"], pbc=data["pbc"]
    )


def structure_hash(data: dict[str, Any]) -> str:
    """Content hash of an atoms dict, stable across imports of the same structure."""
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def guess_format(path: Path) -> str | None:
    name = path.name.upper()
    if name.startswith(("POSCAR", "CONTCAR")) or path.suffix.lower() == ".vasp":
        return "vasp"
    return FILE_FORMATS.get(path.suffix.lower())


def read_structures(path: Path, file_format: str | None = None) -> list[Atoms]:
    """Every frame of ``path``; raises StructureFileError naming the frame at fault."""
    if not path.is_file():
        raise StructureFileError(f"{path}: no such file")
    file_format = file_format or guess_format(path)
    check_file_size(path)
    if file_format in XYZ_FORMATS:
        check_xyz_atom_counts(path)
    frames: list[Atoms] = []
    try:
        for frames_read, atoms in enumerate(iread(str(path), index=":", format=file_format)):
            _check_frame(atoms, frames_read + 1)
            frames.append(atoms)
    except StructureFileError as exc:
        raise StructureFileError(f"{path}: {exc}") from exc
    except Exception as exc:
        raise StructureFileError(
            f"{path}: frame {len(frames) + 1} could not be read ({first_line(exc)})"
        ) from exc
    if not frames:
        raise StructureFileError(f"{path}: no structures found")
    return frames


def _check_frame(atoms: Atoms, frame: int) -> None:
    if len(atoms) == 0:
        raise StructureFileError(f"frame {frame} has no atoms")
    if len(atoms) > MAX_ATOMS:
        raise StructureFileError(f"frame {frame} has {len(atoms)} atoms; the limit is {MAX_ATOMS}")
    dummies = np.flatnonzero(atoms.numbers <= 0)
    if dummies.size:
        raise StructureFileError(
            f"frame {frame}: atom {dummies[0]} is a dummy atom (X), not an element"
        )
    if not np.all(np.isfinite(atoms.positions)):
        raise StructureFileError(f"frame {frame} has non-finite positions")
    if not np.all(np.isfinite(atoms.cell.array)):
        raise StructureFileError(f"frame {frame} has a non-finite cell")
    if np.abs(atoms.positions).max() > MAX_COORDINATE_A or np.abs(atoms.cell).max() > (
        MAX_COORDINATE_A
    ):
        raise StructureFileError(
            f"frame {frame} has coordinates or cell vectors beyond {MAX_COORDINATE_A:g} Å"
        )
    if atoms.pbc.any() and abs(atoms.cell.volume) < 1e-6:
        raise StructureFileError(f"frame {frame} is periodic but its cell has zero volume")
    first, second, distance = _closest_pair(atoms)
    if distance < MIN_DISTANCE_A:
        raise StructureFileError(
            f"frame {frame}: atoms {first} and {second} are {distance:.3f} Å apart, closer "
            f"than {MIN_DISTANCE_A} Å; they overlap"
        )


def _closest_pair(atoms: Atoms) -> tuple[int, int, float]:
    """The closest two atoms (periodic images included) within MIN_DISTANCE_A, or inf."""
    first, second, distances = neighbor_list("ijd", atoms, MIN_DISTANCE_A, self_interaction=False)
    if not distances.size:
        return -1, -1, float("inf")
    at = int(np.argmin(distances))
    return int(first[at]), int(second[at]), float(distances[at])
