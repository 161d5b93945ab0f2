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


# An operator's command inside a message ("run 7 was interrupted; run_benchmark --resume
# 7 goes on"): a clause of its own or a parenthesis, which public pages leave out.
_COMMAND = r"\b(?:run_benchmark|manage\.py)\b"
_COMMAND_PARENTHESIS = re.compile(rf"\s*\([^()]*{_COMMAND}[^()]*\)")


def without_operator_commands(text: str) -> str:
    """``text`` without the clauses (between semicolons) or parentheses that name a
    management command: visitors cannot run them, operators read them in the logs."""
    text = _COMMAND_PARENTHESIS.sub("", text or "")
    return "; ".join(part for part in text.split("; ") if not re.search(_COMMAND, part))


def checkpoint_shown(checkpoint: str) -> str:
    """A checkpoint as public pages show it: a path on the server by its file name only;
    names, URLs and hf:// files as they are."""
    if checkpoint.startswith(("/", "~", "./", "../")):
        return checkpoint.rstrip("/").rsplit("/", 1)[-1]
    return checkpoint


def public_message(text: str) -> str:
    """A job's error or a load check as public pages show it: no folders, no commands."""
    return without_server_paths(without_operator_commands(text))
