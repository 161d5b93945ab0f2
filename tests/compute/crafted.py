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


def build_crafted_matgl_folder(folder: Path, marker: Path) -> Path:
    """A folder as matgl's ``Potential.save`` writes it, whose model.pt names a call to
    ``subprocess.run`` among the model's arguments: matgl imports and calls it on load."""
    import json
    import sys

    folder.mkdir(parents=True)
    model = {"@module": "matgl.apps.pes", "@class": "Potential", "@model_version": 99}
    (folder / "model.json").write_text(json.dumps(model))
    script = f"open({str(marker)!r}, 'w').write('ran')"
    call = {
        "@module": "subprocess",
        "@class": "run",
        "init_args": {"args": [sys.executable, "-c", script]},
    }
    torch.save({"model": call}, folder / "model.pt")
    torch.save({}, folder / "state.pt")
    return folder
