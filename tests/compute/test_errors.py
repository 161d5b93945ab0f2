"""One-line error messages: what users read in job lists and command output."""

from compute.errors import first_line, one_line
from compute.model_spec import ModelSpec


def test_a_message_on_several_lines_becomes_one():
    error = ValueError("  cannot load\n\n  checkpoint x  \nmissing key\n")
    assert one_line(error) == "cannot load checkpoint x missing key"
    assert first_line(error) == "ValueError: cannot load checkpoint x missing key"


def test_an_empty_message_is_named_by_its_type():
    assert one_line(KeyError()) == "KeyError"
    assert first_line(RuntimeError("")) == "RuntimeError: RuntimeError"


def test_long_messages_are_cut_to_the_limit_with_an_ellipsis():
    assert one_line(ValueError("x" * 300)) == "x" * 300
    cut = one_line(ValueError("y" * 301))
    assert cut == "y" * 299 + "…" and len(cut) == 300
    assert one_line(ValueError("abcdef"), limit=4) == "abc…"
    assert one_line(ValueError("abcd"), limit=4) == "abcd"


def test_calculator_cache_keys_ignore_the_order_of_kwargs_and_name_the_device():
    first = ModelSpec("m", "mace", "a.model", {"dtype": "float64", "head": "omat"})
    second = ModelSpec("other name", "mace", "a.model", {"head": "omat", "dtype": "float64"})
    assert first.cache_key("cpu") == second.cache_key("cpu")
    assert (
        first.cache_key("cpu")
        == '["mace", "a.model", {"dtype": "float64", "head": "omat"}, "", "cpu"]'
    )
    assert first.cache_key("cuda:0") != first.cache_key("cpu")
    # Other weights under the same path are another calculator.
    pinned = ModelSpec("m", "mace", "a.model", {"head": "omat", "dtype": "float64"}, "ab12")
    assert pinned.cache_key("cpu") != first.cache_key("cpu")
