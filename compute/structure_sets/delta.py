"""The Delta test's 71 elemental crystals with their WIEN2k PBE equations of state.

Provenance: ASE's ``ase.collections.dcdft`` (ASE, LGPL-2.1), which holds the crystals and
the WIEN2k reference V₀, B₀ and B₀' of the Delta test (Lejaeghere et al., Science 351,
aad3000 (2016), DOI 10.1126/science.aad3000). Used by eos, ev and relax.
"""

from __future__ import annotations

from ase.collections import dcdft

from compute.structures import LabelledStructure, StructureSetSpec


def delta_structures() -> list[LabelledStructure]:
    structures = []
    for name in dcdft.names:
        data = dcdft.data[name]
        reference = {
            "source": "WIEN2k PBE (Delta test, ase.collections.dcdft)",
            "v0_a3_per_atom": data["wien2k_volume"],
            "b0_gpa": data["wien2k_B"],
            "b0_prime": data["wien2k_Bp"],
        }
        structures.append((name, dcdft[name], reference))
    return structures


DELTA_SET = StructureSetSpec(
    name="delta-dcdft",
    description="Elemental crystals of the Delta test (Lejaeghere et al., Science 2016)",
    build=delta_structures,
)
