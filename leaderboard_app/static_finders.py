"""Serve plotly.js from the plotly package's own bundled file, as static/plotly/plotly.min.js."""

from __future__ import annotations

from pathlib import Path

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import Error
from django.core.files.storage import FileSystemStorage

PACKAGE_DATA = Path(plotly.__file__).resolve().parent / "package_data"
FILENAME = "plotly.min.js"
PREFIX = "plotly"
STATIC_PATH = f"{PREFIX}/{FILENAME}"


class PlotlyFinder(BaseFinder):
    """Finds only ``plotly/plotly.min.js``; no CDN, no copy in the repository."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.storage = FileSystemStorage(location=PACKAGE_DATA)
        self.storage.prefix = PREFIX

    def check(self, **kwargs) -> list[Error]:
        if (PACKAGE_DATA / FILENAME).is_file():
            return []
        return [Error(f"{PACKAGE_DATA / FILENAME} is missing; reinstall plotly", id="arena.E001")]

    def find(self, path: str, find_all: bool = False, **kwargs) -> str | list[str]:
        if path != STATIC_PATH or not (PACKAGE_DATA / FILENAME).is_file():
            return [] if find_all else ""
        found = str(PACKAGE_DATA / FILENAME)
        return [found] if find_all else found

    def list(self, ignore_patterns):
        yield FILENAME, self.storage
