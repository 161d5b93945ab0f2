"""The trust rules together: SHA pin × trusted source × weights-only family.

Each case loads a crafted pickle that writes a marker when unpickled, so "allowed" is
seen as the marker, not as a return value. The expected outcome is the rule stated in
compute/trust.py: a pickling family loads a file when it is pinned and the pin matches
(whatever its source), or when it is unpinned and from a trusted source; a pin that does
not match refuses even a trusted source (the pin wins). A weights-only family never
unpickles code, pinned or trusted.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from compute.calculators import clear_cache, load_calculator
from compute.errors import CalculatorLoadError
from compute.model_spec import ModelSpec
from compute.trust import UntrustedCheckpoint, file_sha256, from_trusted_source, normalised
from tests.compute.crafted import build_crafted_checkpoint

PINS = ("none", "matching", "matching in capitals", "of another file")
SOURCES = ("trusted folder", "untrusted folder")


def pin_value(pin: str, path: Path) -> str:
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        "none": "",
        "matching": digest,
        "matching in capitals": digest.upper(),
        "of another file": "0" * 64,
    }[pin]


def load(family: str, pin: str, source: str, tmp_path: Path) -> tuple[CalculatorLoadError, bool]:
    """Load a crafted file of ``family``; the error raised and whether its code ran."""
    trusted, untrusted = tmp_path / "trusted", tmp_path / "untrusted"
    trusted.mkdir()
    untrusted.mkdir()
    marker = tmp_path / "marker"
    folder = trusted if source == "trusted folder" else untrusted
    inside = None if family == "mace" else "model"
    path = build_crafted_checkpoint(folder / "crafted.model", marker, inside=inside)
    spec = ModelSpec("Crafted", family, str(path), checkpoint_sha256=pin_value(pin, path))
    clear_cache()
    # Every case raises: a refusal, or, once the payload ran, because it builds no model.
    with pytest.raises(CalculatorLoadError) as info:
        load_calculator(spec, device="cpu", cache_dir=tmp_path, trusted_sources=[f"{trusted}/"])
    assert "\n" not in str(info.value)
    return info.value, marker.exists()


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("pin", PINS)
def test_a_pickling_family_loads_what_the_pin_or_else_the_source_allows(pin, source, tmp_path):
    error, ran = load("mace", pin, source, tmp_path)
    # Unpinned, the source decides; pinned, the pin alone does.
    allowed = source == "trusted folder" if pin == "none" else pin != "of another file"
    assert ran == allowed
    assert isinstance(error, UntrustedCheckpoint) == (not allowed)
    if pin == "of another file":
        assert str(error).endswith(
            f"not the approved {'0' * 64}; the file changed since its approval: approve it "
            "again if you trust it"
        )
    elif not allowed:
        assert "is not from a trusted source" in str(error)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("pin", PINS)
def test_a_weights_only_family_never_runs_code_whatever_the_pin_or_source(pin, source, tmp_path):
    error, ran = load("chgnet", pin, source, tmp_path)
    assert not ran
    assert "holds more than weights and plain data" in str(error)


def test_a_files_digest_is_sha256_of_its_bytes_read_in_chunks(tmp_path):
    """Above one read chunk (1 MiB) the digest is still hashlib's over the whole file."""
    path = tmp_path / "big.model"
    data = bytes(range(256)) * (5 * 4096 + 3)  # 5 MiB and 768 bytes
    path.write_bytes(data)
    assert file_sha256(path) == hashlib.sha256(data).hexdigest()


def test_a_folders_digest_covers_each_files_relative_path_size_and_bytes(tmp_path):
    """By hand: files sorted by path, each as 'PATH\\0SIZE\\0' then its bytes."""
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "state.pt").write_bytes(b"weights")
    (folder / "model.json").write_bytes(b"{}")
    expected = hashlib.sha256(b"model.json\x002\x00{}sub/state.pt\x007\x00weights").hexdigest()
    assert file_sha256(folder) == expected
    (folder / "sub" / "state.pt").rename(folder / "state.pt")  # same bytes, another path
    assert file_sha256(folder) != expected


@pytest.mark.parametrize(
    ("checkpoint", "source", "trusted"),
    [
        ("HTTPS://Example.ORG/models/x.pt", "https://example.org/models/", True),
        (
            "https://example.org/Models/x.pt",
            "https://example.org/models/",
            False,
        ),  # paths keep case
        ("https://example.org%2Fevil/models/x.pt", "https://example.org%2Fevil/", False),
        ("https://example.org/models/a\\b.pt", "https://example.org/models/", False),
        ("https://example.org/models/./x.pt", "https://example.org/models/", False),
        ("https://example.org/models/%25252e%25252e/x.pt", "https://example.org/models/", False),
        ("https://example.org/models/%78.pt", "https://example.org/models/", True),  # %78 is x
        ("https://example.org/models/x.pt", "https://example.org/models", False),  # no slash
    ],
)
def test_urls_are_compared_decoded_with_scheme_and_host_in_lower_case(checkpoint, source, trusted):
    assert from_trusted_source(checkpoint, [source]) is trusted


def test_local_paths_are_compared_resolved_and_the_root_trusts_every_file(tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path))
    assert from_trusted_source(f"{tmp_path}/models/x.pt", ["~/models/"])
    assert from_trusted_source("~/models/x.pt", [f"{tmp_path}/models/"])
    assert not from_trusted_source(f"{tmp_path}/models-other/x.pt", [f"{tmp_path}/models/"])
    assert from_trusted_source(f"{tmp_path}/anything.pt", ["/"])
    assert normalised("/") == "/" and normalised(f"{tmp_path}/models/") == f"{tmp_path}/models/"
    assert normalised(f"{tmp_path}/models/x.pt") == f"{tmp_path}/models/x.pt"
    # A relative path with a colon is a path, not a URL: only "scheme://" makes one.
    monkeypatch.chdir(tmp_path)
    assert from_trusted_source("models:v2/x.pt", [f"{tmp_path}/models:v2/"])


def test_a_url_is_normalised_to_lower_case_scheme_and_host_and_decoded_path():
    assert normalised("HTTPS://Example.ORG/Models/%78.pt") == "https://example.org/Models/x.pt"
