"""Registry validators at their edges, through the seed (YAML → service → full_clean): names
from each Unicode category, non-finite numbers in kwargs and params, oversized values.

Each bad entry is one line in the seed's report and writes no row; the good entries
beside it are stored. The categories are Unicode's own (unicodedata): a name may hold
letters, marks, digits, punctuation, symbols and inner spaces (L, M, N, P, S, Zs), never
a control, format, private-use, unassigned or surrogate code point (C*) nor a line or
paragraph separator (Zl, Zp), which would break a name across lines of a CSV or a page.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata

import pytest
import yaml
from django.core.exceptions import ValidationError

from models_app.models import MLIP
from models_app.services import _one_line, seed_models
from models_app.validators import (
    validate_json_object,
    validate_model_name,
    validate_sha256,
    validate_task_list,
)
from tasks_app.models import Task

GOOD_NAMES = {
    "Lu Ll": "MACE-MP ü",
    "Lo": "模型 7",
    "Mn": "Ne\u0301quIP",  # a combining acute accent
    "Nd": "net \u0663",  # ARABIC-INDIC DIGIT THREE
    "Pd Ps Pe": "a–(b)",
    "So Sm": "☃ ≈ net",
    "Zs inside": "no\u00a0break",
    "100 characters": "m" * 100,
}
BAD_NAMES = {
    "Cc": "bell\x07",
    "Cf zero width": "a\u200bb",
    "Cf right to left": "a\u202eb",
    "Co private use": "a\ue000b",
    "Cn unassigned": "a\u0378b",
    "Zl": "a\u2028b",
    "Zp": "a\u2029b",
}


def seed(tmp_path, entries: list[dict]):
    path = tmp_path / "registry.yaml"
    path.write_text(yaml.safe_dump({"models": entries}, allow_unicode=True), encoding="utf-8")
    return seed_models(path=path)


def entry(name: str, **fields) -> dict:
    return {"name": name, "family": "emt", **fields}


def test_the_categories_are_the_ones_named():
    """The fixtures above test what their labels say (guards a mislabelled case)."""
    for label, name in {**GOOD_NAMES, **BAD_NAMES}.items():
        categories = {unicodedata.category(c) for c in name}
        for word in label.split():
            if len(word) == 2 and word[0].isupper():
                assert word in categories, (label, categories)


def test_names_of_each_unicode_category_are_taken_or_refused_in_one_line(db, tmp_path):
    names = [*GOOD_NAMES.values(), *BAD_NAMES.values(), "m" * 101]
    report = seed(tmp_path, [entry(n) for n in names])
    assert report.created == list(GOOD_NAMES.values())
    assert set(MLIP.objects.values_list("name", flat=True)) == set(GOOD_NAMES.values())
    refused = {error.split(": name: ", 1)[0]: error for error in report.errors}
    assert list(refused) == [*BAD_NAMES.values(), "m" * 101]
    for name in BAD_NAMES.values():
        assert refused[name].endswith("has a control character or a line break")
    assert refused["m" * 101].endswith("at most 100 characters (it has 101).")
    assert all("\n" not in e.split(": name: ", 1)[1] for e in report.errors)


@pytest.mark.parametrize("name", ["a\ud800b", "a\x85b"])
def test_a_surrogate_and_a_next_line_are_refused(name):
    """Names a form or the admin can send but the YAML seed cannot carry: PyYAML cannot
    write a lone surrogate (Cs), and it writes NEL (Cc) as a folded line, read back as a
    space."""
    with pytest.raises(ValidationError, match="control character or a line break"):
        validate_model_name(name)


@pytest.mark.parametrize("name", ["", " lead", "trail ", "\u00a0nbsp", "tab\t", "\n"])
def test_blank_and_padded_names_are_refused(name):
    with pytest.raises(ValidationError) as refused:
        validate_model_name(name)
    assert refused.value.messages == ["must not be blank or start or end with spaces"]


def test_a_name_with_a_comma_is_refused():
    with pytest.raises(ValidationError) as refused:
        validate_model_name("a,b")
    assert refused.value.messages == ["'a,b' has a comma, which separates names in --models"]


NON_FINITE = [math.inf, -math.inf, math.nan]


def test_non_finite_numbers_anywhere_in_kwargs_are_refused_and_large_finite_ones_kept(db, tmp_path):
    bad = [
        {"x": math.inf},
        {"x": -math.inf},
        {"x": math.nan},
        {"outer": {"inner": [1.0, math.nan]}},
        {"x": float("1e309")},  # overflows to inf when parsed
    ]
    good = {"largest": 1.7976931348623157e308, "smallest": 5e-324, "big_int": 10**30}
    entries = [entry(f"bad {i}", calculator_kwargs=k) for i, k in enumerate(bad)]
    report = seed(tmp_path, [*entries, entry("good", calculator_kwargs=good)])
    assert report.created == ["good"]
    # PostgreSQL's jsonb keeps numbers as numeric: a float this large comes back an int
    # of the same value to 16 digits.
    assert MLIP.objects.get(name="good").calculator_kwargs == pytest.approx(good, rel=1e-15)
    assert len(report.errors) == len(bad)
    for i, error in enumerate(report.errors):
        assert error.startswith(f"bad {i}: calculator_kwargs: must hold only JSON text, numbers")
        assert "\n" not in error


@pytest.mark.parametrize("number", NON_FINITE)
def test_non_finite_task_parameters_are_refused(seeded, number):
    task = Task.objects.get(slug="eos")
    task.default_params = {**task.default_params, "fmax": number}
    with pytest.raises(ValidationError) as refused:
        task.full_clean()
    # Both layers refuse it: the JSON field's validator and the task's protocol.
    json_text, protocol = refused.value.message_dict["default_params"]
    assert json_text.startswith("must hold only JSON text, numbers, lists and objects")
    assert f"task 'eos': fmax must be finite, not {number}" in protocol


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("checkpoint", "c" * 501, "at most 500 characters (it has 501)"),
        ("package_pin", "p" * 101, "at most 100 characters (it has 101)"),
        ("cpu_tasks", ["eos", "no-such-task"], "unknown task(s) no-such-task"),
        ("cpu_tasks", "eos", "must be a JSON list of names"),
        ("calculator_kwargs", [1], "must be a JSON object"),
    ],
)
def test_oversized_and_ill_typed_fields_are_refused_and_nothing_is_written(
    db, tmp_path, field, value, says
):
    report = seed(tmp_path, [entry("M", **{field: value})])
    (error,) = report.errors
    assert error.startswith(f"M: {field}: ") and says in error
    assert not MLIP.objects.exists()


def test_the_largest_values_that_fit_are_kept(db, tmp_path):
    report = seed(tmp_path, [entry("M", checkpoint="c" * 500, package_pin="p" * 100)])
    assert report.created == ["M"] and not report.errors


def test_validate_json_object_accepts_exactly_json():
    validate_json_object({"a": [1, 2.5, "x", None, True, {"b": {}}]})
    for value in ({"a": {1, 2}}, {"a": b"x"}, {"a": object()}, [1], "x", None):
        with pytest.raises(ValidationError):
            validate_json_object(value)


def test_a_sha256_pin_is_empty_or_exactly_64_lowercase_hex_digits():
    digest = hashlib.sha256(b"checkpoint").hexdigest()
    validate_sha256("")  # no pin
    validate_sha256(digest)
    for bad in (digest.upper(), digest[:-1], digest + "0", "g" * 64, f" {digest[1:]}"):
        with pytest.raises(ValidationError) as refused:
            validate_sha256(bad)
        assert refused.value.messages == ["must be a SHA-256 digest: 64 lowercase hex digits"]


def test_a_seed_refusal_is_its_fields_and_messages_on_one_line():
    assert _one_line(ValidationError(["first.", "second."])) == "first. second."
    assert _one_line(ValidationError({"a": ["one.", "two."], "b": ["three."]})) == (
        "a: one. two.; b: three."
    )


TASK_NAMES = (
    "eos, ev, relax, diatomics, nve, heating, speed, formation, phonons, elasticity, vacancy, "
    "compression, combustion"
)


def test_unknown_task_names_are_listed_beside_the_known_ones():
    from tasks_app.validators import validate_set_names, validate_task_function

    validate_task_list(["eos", "relax"])
    with pytest.raises(ValidationError) as refused:
        validate_task_list(["eos", "kappa", "tau"])
    assert refused.value.messages == [f"unknown task(s) kappa, tau; the tasks are {TASK_NAMES}"]
    validate_task_function("eos")
    with pytest.raises(ValidationError) as refused:
        validate_task_function("kappa")
    assert refused.value.messages == [f"unknown task function 'kappa'; choose one of: {TASK_NAMES}"]
    validate_set_names(["md-cells", "delta-dcdft"])
    for bad in ("md-cells", ["ok", ""], ["ok", 3], None):
        with pytest.raises(ValidationError) as refused:
            validate_set_names(bad)
        assert refused.value.messages == [
            f'must be a JSON list of set names such as ["md-cells"], not {bad!r}'
        ]


def test_each_registry_validator_says_what_it_wants():
    from models_app.validators import validate_family, validate_string_list

    families = (
        "ani, chgnet, deepmd, emt, fairchem, grace, mace, matgl, mattersim, nequip, orb, pet, "
        "sevennet"
    )
    cases = [
        (validate_family, "gap", f"unknown family 'gap'; choose one of: {families}"),
        (validate_model_name, "bell\x07", "'bell\\x07' has a control character or a line break"),
        (validate_json_object, [1], 'must be a JSON object such as {"key": 1}, not list'),
        (validate_json_object, {"a": math.nan}, "must hold only JSON text, numbers, lists and "
         "objects (Out of range float values are not JSON compliant)"),
        (validate_json_object, {"a": {1}}, "must hold only JSON text, numbers, lists and "
         "objects (Object of type set is not JSON serializable)"),
        (validate_string_list, "eos", 'must be a JSON list of names such as ["eos"]'),
        (validate_string_list, ["eos", 1], 'must be a JSON list of names such as ["eos"]'),
    ]  # fmt: skip
    for validate, value, message in cases:
        with pytest.raises(ValidationError) as refused:
            validate(value)
        assert refused.value.messages == [message]
    validate_family("emt")
    validate_string_list([])


def test_values_of_the_wrong_kind_are_refused_before_full_clean_could_convert_them():
    """A flag must be a bool and a count an int that is no bool; null only where the
    field allows it; JSON fields are left to their validators."""
    import datetime

    from models_app.services import check_value_types

    fitting = {
        "name": "A", "calculator_kwargs": [1], "supports_nvt": False, "parameter_count": 5,
        "release_date": datetime.date(2024, 1, 2), "last_check_at": "2024-01-02T03:04:05",
        "last_check_ok": None, "code_url": "https://x.org", "bibtex": "",
    }  # fmt: skip
    check_value_types(MLIP, fitting)
    wrong = {
        "calculator_kwargs": "x", "license": ["MIT"], "supports_nvt": 1, "release_date": None,
        "parameter_count": True, "code_url": 5, "bibtex": None, "enabled": "yes",
    }  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        check_value_types(MLIP, wrong)
    assert refused.value.messages == [
        "license must be str, not list; supports_nvt must be bool, not int; parameter_count "
        "must be int, not bool; code_url must be str, not int; bibtex must be str, not "
        "NoneType; enabled must be bool, not str"
    ]
