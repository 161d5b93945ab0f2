"""A checkpoint whose unpickling runs code: it writes a marker file, as an attack would."""

from __future__ import annotations

from pathlib import Path

import torch


class WritesMarker:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').write('ran')",))


def build_crafted_checkpoint(path: Path, marker: Path, *, inside: str | None = None) -> Path:
    """``torch.save`` of the payload, alone or under key ``inside`` of a dict."""
    payload = WritesMarker(marker)
    torch.save({inside: payload} if inside else payload, path)
    return path
