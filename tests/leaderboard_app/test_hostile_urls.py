"""Malformed and hostile URLs are answered 404 or a page, never a server error; a public
model page names a checkpoint on the server by its file name only."""

from __future__ import annotations

import pytest

from models_app.models import MLIP

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999999"


@pytest.mark.parametrize(
    "url",
    [
        "/files/x%00.json",
        "/files/%00",
        "/files/../../etc/passwd",
        f"/jobs/?run={HUGE}",
        "/jobs/?run=-1&page=abc&status=%00",
        f"/runs/{HUGE}/",
        f"/jobs/{HUGE}/",
        f"/structures/{HUGE}/",
        "/runs/?page=99999999999999999999",
        "/models/x%00/",
        "/tasks/eos/?protocol=%00&model=%00&structure=" + HUGE,
        "/compare/?models=%00,EMT",
        "/?format=csv&table=%00",
    ],
)
def test_no_url_is_a_server_error(client, seeded, settings, url):
    settings.DEBUG = False
    client.raise_request_exception = False
    response = client.get(url)
    assert response.status_code in (200, 404), (url, response.status_code)


def test_a_model_page_shows_a_checkpoint_on_the_server_by_its_file_name(client, seeded):
    MLIP.objects.create(
        name="Local",
        slug="local",
        family="mace",
        checkpoint="/srv/secret/models/tiny.model",
        enabled=False,
    )
    page = client.get("/models/local/").content.decode()
    assert "<code>tiny.model</code>" in page
    assert "/srv/secret" not in page
    chgnet = client.get("/models/chgnet/").content.decode()
    assert "<code>0.3.0</code>" in chgnet
