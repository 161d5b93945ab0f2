"""The Procfile's processes run as a deployment runs them, and plain HTTP requests.

Shared by the tests and bench/leaderboard_pages.py. Servers listen on loopback only.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager
from pathlib import Path
from typing import NamedTuple
from urllib.parse import urlsplit

import brotli
from django.core.management.utils import get_random_secret_key

ROOT = Path(__file__).resolve().parent.parent
# The Procfile names `python` and `gunicorn`: this interpreter's, as in an activated venv.
PATH = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
HTTPS = {"X-Forwarded-Proto": "https"}  # what the TLS-terminating proxy in front adds
DECOMPRESS = {"br": brotli.decompress, "gzip": gzip.decompress}
BROWSER = {**HTTPS, "Accept-Encoding": "gzip, deflate, br"}  # what a browser sends


class Response(NamedTuple):
    status: int
    headers: http.client.HTTPMessage
    body: bytes  # as sent: still compressed when Content-Encoding says so

    @property
    def text(self) -> str:
        """The body decompressed and decoded."""
        encoding = self.headers.get("Content-Encoding")
        return (DECOMPRESS[encoding](self.body) if encoding else self.body).decode()

    @property
    def wire_bytes(self) -> int:
        """Status line, headers and body as transferred (approximately, for the headers)."""
        return len("HTTP/1.1 200 OK\r\n") + len(str(self.headers)) + len(self.body)


def production_env(database_url: str, static_root: Path) -> dict[str, str]:
    """The environment of a deployment: the one switch, a key, a database, no Redis."""
    return {
        "ARENA_PRODUCTION": "1",
        "SECRET_KEY": get_random_secret_key(),
        "DATABASE_URL": database_url,
        "STATIC_ROOT": str(static_root),
        "ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_URL": "",
        "DEBUG": "0",
    }


def procfile_command(name: str) -> str:
    """The command line of process ``name`` in the Procfile."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        key, colon, command = line.partition(":")
        if colon and key == name:
            return command.strip()
    raise KeyError(f"the Procfile has no {name!r} process")


def run_process(name: str, env: Mapping[str, str], timeout: float = 600) -> None:
    """Run a Procfile process to its end (``release``); raise with its output if it fails."""
    done = subprocess.run(
        procfile_command(name),
        shell=True,
        cwd=ROOT,
        env={**os.environ, **env, "PATH": PATH},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode:
        raise RuntimeError(f"{name} exited {done.returncode}:\n{done.stdout}{done.stderr}")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def web_server(env: Mapping[str, str], *, workers: int = 2) -> AbstractContextManager[str]:
    """The Procfile's ``web`` process (gunicorn) on a free loopback port; yields its URL."""
    return server(procfile_command("web"), {**env, "WEB_CONCURRENCY": str(workers)})


@contextlib.contextmanager
def server(command: str, env: Mapping[str, str]) -> Iterator[str]:
    """``command``, a shell line listening on $HOST:$PORT, on a free loopback port."""
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(
            command,
            shell=True,
            cwd=ROOT,
            env={**os.environ, **env, "PATH": PATH, "HOST": "127.0.0.1", "PORT": str(port)},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: the shell, the server, workers
        )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_it_answers(url, process, log)
            yield url
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def fetch(url: str, headers: Mapping[str, str] | None = None) -> Response:
    """One GET on a fresh connection; redirects are returned, not followed."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        connection.request("GET", target, headers=dict(headers or {}))
        response = connection.getresponse()
        return Response(response.status, response.headers, response.read())
    finally:
        connection.close()


def _wait_until_it_answers(url: str, process: subprocess.Popen, log) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        with contextlib.suppress(OSError):
            fetch(f"{url}/static/leaderboard/arena.css")
            return
        time.sleep(0.2)
    log.seek(0)
    raise RuntimeError(f"the web process did not answer at {url}:\n{log.read()[-4000:]}")
