"""The export's file format unit by unit, against rows and bytes written out by hand: the
card's front matter and version, flattened columns, provenance, JSON Lines, the folder."""

from __future__ import annotations

import pytest

from arena_site.errors import ArenaError
from compute.bounded_input import MAX_YAML_BYTES
from publishing.format import (
    RESULT_DICTS,
    board_path,
    card_metadata,
    check_repo_id,
    data_path,
    field_of,
    flat_row,
    format_version,
    is_managed,
    jsonl,
    managed_files,
    nested_row,
    portable_provenance,
    read_jsonl,
    stored_provenance,
    write_folder,
)


def test_the_card_front_matter_is_the_yaml_between_the_first_two_rulers():
    card = "---\nlicense: cc-by-4.0\nmlip_arena:\n  format_version: 2\n---\n# Title\n---\nx: 1\n"
    assert card_metadata(card) == {"license": "cc-by-4.0", "mlip_arena": {"format_version": 2}}
    assert card_metadata("# Title\n---\nx: 1\n---\n") == {}  # no front matter
    assert card_metadata(" ---\nx: 1\n---\n") == {}
    assert card_metadata("---\n- a list\n---\n") == {}  # front matter that is no mapping


def test_a_card_whose_front_matter_cannot_be_read_is_refused_in_one_line():
    with pytest.raises(ArenaError) as bad:
        card_metadata("---\nkey: [unclosed\n---\n")
    assert str(bad.value).startswith(
        "the dataset card's YAML cannot be read: while parsing a flow sequence"
    )
    assert "\n" not in str(bad.value)
    with pytest.raises(ArenaError, match="^the dataset card: more than 1048576 bytes of YAML$"):
        card_metadata("---\n" + "#" * (MAX_YAML_BYTES + 1) + "\n---\n")


@pytest.mark.parametrize(
    ("metadata", "version"),
    [
        ({}, 1),  # format 1 cards declared none
        ({"mlip_arena": {}}, 1),
        ({"mlip_arena": "2"}, 1),
        ({"mlip_arena": {"format_version": 1}}, 1),
        ({"mlip_arena": {"format_version": 2}}, 2),
    ],
)
def test_the_format_version_a_card_declares(metadata, version):
    assert format_version(metadata) == version


@pytest.mark.parametrize("declared", [3, 0, "2"])
def test_an_unknown_format_version_says_to_update_the_arena(declared):
    message = (
        f"export format {declared!r} is not known here (this arena reads 1 and 2); "
        "update the arena to import it"
    )
    with pytest.raises(ArenaError) as refused:
        format_version({"mlip_arena": {"format_version": declared}})
    assert str(refused.value) == message


def test_a_dataset_repo_is_org_slash_name():
    for good in ("my-lab/mlip-arena", "a_b.c/D.e-f_1", "x/y"):
        assert check_repo_id(good) == good
    for bad in ("results", "a/b/c", "a b/c", "/name", "org/", "", "org/name\n", "ü/x"):
        with pytest.raises(ArenaError) as refused:
            check_repo_id(bad)
        assert str(refused.value) == (
            f"bad dataset repo {bad!r}; write ORG/NAME, e.g. my-lab/mlip-arena"
        )
    with pytest.raises(ArenaError, match="^bad dataset repo None; "):
        check_repo_id(None)


def test_the_paths_of_a_task_s_files():
    assert (data_path("eos"), board_path("eos")) == ("data/eos.jsonl", "leaderboard/eos.jsonl")


def test_dict_fields_become_dotted_columns_and_come_back():
    row = {"key": "k1", "metrics": {"a": 1.5, "b": None}, "params": {}, "natoms": 2}
    flat = flat_row(row)
    assert flat == {"key": "k1", "metrics.a": 1.5, "metrics.b": None, "natoms": 2}
    assert nested_row(flat, ("metrics", "params")) == row
    # A dict field written whole (an older export) is read too; other columns pass through.
    assert nested_row({"metrics": {"a": 1}, "metrics.b": 2, "x.y": 3}, ("metrics",)) == {
        "metrics": {"a": 1, "b": 2},
        "x.y": 3,
    }


def test_provenance_travels_flat_without_the_process_id_and_comes_back():
    ran_with = {"host": "node7", "pid": 4242, "packages": {"ase": "3.23.0", "torch": "2.5"}}
    portable = portable_provenance(ran_with)
    assert portable == {"host": "node7", "packages.ase": "3.23.0", "packages.torch": "2.5"}
    assert stored_provenance(portable) == {
        "host": "node7",
        "packages": {"ase": "3.23.0", "torch": "2.5"},
    }
    # Values a stored provenance never holds are dropped, and the rest still read.
    odd = {"cores": 8, "list": [1], "seconds": 1.5, "gpu": None, "map": {"a": 1}, "os": "linux"}
    assert stored_provenance(odd) == {"cores": 8, "seconds": 1.5, "gpu": None, "os": "linux"}


def test_json_lines_are_flat_sorted_compact_utf8_and_finite():
    rows = [
        {"model": "MACE ü", "metrics": {"b": float("nan"), "a": 0.1}, "natoms": 2},
        {"model": "EMT", "metrics": {}},
    ]
    expected = '{"metrics.a":0.1,"metrics.b":null,"model":"MACE ü","natoms":2}\n{"model":"EMT"}\n'
    assert jsonl(rows) == expected.encode("utf-8")
    assert jsonl([]) == b""
    # A NaN that json_safe does not reach (inside a tuple) is refused, never written.
    with pytest.raises(ValueError, match="not JSON compliant"):
        jsonl([{"curve": (1.0, float("nan"))}])


