"""Whether a checkpoint file may be fully unpickled, which can run code.

A pickle may be loaded when the checkpoint comes from a trusted source (a URL or
``hf://`` prefix on the allow-list) or when its file has the SHA-256 an admin pinned.
Shipped checkpoints never come here: their package loads them from its own files.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from compute.errors import CalculatorLoadError

CHUNK_BYTES = 1 << 20


class UntrustedCheckpoint(CalculatorLoadError):
    """A checkpoint that needs full unpickling is neither from a trusted source nor pinned."""


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
    """True if ``checkpoint`` starts with an allow-listed prefix that ends in ``/``."""
    return any(prefix.endswith("/") and checkpoint.startswith(prefix) for prefix in trusted_sources)


def check_trusted(
    checkpoint: str, path: Path, *, pinned_sha256: str, trusted_sources: Iterable[str]
) -> None:
    """Raise UntrustedCheckpoint unless ``path`` may be unpickled; a pin always wins."""
    if not pinned_sha256 and from_trusted_source(checkpoint, trusted_sources):
        return
    digest = file_sha256(path)
    if not pinned_sha256:
        raise UntrustedCheckpoint(
            f"checkpoint {checkpoint!r} is a pickle, which can run code when loaded, and is "
            f"not from a trusted source; if you trust it, approve its SHA-256 {digest} "
            "(admin action 'Approve checkpoint')"
        )
    if digest != pinned_sha256.lower():
        raise UntrustedCheckpoint(
            f"checkpoint {checkpoint!r} has SHA-256 {digest}, not the approved "
            f"{pinned_sha256}; the file changed since its approval: approve it again if you "
            "trust it"
        )
