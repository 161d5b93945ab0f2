"""Files from Hugging Face Hub repos, fetched with huggingface_hub into a Hub cache.

A checkpoint ``hf://ORG/REPO/FILE`` names FILE in the model repo ORG/REPO; a revision
goes after the repo (``hf://ORG/REPO@v1.0/FILE``, the Hub's own form) or after the
file (``hf://ORG/REPO/FILE@v1.0``). huggingface_hub reads HF_ENDPOINT, HF_TOKEN and
HF_HUB_OFFLINE itself; offline, or with no network, a cached copy is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from huggingface_hub import hf_hub_download, parse_hf_uri
from huggingface_hub.errors import (
    HfUriError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RemoteEntryNotFoundError,
    RepositoryNotFoundError,
    RevisionNotFoundError,
)

from compute.errors import CalculatorLoadError, first_line, one_line

HF_SCHEME = "hf://"
# Inside the arena cache, in huggingface_hub's layout (`hf cache ls --cache-dir` reads it).
HUB_CACHE_FOLDER = "huggingface"


@dataclass(frozen=True)
class HubFile:
    repo_id: str
    filename: str
    revision: str | None = None
    repo_type: str = "model"


def is_hub_checkpoint(checkpoint: str) -> bool:
    return checkpoint.startswith(HF_SCHEME)


def hub_cache_dir(cache_dir: Path) -> Path:
    return cache_dir / HUB_CACHE_FOLDER


def parse_hub_checkpoint(checkpoint: str) -> HubFile:
    """Split ``hf://ORG/REPO[@REV]/FILE[@REV]``; raises CalculatorLoadError if malformed."""
    try:
        uri = parse_hf_uri(checkpoint)
    except HfUriError as exc:
        raise CalculatorLoadError(
            f"bad Hub checkpoint {checkpoint!r} ({one_line(exc)}); write hf://ORG/REPO/FILE"
        ) from exc
    filename, revision = uri.path_in_repo, uri.revision
    if revision is None and "@" in filename:
        filename, revision = filename.rsplit("@", 1)
    if not filename or uri.type not in ("model", "dataset"):
        raise CalculatorLoadError(
            f"bad Hub checkpoint {checkpoint!r}: name a file in a model repo, hf://ORG/REPO/FILE"
        )
    return HubFile(uri.id, filename, revision or None, uri.type)


def download_checkpoint(checkpoint: str, cache_dir: Path) -> Path:
    """The local copy of a ``hf://`` checkpoint, downloaded once into the Hub cache."""
    target = parse_hub_checkpoint(checkpoint)
    try:
        path = hf_hub_download(
            target.repo_id,
            target.filename,
            revision=target.revision,
            repo_type=target.repo_type,
            cache_dir=hub_cache_dir(cache_dir),
        )
    except Exception as exc:
        raise CalculatorLoadError(
            hub_error_message(exc, what=f"checkpoint {checkpoint}", repo_id=target.repo_id)
        ) from exc
    return Path(path)


def hub_error_message(exc: Exception, *, what: str, repo_id: str) -> str:
    """One line that says why the Hub could not give ``what`` and what to do."""
    if isinstance(exc, LocalEntryNotFoundError | OfflineModeIsEnabled):
        return (
            f"{what} is not in the Hub cache and the Hub cannot be reached "
            "(no network, or HF_HUB_OFFLINE=1); download it once while online"
        )
    if isinstance(exc, RepositoryNotFoundError):
        return f"{what}: Hub repo {repo_id} not found (a private repo needs HF_TOKEN)"
    if isinstance(exc, RevisionNotFoundError):
        return f"{what}: revision not found in Hub repo {repo_id}"
    if isinstance(exc, RemoteEntryNotFoundError):
        return f"{what}: no such file in Hub repo {repo_id}"
    return f"{what}: {first_line(exc)}"
