"""Atoms as plain data, their content hash, and what makes a structure file unreadable."""

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from ase import Atoms
from ase.build import bulk
from ase.io import write

from compute.structures import (
    StructureFileError,
    atoms_from_dict,
    atoms_to_dict,
    guess_format,
    read_structures,
    structure_hash,
)


def test_atoms_become_plain_rounded_data_and_come_back():
    atoms = Atoms(
        "CuAu",
        positions=[[0, 0, 0], [1.00000000004, 2.5, 1 / 3]],
        cell=[[3.60000000004, 0, 0], [0, 3.6, 0], [0, 0, 3.6]],
        pbc=[True, True, False],
    )
    data = atoms_to_dict(atoms)
    # Positions and cell rounded to 1e-10 Å, so that float noise gives the same hash.
    assert data == {
        "numbers": [29, 79],
        "positions": [[0.0, 0.0, 0.0], [1.0, 2.5, 0.3333333333]],
        "cell": [[3.6, 0.0, 0.0], [0.0, 3.6, 0.0], [0.0, 0.0, 3.6]],
        "pbc": [True, True, False],
    }
    assert json.loads(json.dumps(data)) == data
    back = atoms_from_dict(data)
    assert back.get_chemical_formula() == "AuCu"
    assert np.allclose(back.positions, atoms.positions, atol=1e-10)
    assert list(back.pbc) == [True, True, False]
    assert back.cell.volume == pytest.approx(3.6**3)
    assert atoms_to_dict(Atoms("H", cell=[1e-11, 1, 1]))["cell"][0] == [0.0, 0.0, 0.0]


def test_the_content_hash_is_sha256_of_the_sorted_json_and_ignores_key_order():
    """Stored keys and exports depend on it: it must stay the same across versions."""
    data = {"pbc": [True] * 3, "numbers": [29], "cell": [[1.0, 0, 0]], "positions": [[0.0] * 3]}
    expected = hashlib.sha256(
        b'{"cell": [[1.0, 0, 0]], "numbers": [29], "pbc": [true, true, true], '
        b'"positions": [[0.0, 0.0, 0.0]]}'
    ).hexdigest()
    assert structure_hash(data) == expected
    assert structure_hash(dict(reversed(list(data.items())))) == expected
    noisy = bulk("Cu", "fcc", a=3.6)
    noisy.positions += 1e-12
    assert structure_hash(atoms_to_dict(noisy)) == structure_hash(atoms_to_dict(bulk("Cu", a=3.6)))


@pytest.mark.parametrize(
    ("name", "file_format"),
    [
        ("POSCAR", "vasp"),
        ("CONTCAR_relaxed", "vasp"),
        ("poscar", "vasp"),
        ("Si.vasp", "vasp"),
        ("frames.xyz", "extxyz"),
        ("frames.EXTXYZ", "extxyz"),
        ("si.cif", "cif"),
        ("set.db", "db"),
        ("set.json", "db"),
        ("notes.txt", None),
    ],
)
def test_formats_are_guessed_from_the_file_name(name, file_format):
    assert guess_format(Path("/data") / name) == file_format


def test_an_explicit_format_wins_over_the_name(tmp_path):
    path = tmp_path / "cell.txt"
    write(path, bulk("Cu"), format="vasp")
    frames = read_structures(path, "vasp")
    assert [a.get_chemical_formula() for a in frames] == ["Cu"]


def write_xyz(path: Path, frames_text: list[str]) -> Path:
    path.write_text("".join(frames_text))
    return path


def frame(symbol: str, x: str, lattice: str = "3 0 0 0 3 0 0 0 3", pbc: str = "T T T") -> str:
    return f'1\nLattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="{pbc}"\n{symbol} {x} 0 0\n'


def test_a_frame_with_non_finite_positions_is_named(tmp_path):
    path = write_xyz(tmp_path / "a.extxyz", [frame("Cu", "0"), frame("Cu", "nan")])
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value) == f"{path}: frame 2 has non-finite positions"


def test_a_periodic_frame_with_a_flat_cell_is_named(tmp_path):
    path = write_xyz(tmp_path / "a.extxyz", [frame("Cu", "0", lattice="3 0 0 0 3 0 0 0 0")])
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value) == f"{path}: frame 1 is periodic but its cell has zero volume"


def test_a_small_cell_is_still_a_cell(tmp_path):
    path = write_xyz(tmp_path / "a.extxyz", [frame("H", "0", lattice="0.5 0 0 0 1 0 0 0 1")])
    (atoms,) = read_structures(path)
    assert atoms.cell.volume == pytest.approx(0.5)


def test_a_molecule_needs_no_cell(tmp_path):
    path = write_xyz(
        tmp_path / "a.extxyz", [frame("N", "0", lattice="0 0 0 0 0 0 0 0 0", pbc="F F F")]
    )
    (molecule,) = read_structures(path)
    assert not molecule.pbc.any()


def test_a_frame_without_atoms_is_named(tmp_path):
    path = write_xyz(
        tmp_path / "a.extxyz", [frame("Cu", "0"), '0\nLattice="3 0 0 0 3 0 0 0 3" pbc="T T T"\n']
    )
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value) == f"{path}: frame 2 has no atoms"


def test_unreadable_text_names_the_frame_and_the_library_error(tmp_path):
    path = write_xyz(tmp_path / "a.extxyz", [frame("Cu", "0"), frame("Cu", "abc")])
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value).startswith(f"{path}: frame 2 could not be read (ValueError: ")
    assert "\n" not in str(error.value)


def test_missing_and_empty_files(tmp_path):
    with pytest.raises(StructureFileError, match=r"nope\.xyz: no such file$"):
        read_structures(tmp_path / "nope.xyz")
    empty = tmp_path / "empty.db"
    from ase.db import connect

    connect(empty).count()  # an ASE database with no rows
    with pytest.raises(StructureFileError, match=r"empty\.db: no structures found$"):
        read_structures(empty)
