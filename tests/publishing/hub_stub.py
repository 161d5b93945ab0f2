"""An in-memory stand-in for the Hugging Face Hub's HTTP API, for the real huggingface_hub client.

It serves, on 127.0.0.1 and a free port, what huggingface_hub 2.4 calls to create a
repo or branch, list a tree, validate a card, preupload and commit (regular files sent
inline as base64; no LFS), read repo info and resolve (HEAD and GET) files. Point the
client at it with HF_ENDPOINT. Writes need ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

INITIAL_FILES = {".gitattributes": b"*.model filter=lfs diff=lfs merge=lfs -text\n"}
TYPES = {"models": "model", "datasets": "dataset"}
API_ROUTE = re.compile(r"^/api/(models|datasets)/([^/]+)/([^/]+)(?:/(\w[\w-]*)/([^/]+)(/.*)?)?$")
RESOLVE_ROUTE = re.compile(r"^(?:/(datasets))?/([^/]+)/([^/]+)/resolve/([^/]+)/(.+)$")


def git_hash(content: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(content) + content).hexdigest()


@dataclass
class Commit:
    oid: str
    message: str
    description: str
    files: dict[str, bytes]
    added: list[str]
    deleted: list[str]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    branches: dict[str, str] = field(default_factory=dict)
    commits: dict[str, Commit] = field(default_factory=dict)
    history: list[str] = field(default_factory=list)

    def commit(self, branch: str, message: str, description: str, changes: dict) -> Commit:
        """Apply ``changes`` ({path: bytes, or None to delete}) on the branch's head."""
        parent = self.commits[self.branches[branch]].files if branch in self.branches else {}
        files = {**parent, **{p: c for p, c in changes.items() if c is not None}}
        deleted = [p for p, c in changes.items() if c is None]
        for path in deleted:
            files.pop(path, None)
        seed = json.dumps([self.branches.get(branch), message, len(self.history)])
        oid = hashlib.sha1(seed.encode()).hexdigest()
        commit = Commit(
            oid, message, description, files, sorted(set(changes) - set(deleted)), deleted
        )
        self.commits[oid] = commit
        self.history.append(oid)
        self.branches[branch] = oid
        return commit

    def at(self, revision: str) -> Commit | None:
        oid = self.branches.get(revision, revision)
        return self.commits.get(oid)


