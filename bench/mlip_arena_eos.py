"""MLIP Arena's own EOS on Delta crystals, timed: run this with MLIP Arena's python.

Usage: /tmp/mlipa/bin/python bench/mlip_arena_eos.py [--structures Al,Cu,...] [--fn]

Needs a virtualenv with ``mlip-arena``, ``chgnet`` and ``prefect`` (see the README; with
Prefect 3.6, ``fastapi<0.120``, or its temporary API server fails to start); it
imports nothing of this project. The protocol is MLIP Arena's EOS benchmark: an
OPT task (FIRE on the FrechetCell filter to fmax 0.1 eV/Å), then its EOS task (FIRE,
21 points, ±20 % volume, ``concurrent=False``), with its CHGNet calculator (model
0.3.0) on the CPU. ``--fn`` calls the tasks' undecorated functions (``.fn``), without
Prefect. Prints one JSON line: seconds (imports, model load, Prefect's temporary
server, all structures), seconds_compute (the structures only), and each structure's
bulk modulus (GPa). Prefect's server may need more than its default 20 s to start on
a busy machine: PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=180.
"""

from __future__ import annotations

import argparse
import json
import time

STARTED = time.perf_counter()

from ase.collections import dcdft  # noqa: E402
from mlip_arena.models.externals.chgnet import CHGNet  # noqa: E402
from mlip_arena.tasks.eos import run as EOS  # noqa: E402
from mlip_arena.tasks.optimize import run as OPT  # noqa: E402
from prefect import task  # noqa: E402

DEFAULT_STRUCTURES = "Al,Cu,Si,Ag,W,Au,Pd,Pt,Ni,Mo,Ta,Ge"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--structures", default=DEFAULT_STRUCTURES)
    parser.add_argument("--fn", action="store_true", help="the tasks' functions, no Prefect")
    options = parser.parse_args()
    opt, eos = (OPT.fn, EOS.fn) if options.fn else (OPT, EOS)
    calculator = CHGNet(device="cpu")
    if not options.fn:
        task(lambda: None)()  # Prefect starts its temporary API server at the first task
    compute_started = time.perf_counter()
    bulk_moduli = {}
    for label in options.structures.split(","):
        relaxed = opt(
            dcdft[label],
            calculator,
            optimizer="FIRE",
            filter="FrechetCell",
            criterion={"fmax": 0.1},
        )
        result = eos(
            relaxed["atoms"],
            calculator,
            optimizer="FIRE",
            npoints=21,
            max_abs_strain=0.2,
            concurrent=False,
        )
        bulk_moduli[label] = float(result["K"])
    finished = time.perf_counter()
    print(
        json.dumps(
            {
                "seconds": finished - STARTED,
                "seconds_compute": finished - compute_started,
                "b0_gpa": bulk_moduli,
                "prefect": not options.fn,
            }
        )
    )


if __name__ == "__main__":
    main()
