"""Limits on what an input file may make us read or build, checked before the work.

A structure file's size and each xyz frame's claimed atom count are checked before ASE
reads it (ASE skips a claimed 10¹² lines one by one); a YAML document is refused when
its aliases expand beyond a node count (a 482-byte alias bomb expands to 72 MB).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from compute.errors import ComputeError

MAX_FILE_BYTES = 256 * 1024**2
MAX_ATOMS = 100_000  # per structure: far beyond any benchmark cell
MAX_YAML_BYTES = 1024**2
MAX_YAML_NODES = 100_000  # values after aliases are expanded
XYZ_FORMATS = frozenset(("extxyz", "xyz"))


class InputTooLarge(ComputeError):
    """A file, or what it claims or expands to, is beyond the set limits."""


def check_file_size(path: Path, limit: int = MAX_FILE_BYTES) -> None:
    size = path.stat().st_size
    if size > limit:
        raise InputTooLarge(f"{path}: {size} bytes, more than the limit of {limit}")


def check_xyz_atom_counts(path: Path, limit: int = MAX_ATOMS) -> None:
    """Walk an xyz file's frame headers; refuse a count that is not a number or is over
    ``limit``. A frame cut short is left to the reader to report."""
    with open(path, "rb") as handle:
        frame = 0
        while header := handle.readline():
            if not header.strip():
                continue
            frame += 1
            try:
                count = int(header.split()[0])
            except ValueError:
                return  # not a count: the reader names the line
            if not 0 <= count <= limit:
                raise InputTooLarge(
                    f"{path}: frame {frame} claims {count} atoms; the limit is {limit}"
                )
            for _ in range(count + 1):
                if not handle.readline():
                    return


def safe_yaml(text: str, *, where: str) -> Any:
    """``yaml.safe_load`` of ``text``, refused when it is over MAX_YAML_BYTES or its
    aliases expand to more than MAX_YAML_NODES values; raises InputTooLarge or
    yaml.YAMLError."""
    if len(text.encode()) > MAX_YAML_BYTES:
        raise InputTooLarge(f"{where}: more than {MAX_YAML_BYTES} bytes of YAML")
    loader = yaml.SafeLoader(text)  # parsed once: the nodes counted are those constructed
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _count_nodes(node, where)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _count_nodes(root: yaml.Node, where: str) -> None:
    """Count nodes as the loaded value will hold them, each alias expanded in full."""
    seen = 0
    stack = [root]
    while stack:
        node = stack.pop()
        seen += 1
        if seen > MAX_YAML_NODES:
            raise InputTooLarge(
                f"{where}: its YAML expands to more than {MAX_YAML_NODES} values "
                "(aliases repeated inside aliases)"
            )
        if isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
        elif isinstance(node, yaml.MappingNode):
            stack.extend(item for pair in node.value for item in pair)