class HubStub:
    """Start with ``with HubStub() as hub:``; ``hub.url`` goes into HF_ENDPOINT."""

    def __init__(self, token: str = "hf_stand_in_token") -> None:
        self.token = token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.requests: list[tuple[str, str, str]] = []  # (method, path, authorization)
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.server.hub = self  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> HubStub:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.thread.is_alive():
            self.server.shutdown()
        self.server.server_close()

    def create(self, repo_type: str, repo_id: str) -> Repo:
        repo = Repo(repo_type, repo_id)
        repo.commit("main", "initial commit", "", dict(INITIAL_FILES))
        self.repos[(repo_type, repo_id)] = repo
        return repo

    def seed(self, repo_type: str, repo_id: str, files: dict[str, bytes], message: str) -> Commit:
        """Put files in a repo directly, as if someone had pushed them."""
        with self.lock:
            repo = self.repos.get((repo_type, repo_id)) or self.create(repo_type, repo_id)
            return repo.commit("main", message, "", files)

    def repo(self, repo_type: str, repo_id: str) -> Repo:
        return self.repos[(repo_type, repo_id)]

    def calls(self, method: str, pattern: str) -> list[tuple[str, str, str]]:
        return [r for r in self.requests if r[0] == method and re.search(pattern, r[1])]


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format, *args) -> None:  # keep test output quiet
        pass

    @property
    def hub(self) -> HubStub:
        return self.server.hub  # type: ignore[attr-defined]

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        self.body = self._read_body()
        self.hub.requests.append((method, url.path, self.headers.get("authorization", "")))
        with self.hub.lock:
            self._route(method, url.path)

    def _route(self, method: str, path: str) -> None:
        if method == "POST" and path == "/api/repos/create":
            return self._create_repo()
        if method == "POST" and path == "/api/validate-yaml":
            return self._validate_yaml()
        if match := RESOLVE_ROUTE.match(path):
            kind, namespace, name, revision, filename = match.groups()
            repo_type = "dataset" if kind else "model"
            return self._resolve(
                method, repo_type, f"{namespace}/{name}", unquote(revision), filename
            )
        match = API_ROUTE.match(path)
        if not match:
            return self._error(HTTPStatus.NOT_FOUND, "no such endpoint in the stand-in")
        kind, namespace, name, action, revision, rest = match.groups()
        repo = self.hub.repos.get((TYPES[kind], f"{namespace}/{name}"))
        if repo is None:
            return self._error(HTTPStatus.NOT_FOUND, "Repository not found", code="RepoNotFound")
        revision = unquote(revision or "main")
        handlers = {
            ("GET", None): self._repo_info,
            ("GET", "revision"): self._repo_info,
            ("GET", "tree"): lambda r, rev: self._tree(r, rev, unquote((rest or "/")[1:])),
            ("POST", "preupload"): self._preupload,
            ("POST", "commit"): self._commit,
            ("POST", "branch"): self._create_branch,
        }
        handler = handlers.get((method, action))
        if handler is None:
            return self._error(HTTPStatus.NOT_FOUND, f"no {method} {action} in the stand-in")
        if method == "POST" and not self._authorized():
            return None
        return handler(repo, revision)

    def _create_repo(self) -> None:
        if not self._authorized():
            return
        payload = json.loads(self.body)
        repo_type = payload.get("type") or "model"
        repo_id = f"{payload['organization']}/{payload['name']}"
        prefix = "" if repo_type == "model" else f"{repo_type}s/"
        body = {"url": f"{self.hub.url}/{prefix}{repo_id}", "name": repo_id}
        if (repo_type, repo_id) in self.hub.repos:
            self._json({"error": "You already created this repo", **body}, HTTPStatus.CONFLICT)
            return
        self.hub.create(repo_type, repo_id)
        self._json(body)

    def _validate_yaml(self) -> None:
        content = json.loads(self.body)["content"]
        try:
            front = content.split("---\n", 2)[1]
            assert isinstance(yaml.safe_load(front), dict)
        except (IndexError, AssertionError, yaml.YAMLError) as exc:
            message = f"bad front matter: {exc}"
            self._json({"errors": [{"message": message}]}, HTTPStatus.BAD_REQUEST)
            return
        self._json({"errors": [], "warnings": []})

    def _repo_info(self, repo: Repo, revision: str) -> None:
        commit = self._commit_at(repo, revision)
        if commit:
            siblings = [{"rfilename": path} for path in sorted(commit.files)]
            self._json(
                {"id": repo.repo_id, "sha": commit.oid, "private": False, "siblings": siblings}
            )

    def _tree(self, repo: Repo, revision: str, under: str) -> None:
        commit = self._commit_at(repo, revision)
        if commit is None:
            return
        recursive = self.query.get("recursive", ["False"])[0].lower() == "true"
        prefix = f"{under.rstrip('/')}/" if under else ""
        entries: dict[str, dict] = {}
        for path, content in sorted(commit.files.items()):
            if not path.startswith(prefix):
                continue
            parts = path[len(prefix) :].split("/")
            for depth in range(1, len(parts)):
                folder = prefix + "/".join(parts[:depth])
                entries.setdefault(folder, {"type": "directory", "path": folder, "oid": "0" * 40})
                if not recursive:
                    break
            if recursive or len(parts) == 1:
                entries[path] = {
                    "type": "file",
                    "path": path,
                    "size": len(content),
                    "oid": git_hash(content),
                }
        self._json(list(entries.values()))

    def _preupload(self, repo: Repo, revision: str) -> None:
        commit = self._commit_at(repo, revision)
        if commit is None:
            return
        files = [
            {
                "path": f["path"],
                "uploadMode": "regular",
                "shouldIgnore": False,
                "oid": git_hash(commit.files[f["path"]]) if f["path"] in commit.files else None,
            }
            for f in json.loads(self.body)["files"]
        ]
        self._json({"files": files, "commitOid": commit.oid})

    def _commit(self, repo: Repo, revision: str) -> None:
        if self._commit_at(repo, revision) is None:
            return
        lines = [json.loads(line) for line in self.body.decode().splitlines() if line.strip()]
        header = next(item["value"] for item in lines if item["key"] == "header")
        changes: dict[str, bytes | None] = {}
        for item in lines:
            key, value = item["key"], item["value"]
            if key == "file":
                changes[value["path"]] = base64.b64decode(value["content"])
            elif key in ("deletedFile", "deletedFolder"):
                changes[value["path"]] = None
            elif key != "header":
                self._error(HTTPStatus.BAD_REQUEST, f"the stand-in does not take {key} operations")
                return
        commit = repo.commit(revision, header["summary"], header.get("description", ""), changes)
        prefix = "" if repo.repo_type == "model" else f"{repo.repo_type}s/"
        url = f"{self.hub.url}/{prefix}{repo.repo_id}/commit/{commit.oid}"
        self._json(
            {"success": True, "commitOid": commit.oid, "commitUrl": url, "pullRequestUrl": None}
        )

    def _create_branch(self, repo: Repo, branch: str) -> None:
        if branch in repo.branches:
            self._error(HTTPStatus.CONFLICT, f"branch {branch} already exists")
            return
        start = (json.loads(self.body or b"{}") or {}).get("startingPoint") or "main"
        commit = self._commit_at(repo, start)
        if commit:
            repo.branches[branch] = commit.oid
            self._json({})

    def _resolve(
        self, method: str, repo_type: str, repo_id: str, revision: str, filename: str
    ) -> None:
        repo = self.hub.repos.get((repo_type, repo_id))
        if repo is None:
            return self._error(HTTPStatus.NOT_FOUND, "Repository not found", code="RepoNotFound")
        commit = self._commit_at(repo, revision)
        if commit is None:
            return None
        content = commit.files.get(unquote(filename))
        headers = {"X-Repo-Commit": commit.oid}
        if content is None:
            return self._error(
                HTTPStatus.NOT_FOUND, "Entry not found", code="EntryNotFound", headers=headers
            )
        headers |= {"ETag": f'"{git_hash(content)}"', "Content-Type": "application/octet-stream"}
        return self._send(HTTPStatus.OK, content, headers)

    def _commit_at(self, repo: Repo, revision: str) -> Commit | None:
        commit = repo.at(revision)
        if commit is None:
            self._error(
                HTTPStatus.NOT_FOUND, f"Invalid rev id: {revision}", code="RevisionNotFound"
            )
        return commit

    def _authorized(self) -> bool:
        if self.headers.get("authorization") == f"Bearer {self.hub.token}":
            return True
        self._error(HTTPStatus.UNAUTHORIZED, "Invalid username or password.")
        return False

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while size := int(self.rfile.readline().split(b";")[0], 16):
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            self.rfile.readline()
            return b"".join(chunks)
        return self.rfile.read(int(self.headers.get("content-length") or 0))

    def _json(self, value, status: HTTPStatus = HTTPStatus.OK) -> None:
        self._send(status, json.dumps(value).encode(), {"Content-Type": "application/json"})

    def _error(self, status: HTTPStatus, message: str, *, code: str = "", headers=None) -> None:
        headers = {
            **(headers or {}),
            "Content-Type": "application/json",
            "X-Error-Message": message,
        }
        if code:
            headers["X-Error-Code"] = code
        self._send(status, json.dumps({"error": message}).encode(), headers)

    def _send(
        self, status: HTTPStatus, content: bytes, headers: dict, *, body: bool = True
    ) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if self.command != "HEAD":  # a HEAD answer has the GET's length and no body
            self.wfile.write(content)
