"""Whether a checkpoint that can run code when loaded (a pickle, a program, a folder that
names classes to build) may be loaded.

It may when the checkpoint comes from a trusted source (a URL, ``hf://`` or folder prefix
on the allow-list) or when its file has the SHA-256 an admin pinned. Shipped checkpoints
never come here: their package loads them from its own files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit

from compute.errors import CalculatorLoadError

CHUNK_BYTES = 1 << 20


class UntrustedCheckpoint(CalculatorLoadError):
    """A checkpoint that can run code is neither from a trusted source nor pinned."""


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, or of a folder's files (their relative paths and contents)."""
    digest = hashlib.sha256()
    files = sorted(p for p in Path(path).rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            header = f"{file.relative_to(path).as_posix()}\0{file.stat().st_size}\0"
            digest.update(header.encode())
        with open(file, "rb") as handle:
            while chunk := handle.read(CHUNK_BYTES):
                digest.update(chunk)
    return digest.hexdigest()


def from_trusted_source(checkpoint: str, trusted_sources: Iterable[str]) -> bool:
    """True if ``checkpoint`` lies under an allow-listed prefix that ends in ``/``.

    Both are compared normalised: percent-escapes decoded, scheme and host in lower case,
    local paths with their symlinks resolved. A checkpoint with a ``.`` or ``..`` segment
    (``trusted/../evil``, ``%2e%2e``) or a backslash is never trusted.
    """
    name = normalised(checkpoint)
    return name is not None and any(
        prefix.endswith("/") and (base := normalised(prefix)) is not None and name.startswith(base)
        for prefix in trusted_sources
    )


def normalised(location: str) -> str | None:
    """``location`` in the one form prefixes are compared in; None if it has dot segments."""
    parts = urlsplit(location)
    if parts.scheme and "://" in location:
        path = _decoded(parts.path)
        host = _decoded(parts.netloc).lower()
        if path is None or host is None or "/" in host:
            return None
        return f"{parts.scheme.lower()}://{host}{path}"
    path = _decoded(location)
    if path is None:
        return None
    resolved = Path(path).expanduser().resolve().as_posix()
    return resolved + "/" if location.endswith("/") and resolved != "/" else resolved


def _decoded(text: str) -> str | None:
    """Percent-escapes undone until none is left; None if a segment is ``.`` or ``..``."""
    while (decoded := unquote(text)) != text:
        text = decoded
    segments = text.split("/")
    if "\\" in text or any(s in (".", "..") for s in segments):
        return None
    return text


def check_trusted(
    checkpoint: str, path: Path, *, pinned_sha256: str, trusted_sources: Iterable[str]
) -> None:
    """Raise UntrustedCheckpoint unless ``path`` may be unpickled; a pin always wins."""
    if not pinned_sha256 and from_trusted_source(checkpoint, trusted_sources):
        return
    digest = file_sha256(path)
    if not pinned_sha256:
        raise UntrustedCheckpoint(
            f"checkpoint {checkpoint!r} can run code when loaded and is not "
            f"from a trusted source; if you trust it, approve its SHA-256 {digest} "
            "(admin action 'Approve checkpoint')"
        )
    if digest != pinned_sha256.lower():
        raise UntrustedCheckpoint(
            f"checkpoint {checkpoint!r} has SHA-256 {digest}, not the approved "
            f"{pinned_sha256}; the file changed since its approval: approve it again if you "
            "trust it"
        )
