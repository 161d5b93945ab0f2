"""Job keys: the same work gets the same key, and any change that alters the work a new one.

Keys are stored with every job and result and in exports, so their recipe is pinned
here by hand: SHA-256 of the sorted JSON of model, task, structure and parameters.
"""

import hashlib
import json

import pytest

from models_app.models import MLIP
from tasks_app.keys import job_key, job_keys, stable_hash
from tasks_app.models import Task

PARAMS = {"fmax": 0.1, "npoints": 21}


def key(**changes) -> str:
    model = MLIP(
        name=changes.get("name", "CHGNet"),
        family=changes.get("family", "chgnet"),
        checkpoint=changes.get("checkpoint", "0.3.0"),
        calculator_kwargs=changes.get("kwargs", {"stress_weight": 1}),
    )
    task = Task(
        slug="eos", function=changes.get("function", "eos"), version=changes.get("version", 1)
    )
    return job_key(
        model=model,
        task=task,
        structure_hash=changes.get("structure", "abc"),
        params=changes.get("params", PARAMS),
    )


def test_the_key_is_the_hash_of_a_fixed_recipe():
    text = (
        '{"model": ["CHGNet", "chgnet", "0.3.0", {"stress_weight": 1}], '
        '"params": {"fmax": 0.1, "npoints": 21}, "structure": "abc", "task": ["eos", 1]}'
    )
    assert key() == hashlib.sha256(text.encode()).hexdigest()
    assert (
        stable_hash({"b": 1, "a": [1, 2]}) == hashlib.sha256(b'{"a": [1, 2], "b": 1}').hexdigest()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"checkpoint": "0.2.0"},
        {"kwargs": {"stress_weight": 2}},
        {"family": "mace"},
        {"name": "CHGNet-old"},
        {"version": 2},
        {"function": "ev"},
        {"structure": "abd"},
        {"params": {"fmax": 0.05, "npoints": 21}},
        {"params": {**PARAMS, "symmetry": True}},
    ],
)
def test_each_part_of_the_work_changes_the_key(change):
    assert key(**change) != key()


def test_dict_order_does_not_change_the_key():
    assert key(params={"npoints": 21, "fmax": 0.1}) == key()
    assert key(kwargs={"stress_weight": 1}) == key()
    assert stable_hash({"x": {"b": 2, "a": 1}}) == stable_hash({"x": {"a": 1, "b": 2}})


def test_values_json_cannot_hold_are_hashed_as_their_text():
    import datetime as dt

    expected = hashlib.sha256(b'{"day": "2024-01-02"}').hexdigest()
    assert stable_hash({"day": dt.date(2024, 1, 2)}) == expected


def test_keys_of_many_structures_follow_the_same_recipe():
    """The page's shortcut (the JSON around the hash encoded once) gives each structure
    the key of the recipe above, spelled out by hand."""
    model = MLIP(name="CHGNet", family="chgnet", checkpoint="0.3.0", calculator_kwargs={})
    keys = job_keys(model=model, task=Task(slug="eos", function="eos", version=1), params=PARAMS)
    for structure in ["abc", "0" * 64, 'with "quotes" and \\']:
        text = (
            '{"model": ["CHGNet", "chgnet", "0.3.0", {}], '
            f'"params": {{"fmax": 0.1, "npoints": 21}}, "structure": {json.dumps(structure)}, '
            '"task": ["eos", 1]}'
        )
        assert keys(structure) == hashlib.sha256(text.encode()).hexdigest()
