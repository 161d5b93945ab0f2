"""Each worker environment built by build_env passes its families' loader tests
(tests/compute/families/test_FAMILY.py), run with that environment's Python.

Slow: the first run builds every environment under var/envs, three at a time (grace
and deepmd bring TensorFlow and a CUDA torch, several GB).
"""

from __future__ import annotations

import os
import subprocess

import pytest

from compute.calculators import MAIN_ENVIRONMENT
from compute.environments import environment_names, environment_python, families_in
from tests.conftest import ROOT

pytestmark = pytest.mark.envs
WORKER_ENVIRONMENTS = [e for e in environment_names() if e != MAIN_ENVIRONMENT]


@pytest.mark.parametrize("environment", WORKER_ENVIRONMENTS)
def test_the_environment_builds_and_its_families_load(environment, built_environments, settings):
    assert f"environment {environment} (" in built_environments
    files = [f"tests/compute/families/test_{family}.py" for family in families_in(environment)]
    done = subprocess.run(
        [
            str(environment_python(settings.ARENA_ENVS_DIR, environment)),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-rs",
            *files,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
        env={**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"},
    )
    summary = done.stdout.strip().splitlines()[-1]
    assert done.returncode == 0, done.stdout[-4000:]
    assert "passed" in summary and "skipped" not in summary, summary
