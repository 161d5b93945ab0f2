"""import_structures reads extxyz, CIF, POSCAR and ASE-db files; a bad file imports nothing."""

import numpy as np
import pytest
from ase.build import bulk
from ase.db import connect
from ase.io import write
from django.core.management import call_command
from django.core.management.base import CommandError

from compute.structures import atoms_from_dict
from tasks_app.models import Structure, StructureSet

pytestmark = pytest.mark.django_db

FRAMES = [bulk("Cu", "fcc", a=3.6), bulk("Si", "diamond", a=5.43), bulk("Fe", "bcc", a=2.87)]


def assert_same_structures(set_name, expected):
    stored = list(Structure.objects.filter(structure_set__name=set_name).order_by("position"))
    assert len(stored) == len(expected)
    for row, atoms in zip(stored, expected, strict=True):
        back = atoms_from_dict(row.atoms)
        assert row.formula == atoms.get_chemical_formula()
        assert list(back.numbers) == list(atoms.numbers)
        assert np.allclose(back.cell.cellpar(), atoms.cell.cellpar(), atol=1e-6)  # CIF rotates
        assert np.allclose(back.get_scaled_positions(), atoms.get_scaled_positions(), atol=1e-6)


@pytest.mark.parametrize("filename", ["frames.extxyz", "frames.xyz"])
def test_extxyz_imports_every_frame_with_its_info(tmp_path, filename):
    frames = [a.copy() for a in FRAMES]
    frames[0].info["label"] = "copper"
    frames[0].info["b0_gpa"] = 140.0
    path = tmp_path / filename
    write(path, frames, format="extxyz")
    call_command("import_structures", str(path), set_name="mine")
    assert_same_structures("mine", FRAMES)
    labels = list(
        Structure.objects.filter(structure_set__name="mine")
        .order_by("position")
        .values_list("label", flat=True)
    )
    assert labels == ["copper", "frames-1", "frames-2"]
    assert Structure.objects.get(label="copper").reference == {"b0_gpa": 140.0}


def test_cif_poscar_and_ase_db(tmp_path):
    write(tmp_path / "si.cif", FRAMES[1])
    write(tmp_path / "POSCAR", FRAMES[2], format="vasp")
    with connect(tmp_path / "set.db") as db:
        for atoms in FRAMES:
            db.write(atoms)
    call_command("import_structures", str(tmp_path / "si.cif"), set_name="cif")
    call_command("import_structures", str(tmp_path / "POSCAR"), set_name="poscar")
    call_command("import_structures", str(tmp_path / "set.db"), set_name="db")
    assert_same_structures("cif", [FRAMES[1]])
    assert_same_structures("poscar", [FRAMES[2]])
    assert_same_structures("db", FRAMES)


def test_reimporting_the_same_file_changes_nothing(tmp_path, capsys):
    path = tmp_path / "frames.extxyz"
    write(path, FRAMES, format="extxyz")
    call_command("import_structures", str(path), set_name="mine")
    call_command("import_structures", str(path), set_name="mine")
    assert capsys.readouterr().out.splitlines()[-1] == "set mine: 0 added or changed, 3 in total"


def test_a_broken_frame_imports_nothing_and_names_the_frame(tmp_path):
    path = tmp_path / "frames.extxyz"
    write(path, FRAMES, format="extxyz")
    lines = path.read_text().splitlines()
    # corrupt a coordinate of the second frame (Cu frame is 1 atom: 3 lines)
    lines[5] = lines[5].replace(lines[5].split()[1], "abc", 1)
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(CommandError) as error:
        call_command("import_structures", str(path), set_name="mine")
    assert "frame 2 could not be read" in str(error.value)
    assert "\n" not in str(error.value)
    assert not StructureSet.objects.filter(name="mine").exists()


def test_missing_and_empty_files_are_one_line_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        call_command("import_structures", str(tmp_path / "nope.cif"), set_name="x")
    (tmp_path / "empty.extxyz").write_text("")
    with pytest.raises(CommandError, match="empty.extxyz"):
        call_command("import_structures", str(tmp_path / "empty.extxyz"), set_name="x")
    assert not StructureSet.objects.exists()


