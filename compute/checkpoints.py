"""Checkpoints: a string resolved to a local file (a path, or a URL or hf:// file cached on
disk), and the object adapters receive, which hands out a file only as far as it is trusted."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from compute.errors import CalculatorLoadError
from compute.hub import download_checkpoint, is_hub_checkpoint
from compute.trust import check_trusted

DOWNLOAD_TIMEOUT_S = 30


def is_url(checkpoint: str) -> bool:
    return checkpoint.startswith(("http://", "https://"))


def cached_path(url: str, cache_dir: Path) -> Path:
    """Where a URL's file lives in the cache: one folder per URL hash."""
    digest = hashlib.sha256(url.encode()).hexdigest()[:16]
    name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "checkpoint"
    return cache_dir / "checkpoints" / digest / name


def resolve_checkpoint(checkpoint: str, cache_dir: Path) -> Path:
    """Return a local file for ``checkpoint``, downloading a URL or hf:// file once."""
    if is_hub_checkpoint(checkpoint):
        return download_checkpoint(checkpoint, cache_dir)
    if not is_url(checkpoint):
        path = Path(checkpoint).expanduser()
        if not path.exists():
            raise CalculatorLoadError(f"checkpoint file {checkpoint!r} does not exist")
        return path
    target = cached_path(checkpoint, cache_dir)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with (
            urllib.request.urlopen(checkpoint, timeout=DOWNLOAD_TIMEOUT_S) as response,
            tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp,
        ):
            shutil.copyfileobj(response, tmp)
        os.replace(tmp.name, target)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, "reason", exc)
        raise CalculatorLoadError(
            f"cannot download checkpoint {checkpoint} ({reason}); "
            f"download it by hand and put it at {target}"
        ) from exc
    return target


@dataclass(frozen=True)
class Checkpoint:
    """A registry checkpoint string, where downloads go, and what makes its pickle trusted.

    Adapters call ``local_file()`` for files they load with ``weights_only=True`` and
    ``pickle_file()`` for files that need full unpickling.
    """

    name: str
    cache_dir: Path
    pinned_sha256: str = ""
    trusted_sources: tuple[str, ...] = ()

    def local_file(self) -> Path:
        return resolve_checkpoint(self.name, self.cache_dir)

    def pickle_file(self) -> Path:
        """The local file, only if it is pinned or from a trusted source; else raises."""
        path = resolve_checkpoint(self.name, self.cache_dir)
        check_trusted(
            self.name,
            path,
            pinned_sha256=self.pinned_sha256,
            trusted_sources=self.trusted_sources,
        )
        return path
