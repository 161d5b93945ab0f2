"""The family table's environments: what each holds, and their queues."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from compute.calculators import FAMILIES
from compute.environments import (
    all_queue_names,
    current_environment,
    environment_of_queue,
    families_in,
    requirements_of,
)
from tests.conftest import ROOT


def requirement_lines(path: Path) -> set[str]:
    return {line.strip() for line in path.read_text().splitlines() if re.match(r"^[A-Za-z]", line)}


def test_the_main_environments_requirements_are_in_requirements_txt():
    listed = requirement_lines(ROOT / "requirements.txt") | requirement_lines(
        ROOT / "requirements-core.txt"
    )
    assert set(requirements_of("main")) <= listed


def test_e3nn_is_pinned_to_0_4_4_only_where_mace_lives():
    assert "e3nn==0.4.4" in requirements_of("main")
    for environment in ("fairchem", "mattersim", "nequip"):
        assert not any(r.startswith("e3nn") for r in requirements_of(environment))
    assert families_in("main") == ["ani", "chgnet", "emt", "mace", "matgl", "sevennet"]


def test_every_family_has_a_queue_per_device_kind():
    queues = all_queue_names()
    for family in FAMILIES.values():
        assert {f"gpu.{family.environment}", f"cpu.{family.environment}"} <= set(queues)
    assert environment_of_queue("gpu.fairchem") == "fairchem"


def test_this_interpreter_is_the_main_environment_unless_it_lives_under_the_root(tmp_path):
    assert current_environment(tmp_path) == "main"
    assert current_environment(Path(sys.prefix).resolve().parent) == Path(sys.prefix).name
