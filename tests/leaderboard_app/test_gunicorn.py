"""The site as deployed: gunicorn from the Procfile with ARENA_PRODUCTION=1 and WhiteNoise."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from tests.conftest import ROOT
from tests.serving import DECOMPRESS, HTTPS, fetch

A_YEAR_S = 365 * 86400


def test_gunicorn_serves_https_only_through_the_proxy(gunicorn, arena):
    plain = fetch(f"{gunicorn}/")
    assert plain.status == 301
    assert plain.headers["Location"] == f"https://{gunicorn.removeprefix('http://')}/"
    page = fetch(f"{gunicorn}/", {**HTTPS, "Accept-Encoding": "gzip"})
    assert page.status == 200 and page.headers["Content-Encoding"] == "gzip"
    assert "Arena ranking" in page.text
    assert page.headers["Strict-Transport-Security"] == (
        f"max-age={A_YEAR_S}; includeSubDomains; preload"
    )


def test_static_files_have_hashed_names_are_compressed_and_cached_for_a_year(gunicorn, arena):
    task = fetch(f"{gunicorn}{reverse('leaderboard:task', args=['eos'])}", HTTPS)
    sources = {
        "plotly/plotly-cartesian.min.js": r"plotly/plotly-cartesian\.min\.(\w{12})\.js",
        "leaderboard/arena.js": r"leaderboard/arena\.(\w{12})\.js",
        "leaderboard/arena.css": r"leaderboard/arena\.(\w{12})\.css",
    }
    for name, pattern in sources.items():
        source = Path(finders.find(name)).read_bytes()
        found = re.search(rf'"(/static/{pattern})"', task.text)
        assert found, name
        url, digest = found.groups()
        assert digest == hashlib.md5(source).hexdigest()[:12]  # Django's manifest names
        for encoding, decompress in DECOMPRESS.items():
            response = fetch(f"{gunicorn}{url}", {**HTTPS, "Accept-Encoding": encoding})
            assert response.headers["Content-Encoding"] == encoding
            assert decompress(response.body) == source
            assert (
                response.headers["Cache-Control"] == f"max-age={10 * A_YEAR_S}, public, immutable"
            )
        if name.startswith("plotly"):
            assert len(response.body) < 0.4 * len(source)


@pytest.mark.parametrize(("path", "status"), [("/models/nope/", 404), ("/jobs/{failed}/", 200)])
def test_visitors_see_no_tracebacks_or_paths(gunicorn, arena, path, status):
    response = fetch(gunicorn + path.format(failed=arena.failed_job_id), HTTPS)
    assert response.status == status
    html = response.text
    assert "Traceback (most recent call last)" not in html
    assert str(ROOT) not in html and "URLconf" not in html