def test_labels_come_from_label_then_name_then_the_file_name(tmp_path):
    frames = [a.copy() for a in FRAMES]
    frames[0].info["name"] = "by-name"
    frames[1].info["label"] = "by-label"
    frames[1].info["name"] = "ignored"
    path = tmp_path / "set.extxyz"
    write(path, frames, format="extxyz")
    call_command("import_structures", str(path), set_name="named")
    single = tmp_path / "one.extxyz"
    write(single, FRAMES[0], format="extxyz")
    call_command("import_structures", str(single), set_name="single")
    labels = Structure.objects.order_by("structure_set__name", "position").values_list(
        "structure_set__name", "label"
    )
    assert list(labels) == [
        ("named", "by-name"),
        ("named", "by-label"),
        ("named", "set-2"),
        ("single", "one"),
    ]


def test_a_format_the_name_does_not_tell_is_given_explicitly(tmp_path):
    path = tmp_path / "cell.txt"
    write(path, FRAMES[2], format="vasp")
    with pytest.raises(CommandError):
        call_command("import_structures", str(path), set_name="guessed")
    call_command("import_structures", str(path), set_name="given", file_format="vasp")
    assert_same_structures("given", [FRAMES[2]])


def stored_rows():
    return list(Structure.objects.order_by("pk").values())


def test_a_seeded_set_of_the_task_specs_is_never_replaced(tmp_path, seeded):
    before = stored_rows()
    copper = Structure.objects.get(structure_set__name="delta-dcdft", label="Cu")
    assert copper.reference  # the WIEN2k values every Δ is computed against
    path = tmp_path / "Cu.extxyz"
    write(path, bulk("Cu", "fcc", a=3.0), format="extxyz")
    with pytest.raises(CommandError) as error:
        call_command("import_structures", str(path), set_name="delta-dcdft")
    assert str(error.value) == (
        "structure set 'delta-dcdft' belongs to the task specs (seed_registry writes it, with "
        "its references); import into a set of another name"
    )
    assert stored_rows() == before


@pytest.mark.parametrize("name", ["", "   "])
def test_an_empty_set_name_is_refused(tmp_path, name):
    path = tmp_path / "Cu.extxyz"
    write(path, FRAMES[0], format="extxyz")
    with pytest.raises(CommandError, match="a structure set name needs 1 to 100 characters"):
        call_command("import_structures", str(path), set_name=name)
    assert not StructureSet.objects.exists()


def test_a_trillion_atom_header_is_one_line_and_stores_nothing(tmp_path):
    call_command("import_structures", str(write_one(tmp_path, FRAMES[0])), set_name="mine")
    before = stored_rows()
    path = tmp_path / "huge.extxyz"
    path.write_text('1000000000000\nLattice="4 0 0 0 4 0 0 0 4" pbc="T T T"\nCu 0 0 0\n')
    with pytest.raises(CommandError) as error:
        call_command("import_structures", str(path), set_name="mine")
    assert str(error.value) == f"{path}: frame 1 claims 1000000000000 atoms; the limit is 100000"
    assert stored_rows() == before


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ("Cu 0 0 0\nCu 0.2 0 0", "frame 1: atoms 0 and 1 are 0.200 Å apart"),
        ("Cu 0 0 0\nX 2 2 2", "frame 1: atom 1 is a dummy atom (X), not an element"),
    ],
)
def test_overlapping_and_dummy_atoms_store_nothing(tmp_path, rows, message):
    path = tmp_path / "bad.extxyz"
    path.write_text(f'2\nLattice="4 0 0 0 4 0 0 0 4" pbc="T T T"\n{rows}\n')
    with pytest.raises(CommandError) as error:
        call_command("import_structures", str(path), set_name="mine")
    assert message in str(error.value) and "\n" not in str(error.value)
    assert not StructureSet.objects.exists()


def write_one(tmp_path, atoms):
    path = tmp_path / "one.extxyz"
    write(path, atoms, format="extxyz")
    return path
