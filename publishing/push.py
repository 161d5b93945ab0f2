"""Push an exported dataset folder to a Hugging Face dataset repo in one commit.

huggingface_hub reads the endpoint (HF_ENDPOINT), the token (HF_TOKEN or the saved
login) and offline mode (HF_HUB_OFFLINE) itself. Only files whose bytes differ from
the repo's are sent; a push with nothing changed makes no commit.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import httpx2
from huggingface_hub import CommitOperationAdd, CommitOperationDelete, HfApi, get_token
from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled
from huggingface_hub.hf_api import RepoFile
from huggingface_hub.utils.sha import git_hash

from arena_site.errors import ArenaError
from compute.errors import one_line
from publishing.format import check_repo_id, is_managed, managed_files

DEFAULT_REVISION = "main"


@dataclass(frozen=True)
class PushReport:
    repo_url: str
    uploaded: list[str]
    deleted: list[str]
    commit_url: str | None = None

    @property
    def committed(self) -> bool:
        return self.commit_url is not None


def push_dataset(
    *, repo_id: str, folder: Path, message: str, revision: str = DEFAULT_REVISION
) -> PushReport:
    """Create the repo (and branch) if missing and commit the files that changed."""
    check_repo_id(repo_id)
    files = {path: (folder / path).read_bytes() for path in managed_files(folder)}
    if not files:
        raise ArenaError(f"{folder} holds no export; write one with export_hf first")
    token = get_token()
    if not token:
        raise ArenaError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login`; "
            f"the export stays in {folder}"
        )
    api = HfApi(token=token)
    try:
        return _commit_changes(api, repo_id, files, message=message, revision=revision)
    except (OSError, ValueError, httpx2.HTTPError) as exc:
        raise ArenaError(
            f"push to {repo_id} failed: {_push_error(exc, api.endpoint)}; "
            f"the export stays in {folder}"
        ) from exc


def _commit_changes(
    api: HfApi, repo_id: str, files: dict[str, bytes], *, message: str, revision: str
) -> PushReport:
    repo_url = str(api.create_repo(repo_id, repo_type="dataset", exist_ok=True))
    if revision != DEFAULT_REVISION:
        api.create_branch(repo_id, repo_type="dataset", branch=revision, exist_ok=True)
    tree = api.list_repo_tree(repo_id, repo_type="dataset", revision=revision, recursive=True)
    remote = {entry.path: entry for entry in tree if isinstance(entry, RepoFile)}
    uploaded = [
        path for path, content in files.items() if not _same_file(remote.get(path), content)
    ]
    deleted = sorted(path for path in remote if is_managed(path) and path not in files)
    if not uploaded and not deleted:
        return PushReport(repo_url, [], [])
    operations = [CommitOperationAdd(path, files[path]) for path in uploaded]
    operations += [CommitOperationDelete(path) for path in deleted]
    info = api.create_commit(
        repo_id,
        operations,
        commit_message=message,
        commit_description="\n".join([*uploaded, *(f"deleted {p}" for p in deleted)]),
        repo_type="dataset",
        revision=revision,
    )
    return PushReport(repo_url, uploaded, deleted, info.commit_url)


def _same_file(remote: RepoFile | None, content: bytes) -> bool:
    """Whether the repo's file has these bytes: LFS files by SHA-256, others by git blob id."""
    if remote is None:
        return False
    if remote.lfs is not None:
        return remote.lfs.sha256 == hashlib.sha256(content).hexdigest()
    return remote.blob_id == git_hash(content)


def _push_error(exc: Exception, endpoint: str) -> str:
    if isinstance(exc, OfflineModeIsEnabled):
        return "HF_HUB_OFFLINE is set; unset it to push"
    if isinstance(exc, httpx2.TransportError):
        return f"cannot reach the Hub at {endpoint} ({one_line(exc)})"
    if isinstance(exc, HfHubHTTPError) and exc.response.status_code in (401, 403):
        return "the Hub refused the token; give HF_TOKEN write access to the repo's namespace"
    return one_line(exc)
