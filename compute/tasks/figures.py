"""Which figures a task's page draws, as plain data: the task says what to plot against
what, the leaderboard's board kit (``leaderboard_app/boards/kit.py``) says how it looks.

A task whose figures are all of these shapes declares them in its spec
(``TaskSpec.figures``) and needs no board module of its own:

- ``Curves``: one curve per model for one structure, overlaid (E(V), a minimum-energy
  path, steps/s against size, phonon bands: a y that is a list at each x draws one
  branch per entry), optionally with a reference value marked on an axis;
  ``time_series`` is the same against the MD summary series' time.
- ``Parity``: headline quantities against the structure's reference values, one panel
  each, coloured by model or by a category of the structure (crystal system).
- ``ElementTable``: a periodic table of a per-structure metric, averaged per element.
- ``Histogram``: each model's distribution of a metric or quantity over structures.
- ``Survival``: the share of each model's runs still valid against normalised time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from compute.tasks.spec import TaskSpec

FIRST, MIDDLE, LAST = "first", "middle", "last"


@dataclass(frozen=True)
class Axis:
    """One axis of a curve: ``key`` names a list of numbers in the output (or a field of
    each record, for ``Curves.records``); ``label`` carries the unit.

    ``ratio_to`` / ``minus`` divide by or subtract the value at the ``first``, ``middle``
    or ``last`` point (V / V input, E − E(t = 0)); then ``per_atom`` divides by the
    output's ``natoms`` and ``factor`` scales (1000: eV to meV).
    """

    key: str
    label: str
    ratio_to: str = ""
    minus: str = ""
    per_atom: bool = False
    factor: float = 1.0
    log: bool = False

    def __post_init__(self) -> None:
        for point in (self.ratio_to, self.minus):
            if point not in ("", FIRST, MIDDLE, LAST):
                raise ValueError(f"axis {self.key}: {point!r} is not first, middle or last")


@dataclass(frozen=True)
class Marker:
    """A reference value of the structure (``reference[key]``) drawn across the plot as
    a line at that x (``axis="x"``, e.g. an experimental r_e) or y (a DFT barrier)."""

    key: str
    label: str
    axis: str = "x"


@dataclass(frozen=True)
class Curves:
    """Every model's curve for one structure; ``records`` names a list of dicts in the
    output (the MD ``series``, speed's ``sizes``) whose fields the axes read."""

    name: str
    title: str
    x: Axis
    y: Axis
    records: str = ""
    marker: Marker | None = None


@dataclass(frozen=True)
class Parity:
    """Headline ``quantities`` against the structure's reference values of the same keys,
    named ``reference`` (WIEN2k, PBE, experiment); ``colour_by`` names a reference key
    whose values colour the points (crystal system), else each model has its colour.
    ``log`` axes suit positive values spanning decades (moduli); quantities of either
    sign (formation energies) take linear ones."""

    quantities: tuple[str, ...]
    reference: str = "reference"
    colour_by: str = ""
    log: bool = True


@dataclass(frozen=True)
class ElementTable:
    """A periodic table of one model's metric, per element: the mean over the structures
    holding it. ``metrics`` the visitor may pick (default: every metric); the headline
    metric first."""

    metrics: tuple[str, ...] = ()


@dataclass(frozen=True)
class Histogram:
    """Each model's distribution over structures of ``key`` (a metric or a headline
    quantity), on shared bins; ``log`` bins on a log scale (errors spanning decades)."""

    key: str
    bins: int = 20
    log: bool = False


@dataclass(frozen=True)
class Survival:
    """MLIP Arena's survival curve: the share of runs whose ``metric`` (a valid fraction
    of the run, 0 to 1) reaches each normalised time; its area is the metric's mean."""

    metric: str


Figure = Curves | Parity | ElementTable | Histogram | Survival


def time_series(name: str, title: str, y: Axis) -> Curves:
    """A field of the MD summary series against time in ps."""
    return Curves(name, title, x=Axis("time_ps", "t (ps)"), y=y, records="series")


def check_figures(spec: TaskSpec) -> None:
    """Raise ValueError naming a key of the headline metric or of a figure that the
    spec's metrics or quantities lack."""
    metrics = {m.key for m in spec.metrics}
    quantities = {q.key for q in spec.quantities}
    wanted = [(spec.headline_metric, metrics)] if spec.headline_metric else []
    for figure in spec.figures:
        if isinstance(figure, Parity):
            wanted += [(key, quantities) for key in figure.quantities]
        elif isinstance(figure, ElementTable):
            wanted += [(key, metrics) for key in figure.metrics]
        elif isinstance(figure, Histogram):
            wanted.append((figure.key, metrics | quantities))
        elif isinstance(figure, Survival):
            wanted.append((figure.metric, metrics))
    unknown = sorted({key for key, known in wanted if key not in known})
    if unknown:
        raise ValueError(f"task {spec.name}: figures name unknown keys {unknown}")
