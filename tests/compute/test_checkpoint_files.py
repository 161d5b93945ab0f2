"""Where a checkpoint string leads: a local file, or a URL's file in the cache, by hand.

The cache path is one folder per URL (the first 16 hex digits of the URL's SHA-256) and
the URL's last path segment, its query cut off. No download happens here: a URL on a
port nobody listens on stands for a server that is down.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import socket
import threading

import pytest

from compute.checkpoints import Checkpoint, cached_path, is_url, resolve_checkpoint
from compute.errors import CalculatorLoadError
from compute.hub import hub_cache_dir


def closed_port_url(path: str) -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/{path}"  # closed once the socket is


def folder_of(url: str) -> str:
    return hashlib.sha256(url.encode()).hexdigest()[:16]


@pytest.mark.parametrize(
    ("url", "name"),
    [
        ("https://example.org/models/mace.model?download=true", "mace.model"),
        ("https://example.org/models/mace.model?a=1?b=2", "mace.model"),  # the first ? ends it
        ("https://example.org/models/", "checkpoint"),
        ("https://example.org/models/?v=2", "checkpoint"),
    ],
)
def test_a_urls_cache_path_is_its_hash_folder_and_last_segment(tmp_path, url, name):
    assert cached_path(url, tmp_path) == tmp_path / "checkpoints" / folder_of(url) / name


def test_urls_are_http_or_https_only():
    assert is_url("http://a/b") and is_url("https://a/b")
    assert not is_url("hf://org/repo/file") and not is_url("/data/http://x")


def test_a_cached_url_is_used_without_downloading(tmp_path):
    url = closed_port_url("m.model")
    target = cached_path(url, tmp_path)
    target.parent.mkdir(parents=True)
    target.write_bytes(b"weights")
    assert resolve_checkpoint(url, tmp_path) == target
    assert Checkpoint(url, tmp_path).local_file() == target


def test_a_download_that_fails_says_where_to_put_the_file(tmp_path):
    url = closed_port_url("m.model")
    with pytest.raises(CalculatorLoadError) as error:
        resolve_checkpoint(url, tmp_path)
    message = str(error.value)
    assert message.startswith(f"cannot download checkpoint {url} (")
    assert message.endswith(f"download it by hand and put it at {cached_path(url, tmp_path)}")
    assert "\n" not in message
    assert not cached_path(url, tmp_path).exists()


def test_a_local_file_is_used_where_it_is_and_a_missing_one_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "m.model").write_bytes(b"weights")
    assert resolve_checkpoint("~/m.model", tmp_path / "cache") == tmp_path / "m.model"
    assert not (tmp_path / "cache").exists()
    with pytest.raises(
        CalculatorLoadError, match=r"^checkpoint file '~/gone.model' does not exist$"
    ):
        resolve_checkpoint("~/gone.model", tmp_path / "cache")


def test_a_hub_file_in_the_cache_is_found_offline_and_a_missing_one_named(tmp_path):
    """The Hub cache's own layout (refs/main names the snapshot) under our cache folder."""
    repo = hub_cache_dir(tmp_path) / "models--some-org--some-repo"
    commit = "0123456789abcdef0123456789abcdef01234567"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    (repo / "snapshots" / commit).mkdir(parents=True)
    (repo / "snapshots" / commit / "model.pt").write_bytes(b"weights")
    found = resolve_checkpoint("hf://some-org/some-repo/model.pt", tmp_path)
    assert found == repo / "snapshots" / commit / "model.pt"
    with pytest.raises(CalculatorLoadError) as error:
        resolve_checkpoint("hf://some-org/some-repo/other.pt", tmp_path)
    assert str(error.value).startswith(
        "checkpoint hf://some-org/some-repo/other.pt is not in the Hub cache"
    )


def test_a_url_is_downloaded_once_into_its_cache_path(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    (root / "m.model").write_bytes(b"weights" * 1000)
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/m.model"
    try:
        path = resolve_checkpoint(url, tmp_path / "cache")
    finally:
        server.shutdown()
        server.server_close()
    assert path == cached_path(url, tmp_path / "cache")
    assert path.read_bytes() == b"weights" * 1000
    assert list(path.parent.iterdir()) == [path]  # no temporary file left beside it
    assert resolve_checkpoint(url, tmp_path / "cache") == path  # the server is gone
