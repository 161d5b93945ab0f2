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
