"""Structure sets that several tasks share, one module per set with its provenance.

A task imports its set's ``StructureSetSpec`` from the set's module and names it in its
spec's ``structure_sets``; nothing here lists the sets (compute.tasks.structure_sets()
collects them from the task specs), so adding a set is adding a module.
"""
