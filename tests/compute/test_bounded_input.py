"""Input files are bounded before they are read: size, claimed atom counts, YAML expansion;
overlapping, dummy and non-finite atoms are refused naming the frame and atom."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

from compute import bounded_input
from compute.bounded_input import (
    MAX_ATOMS,
    MAX_YAML_NODES,
    InputTooLarge,
    check_file_size,
    check_xyz_atom_counts,
    safe_yaml,
)
from compute.structures import StructureFileError, read_structures

CELL = 'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"'


def alias_bomb(levels: int = 9) -> str:
    """Each level a list of nine aliases of the one before: 9**levels leaves."""
    lines = ['a0: &a0 ["lol"]']
    for level in range(1, levels + 1):
        items = ", ".join([f"*a{level - 1}"] * 9)
        lines.append(f"a{level}: &a{level} [{items}]")
    return "\n".join(lines) + "\n"


def test_a_header_claiming_a_trillion_atoms_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge.extxyz"
    path.write_text(f"1000000000000\n{CELL}\nCu 0 0 0\n")
    started = time.perf_counter()
    with pytest.raises(InputTooLarge) as error:
        read_structures(path)
    assert time.perf_counter() - started < 5  # ASE alone skips 10¹² lines one by one
    assert str(error.value) == (
        f"{path}: frame 1 claims 1000000000000 atoms; the limit is {MAX_ATOMS}"
    )


def test_a_later_frame_with_a_huge_count_is_named(tmp_path):
    path = tmp_path / "two.xyz"
    path.write_text(f"1\n{CELL}\nCu 0 0 0\n\n{MAX_ATOMS + 1}\n{CELL}\nCu 0 0 0\n")
    with pytest.raises(InputTooLarge, match=f"frame 2 claims {MAX_ATOMS + 1} atoms"):
        read_structures(path)


def test_a_file_over_the_size_limit_is_refused(tmp_path):
    path = tmp_path / "big.cif"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(InputTooLarge) as error:
        check_file_size(path, 1000)
    assert str(error.value) == f"{path}: 1001 bytes, more than the limit of 1000"


def write_frame(path: Path, rows: list[str], lattice: str = "4 0 0 0 4 0 0 0 4") -> Path:
    header = f'Lattice="{lattice}" Properties=species:S:1:pos:R:3 pbc="T T T"'
    path.write_text(f"{len(rows)}\n{header}\n" + "\n".join(rows) + "\n")
    return path


def test_overlapping_atoms_are_refused_naming_both(tmp_path):
    path = write_frame(tmp_path / "a.extxyz", ["Cu 0 0 0", "Cu 2 2 0", "Cu 2.1 2.1 0"])
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value) == (
        f"{path}: frame 1: atoms 1 and 2 are 0.141 Å apart, closer than 0.5 Å; they overlap"
    )


def test_an_atom_too_close_to_its_own_periodic_image_is_refused(tmp_path):
    path = write_frame(tmp_path / "a.extxyz", ["Cu 0 0 0"], lattice="0.3 0 0 0 4 0 0 0 4")
    with pytest.raises(StructureFileError, match="atoms 0 and 0 are 0.300 Å apart"):
        read_structures(path)


def test_a_dummy_atom_is_refused_with_its_index(tmp_path):
    path = write_frame(tmp_path / "a.extxyz", ["Cu 0 0 0", "X 2 2 2"])
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value) == f"{path}: frame 1: atom 1 is a dummy atom (X), not an element"


def test_a_non_finite_cell_is_refused(tmp_path):
    path = write_frame(tmp_path / "a.extxyz", ["Cu 0 0 0"], lattice="nan 0 0 0 4 0 0 0 4")
    with pytest.raises(StructureFileError) as error:
        read_structures(path)
    assert str(error.value) == f"{path}: frame 1 has a non-finite cell"


def test_a_yaml_alias_bomb_is_refused_before_it_expands():
    text = alias_bomb()
    assert len(text) < 600
    started = time.perf_counter()
    with pytest.raises(InputTooLarge) as error:
        safe_yaml(text, where="bomb.yaml")
    assert time.perf_counter() - started < 5
    assert str(error.value) == (
        f"bomb.yaml: its YAML expands to more than {MAX_YAML_NODES} values "
        "(aliases repeated inside aliases)"
    )


def test_a_few_aliases_are_still_yaml():
    text = "base: &b {fmax: 0.1}\nmodels: [*b, *b]\n"
    assert safe_yaml(text, where="ok.yaml") == yaml.safe_load(text)


def test_a_frame_of_exactly_the_limit_is_read_and_one_more_is_refused(tmp_path):
    path = write_frame(tmp_path / "a.extxyz", ["Cu 0 0 0", "Cu 2 2 0"])
    check_xyz_atom_counts(path, limit=2)
    with pytest.raises(InputTooLarge, match="frame 1 claims 2 atoms; the limit is 1"):
        check_xyz_atom_counts(path, limit=1)


def test_each_frame_header_is_found_after_exactly_its_atoms(tmp_path):
    """Frame 2 follows frame 1's comment and one atom line, with no blank line between:
    skipping one line too many would take frame 2's comment for its header."""
    path = tmp_path / "two.xyz"
    path.write_text(f"1\n{CELL}\nCu 0 0 0\n5\n{CELL}\nCu 0 0 0\n")
    with pytest.raises(InputTooLarge, match="frame 2 claims 5 atoms; the limit is 3"):
        check_xyz_atom_counts(path, limit=3)


def test_the_count_check_reads_bytes_so_any_encoding_is_left_to_the_reader(tmp_path):
    path = tmp_path / "latin1.xyz"
    path.write_bytes(b"1\ncaf\xe9\nCu 0 0 0\n")  # not UTF-8
    check_xyz_atom_counts(path, limit=1)


def test_yaml_of_exactly_the_node_limit_loads_and_one_value_more_is_refused(monkeypatch):
    """A list of n scalars is n + 1 nodes (the list itself)."""
    monkeypatch.setattr(bounded_input, "MAX_YAML_NODES", 10)
    assert safe_yaml(str([1] * 9), where="ok.yaml") == [1] * 9
    with pytest.raises(InputTooLarge, match="more than 10 values"):
        safe_yaml(str([1] * 10), where="big.yaml")
    nested = "a: &a [1, 1]\nb: [*a, *a]\n"  # 1 + (1 + 3) + (1 + 1 + 3 + 3) = 13 nodes
    monkeypatch.setattr(bounded_input, "MAX_YAML_NODES", 13)
    assert safe_yaml(nested, where="ok.yaml") == {"a": [1, 1], "b": [[1, 1], [1, 1]]}
    monkeypatch.setattr(bounded_input, "MAX_YAML_NODES", 12)
    with pytest.raises(InputTooLarge, match="more than 12 values"):
        safe_yaml(nested, where="big.yaml")


def test_a_file_of_exactly_the_size_limit_is_read(tmp_path):
    path = tmp_path / "edge.cif"
    path.write_bytes(b"x" * 1000)
    check_file_size(path, 1000)


def test_the_yaml_byte_limit_counts_encoded_bytes_and_takes_exactly_the_limit(monkeypatch):
    monkeypatch.setattr(bounded_input, "MAX_YAML_BYTES", 10)
    assert safe_yaml("é" * 5, where="ok.yaml") == "é" * 5  # 5 characters, 10 bytes
    with pytest.raises(InputTooLarge) as refused:
        safe_yaml("é" * 5 + "a", where="big.yaml")  # 6 characters, 11 bytes
    assert str(refused.value) == "big.yaml: more than 10 bytes of YAML"
