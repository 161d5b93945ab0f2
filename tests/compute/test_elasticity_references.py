"""The vendored Materials Project set: its entries, crystal systems, the fixed subset, and
one-line errors for a reference file that is missing or malformed."""

import gzip
import json
from collections import Counter
from functools import cache

import pytest

from compute.tasks.elasticity import references
from compute.tasks.elasticity.references import (
    REFERENCE_FILE,
    ReferenceFileError,
    full_set,
    mp_structures,
    subset_set,
)


def test_the_vendored_set_holds_3953_binary_crystals_with_mp_moduli():
    structures = full_set()
    assert len(structures) == 3953
    assert len({label for label, _, _ in structures}) == 3953
    assert all(len(set(atoms.get_chemical_symbols())) == 2 for _, atoms, _ in structures)
    by_label = {label: (atoms, reference) for label, atoms, reference in structures}
    # Known structure types (crystallography, not this code) and MP's own numbers.
    expected = {
        "mp-22862": ("ClNa", "cubic", 23.77, 14.298),  # rock salt
        "mp-2534": ("AsGa", "cubic", 60.742, 40.715),  # zinc blende
        "mp-804": ("Ga2N2", "hexagonal", 172.144, 104.855),  # wurtzite
        "mp-2133": ("O2Zn2", "hexagonal", 128.167, 42.921),  # wurtzite
        "mp-2657": ("O4Ti2", "tetragonal", 208.538, 107.377),  # rutile
        "mp-1143": ("Al4O6", "trigonal", 231.003, 128.563),  # corundum
    }
    for label, (formula, system, k_gpa, g_gpa) in expected.items():
        atoms, reference = by_label[label]
        assert atoms.get_chemical_formula() == formula
        assert reference["crystal_system"] == system
        assert (reference["k_vrh_gpa"], reference["g_vrh_gpa"]) == (k_gpa, g_gpa)
    moduli = [(r["k_vrh_gpa"], r["g_vrh_gpa"]) for _, _, r in structures]
    assert all(0 < k <= 500 and 0 < g <= 500 for k, g in moduli)  # as PROVENANCE says


def test_the_subset_follows_its_fixed_rule():
    subset = subset_set()
    assert subset == subset_set()  # the same each time
    labels = {label for label, _, _ in full_set()}
    assert {label for label, _, _ in subset} <= labels
    assert 30 <= len(subset) <= 60
    assert all(len(atoms) <= references.SUBSET_MAX_ATOMS for _, atoms, _ in subset)
    systems = Counter(reference["crystal_system"] for _, _, reference in subset)
    assert set(systems) == {name for _, name in references.CRYSTAL_SYSTEMS}
    assert systems.most_common(1)[0][0] == "cubic"  # 38 % of the set is cubic
    k_values = sorted(reference["k_vrh_gpa"] for _, _, reference in subset)
    assert k_values[0] < 20 and k_values[-1] > 200  # soft to stiff


def write_gzip_json(path, data) -> None:
    with gzip.open(path, "wt") as handle:
        json.dump(data, handle)


@cache
def first_entry_text() -> str:
    with gzip.open(REFERENCE_FILE, "rt") as handle:
        return json.dumps(json.load(handle)[0])


def entry() -> dict:
    """A fresh copy of the vendored file's first entry."""
    return json.loads(first_entry_text())


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (None, "no such reference file"),
        (lambda p: p.write_text("not gzip"), "not gzipped JSON"),
        (lambda p: write_gzip_json(p, {"mp-1": {}}), "expected a non-empty list of entries"),
        (lambda p: write_gzip_json(p, []), "expected a non-empty list of entries"),
        (
            lambda p: write_gzip_json(p, [entry(), {**entry(), "structure": None}]),
            "entry 2 is malformed (TypeError",
        ),
        (
            lambda p: write_gzip_json(p, [{k: v for k, v in entry().items() if k != "mp_id"}]),
            "entry 1 is malformed (KeyError: 'mp_id')",
        ),
    ],
)
def test_a_missing_or_malformed_reference_file_is_one_line(tmp_path, write, message):
    path = tmp_path / "refs.json.gz"
    if write:
        write(path)
    with pytest.raises(ReferenceFileError) as error:
        mp_structures(path)
    text = str(error.value)
    assert text.startswith(f"{path}: ") and message in text and "\n" not in text