def test_a_missing_field_names_the_file_and_the_field():
    assert field_of({"key": "k"}, "key", "data/eos.jsonl:3") == "k"
    with pytest.raises(ArenaError) as missing:
        field_of({}, "key", "data/eos.jsonl:3")
    assert str(missing.value) == (
        "data/eos.jsonl:3: the row has no 'key'; is this an export of export_hf?"
    )


def test_json_lines_read_back_with_their_line_numbers(tmp_path):
    (tmp_path / "data").mkdir()
    text = '{"key":"a","metrics.x":1.5}\n\n  \n{"key":"b","metrics":{"x":2}}\n'
    (tmp_path / "data" / "eos.jsonl").write_text(text, encoding="utf-8")
    assert read_jsonl(tmp_path, "data/eos.jsonl", RESULT_DICTS) == [
        (1, {"key": "a", "metrics": {"x": 1.5}} | {n: {} for n in RESULT_DICTS if n != "metrics"}),
        (4, {"key": "b", "metrics": {"x": 2}} | {n: {} for n in RESULT_DICTS if n != "metrics"}),
    ]


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{", "data/eos.jsonl:2 is not JSON (Expecting property name enclosed in double quotes)"),
        ('{"x": NaN}', "data/eos.jsonl:2: NaN is not a finite number; an export holds finite "
                       "numbers or null"),
        ('{"x": -Infinity}', "data/eos.jsonl:2: -Infinity is not a finite number; an export "
                             "holds finite numbers or null"),
        ('{"x": 1e999}', "data/eos.jsonl:2: 1e999 is not a finite number; an export holds "
                         "finite numbers or null"),
        ("[1, 2]", "data/eos.jsonl:2 is not a JSON object"),
        ('{"metrics": [1]}', "data/eos.jsonl:2: metrics must be a JSON object, not list"),
        ('{"output": 3}', "data/eos.jsonl:2: output must be a JSON object, not int"),
    ],
)  # fmt: skip
def test_a_bad_line_is_named_by_file_and_number(tmp_path, line, message):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eos.jsonl").write_text('{"key":"a"}\n' + line + "\n", encoding="utf-8")
    with pytest.raises(ArenaError) as refused:
        read_jsonl(tmp_path, "data/eos.jsonl", RESULT_DICTS)
    assert str(refused.value) == message


def test_a_file_that_cannot_be_read_is_named(tmp_path):
    with pytest.raises(ArenaError, match=rf"^cannot read data/eos.jsonl in {tmp_path}: .*"):
        read_jsonl(tmp_path, "data/eos.jsonl", ())
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "eos.jsonl").write_bytes(b'{"x": "\xff"}\n')
    with pytest.raises(ArenaError, match=rf"^cannot read data/eos.jsonl in {tmp_path}: .*utf-8"):
        read_jsonl(tmp_path, "data/eos.jsonl", ())


def test_only_the_card_and_the_top_level_jsonl_of_the_three_folders_are_managed():
    managed = ["README.md", "data/eos.jsonl", "leaderboard/arena.jsonl", "registry/models.jsonl"]
    others = [
        "readme.md", "README.md.bak", "docs/README.md", "data/eos.json", "data/sub/eos.jsonl",
        "other/eos.jsonl", "data/", "data", "eos.jsonl", "data/eos.jsonl/x",
    ]  # fmt: skip
    assert [p for p in managed + others if is_managed(p)] == managed


def test_writing_a_folder_changes_only_what_differs_and_deletes_stale_exports(tmp_path):
    folder = tmp_path / "new" / "export"  # made with its parents
    first = {"README.md": b"card", "data/eos.jsonl": b"1\n", "registry/models.jsonl": b"m\n"}
    assert write_folder(folder, first) == sorted(first)
    (folder / "data" / "notes.txt").write_text("mine")  # not the export's: left alone
    (folder / "extra").mkdir()
    (folder / "extra" / "x.jsonl").write_text("mine")
    second = {"README.md": b"card", "data/eos.jsonl": b"2\n", "leaderboard/eos.jsonl": b"r\n"}
    assert write_folder(folder, second) == [
        "data/eos.jsonl",
        "leaderboard/eos.jsonl",
        "registry/models.jsonl",
    ]
    assert managed_files(folder) == sorted(second)
    assert {p: (folder / p).read_bytes() for p in second} == second
    assert (folder / "data" / "notes.txt").read_text() == "mine"
    assert (folder / "extra" / "x.jsonl").read_text() == "mine"
    assert not (folder / "registry" / "models.jsonl").exists()
    assert write_folder(folder, second) == []


def test_an_export_into_a_file_is_refused(tmp_path):
    target = tmp_path / "out"
    target.write_text("a file")
    with pytest.raises(ArenaError) as refused:
        write_folder(target, {"README.md": b"card"})
    assert str(refused.value) == f"{target} is a file; give --out a folder"


def test_the_managed_files_of_a_folder(tmp_path):
    assert managed_files(tmp_path / "missing") == []
    for path in ("README.md", "data/b.jsonl", "data/a.jsonl", "data/a.txt", "leaderboard/x.jsonl",
                 "registry/tasks.jsonl", "other/y.jsonl", "data/deep/z.jsonl"):  # fmt: skip
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / path).write_text("")
    assert managed_files(tmp_path) == [
        "README.md", "data/a.jsonl", "data/b.jsonl", "leaderboard/x.jsonl", "registry/tasks.jsonl",
    ]  # fmt: skip
    (tmp_path / "README.md").unlink()
    (tmp_path / "README.md").mkdir()  # a folder named like the card is no card
    assert "README.md" not in managed_files(tmp_path)
