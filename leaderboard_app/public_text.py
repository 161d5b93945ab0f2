"""Server text (job errors, load checks) as public pages show it.

An error's message can name where the server keeps things (a checkpoint's folder, a
home directory, site-packages); the file name is what a reader can act on, the folders
are not theirs to see. Staff read the whole traceback on the job page.
"""

from __future__ import annotations

import re

_PART = r"[^\s/\"'`()\[\]{}<>,;:|]"
# An absolute path's folders: a '/' that starts a word (not a unit's eV/Å, a URL's
# '//' or a relative path's), then one or more folders, then the file's name.
SERVER_FOLDERS = re.compile(rf"(?<![\w.~:/-])/(?:{_PART}+/)+(?={_PART})")


def without_server_paths(text: str) -> str:
    """``text`` with every absolute path's folders shown as '…/': '/srv/m/x.pt' → '…/x.pt'."""
    return SERVER_FOLDERS.sub("…/", text or "")
