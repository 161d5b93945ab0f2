"""Import-time workaround shared by the e3nn-based families (MACE, SevenNet)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Iterator

import torch


@contextlib.contextmanager
def e3nn_import_allowed() -> Iterator[None]:
    """Let e3nn 0.4.4 torch.load its constants under torch>=2.6, and mute import chatter."""
    with torch.serialization.safe_globals([slice]), contextlib.redirect_stdout(io.StringIO()):
        yield
