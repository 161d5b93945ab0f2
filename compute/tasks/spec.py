"""What a benchmark task knows about itself: protocol, headline quantities, metrics, structures.

One ``TaskSpec`` per task folder. The Django apps read specs and never name a task:
the job function calls ``run`` and ``evaluate``, results keep ``quantities`` as their
headline, pages and exports show and rank ``metrics``, and ``seed_registry`` stores
the ``structure_sets``.
"""

from __future__ import annotations

import inspect
import math
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from compute.errors import TaskFailed
from compute.structures import LabelledStructure, StructureSetSpec  # noqa: F401 (re-exported)
from compute.tasks.figures import Figure, check_figures
from compute.tasks.param_kinds import default_kind, fits, kind_name, non_finite
from compute.tasks.reproduction import DETERMINISTIC, Tolerance

LOWER, HIGHER, TARGET = "lower", "higher", "target"
PROTOCOL, CUSTOM = "protocol", "custom"  # the defaults of ``run``; parameters of no variant
DIRECTIONS = (LOWER, HIGHER, TARGET)

TaskFunction = Callable[..., dict[str, Any]]
# (atoms_list, calculator, contexts=..., **params) -> per structure its output or its error
BatchFunction = Callable[..., Sequence[dict[str, Any] | Exception]]
MetricsFunction = Callable[[Mapping[str, Any], Mapping[str, Any] | None], dict[str, Any]]


NO_VALUE = "–"


def format_number(value: float, digits: int, *, percent: bool = False) -> str:
    """``value`` at a display precision: fixed decimals, or ``g`` for tiny and huge values."""
    if percent:
        return f"{value * 100:.{max(digits - 2, 1)}f}%"
    if value and not 1e-3 <= abs(value) < 1e5:
        return f"{value:.{digits}g}"
    return f"{value:.{digits}f}"


def format_mean_std(
    mean: float | None, std: float | None, digits: int, *, percent: bool = False
) -> str:
    """A mean with its deviation, ``1.875 ± 0.884``: the deviation in fixed decimals (never
    ``g``), none when ``std`` is None, and "–" for no finite mean."""
    if mean is None or (isinstance(mean, float) and not math.isfinite(mean)):
        return NO_VALUE
    text = format_number(mean, digits, percent=percent)
    if std is None:
        return text
    spread = format_number(std, digits, percent=True) if percent else f"{std:.{digits}f}"
    return f"{text} ± {spread}"


def displayed(value: float, digits: int, *, percent: bool = False) -> float:
    """The number a reader sees when ``value`` is shown with ``format_number``."""
    text = format_number(value, digits, percent=percent)
    return float(text[:-1]) / 100 if percent else float(text)


def with_unit(label: str, unit: str) -> str:
    return f"{label} ({unit})" if unit else label


@dataclass(frozen=True)
class Quantity:
    """A headline number of a result, e.g. B₀ in GPa; ``key`` names it in the output."""

    key: str
    label: str
    unit: str = ""
    digits: int = 3
    reproduce: Tolerance = DETERMINISTIC  # how closely a re-run must give it (verify)

    @property
    def heading(self) -> str:
        return with_unit(self.label, self.unit)


@dataclass(frozen=True)
class Metric:
    """A per-structure metric and how models are compared on its mean.

    ``direction``: ``lower`` or ``higher`` is better, or ``target``: closest to
    ``ideal``. ``absolute`` averages |value| (signed errors); ``ranked`` False shows
    the metric without ranking on it. ``on_failure`` is what a structure whose job
    failed adds to the model's mean (None: nothing; the task's failure rate counts it).
    """

    key: str
    label: str
    help: str
    direction: str
    ideal: float | None = None
    digits: int = 3
    unit: str = ""
    percent: bool = False
    integer: bool = False
    absolute: bool = False
    ranked: bool = True
    on_failure: float | None = None
    reproduce: Tolerance = DETERMINISTIC  # how closely a re-run must give it (verify)

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise ValueError(f"metric {self.key}: direction must be one of {DIRECTIONS}")
        if self.direction == TARGET and self.ideal is None:
            raise ValueError(f"metric {self.key}: a target direction needs an ideal value")

    @property
    def heading(self) -> str:
        return with_unit(self.label, self.unit)

    def value(self, raw: float | None) -> float | None:
        """The per-structure value that is averaged; None for anything but a finite number."""
        if isinstance(raw, bool) or not isinstance(raw, int | float) or not math.isfinite(raw):
            return None
        return abs(raw) if self.absolute else float(raw)

    def mean_std_text(self, mean: float | None, std: float | None) -> str:
        """The metric's mean over structures at its precision, as data (no markup)."""
        return format_mean_std(mean, std, self.digits, percent=self.percent)

    def shown(self, value: float) -> float:
        return displayed(value, self.digits, percent=self.percent)

    def format(self, value: float) -> str:
        return format_number(value, self.digits, percent=self.percent)

    def badness(self, mean: float | None) -> float | None:
        """A model's mean as a number where lower ranks better, at display precision."""
        if mean is None or not math.isfinite(mean):
            return None
        shown = self.shown(mean)
        if self.direction == LOWER:
            return shown
        if self.direction == HIGHER:
            return -shown
        return abs(shown - self.shown(self.ideal))


@dataclass(frozen=True)
class MetricGroup:
    """Ranked metrics that answer one question, e.g. "accuracy against DFT"; a task ranks
    models per group (the sum of the group's metric ranks), and overall by the sum of its
    group ranks. ``aspect``: which of the arena's ASPECTS the group answers (default:
    its key, where that is one)."""

    key: str
    title: str
    help: str
    metrics: tuple[str, ...]
    aspect: str = ""

    @property
    def counts_in(self) -> str:
        """The aspect the group's ranks count in, or ''."""
        aspect = self.aspect or self.key
        return aspect if aspect in ASPECTS else ""


# The arena's views beside its overall rank: each ranks the models over the task
# groups that answer one question alone.
ASPECTS = {"accuracy": "Accuracy against DFT", "soundness": "Physical soundness"}


def one_group(metrics: Sequence[Metric]) -> tuple[MetricGroup, ...]:
    """One group of every ranked metric; none when no metric is ranked."""
    keys = tuple(m.key for m in metrics if m.ranked)
    return (MetricGroup("ranked", "Ranked metrics", "Every ranked metric.", keys),) if keys else ()


@dataclass(frozen=True)
class Parameter:
    """A protocol parameter's unit and the range its values must lie in: ``minimum`` and
    ``maximum`` inclusive bounds, ``above`` and ``below`` strict ones, None an open side.
    Every number a parameter takes must be finite, declared here or not."""

    name: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    above: float | None = None
    below: float | None = None

    @property
    def range_text(self) -> str:
        """The range in words, e.g. ``> 0`` or ``>= 1 and <= 10``."""
        sides = [
            f"{sign} {bound:g}"
            for sign, bound in ((">=", self.minimum), (">", self.above), ("<=", self.maximum),
                                ("<", self.below))
            if bound is not None
        ]  # fmt: skip
        return " and ".join(sides)

    def violation(self, value: Any) -> str | None:
        """Why ``value`` is out of range, or None; values that are not numbers pass."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if (
            (self.minimum is not None and value < self.minimum)
            or (self.maximum is not None and value > self.maximum)
            or (self.above is not None and value <= self.above)
            or (self.below is not None and value >= self.below)
        ):
            return f"{self.name} must be {self.range_text}, not {value!r}"
        return None


def no_metrics(output: Mapping[str, Any], reference: Mapping[str, Any] | None) -> dict[str, Any]:
    return {}


@dataclass(frozen=True)
class TaskSpec:
    """Everything a benchmark task knows; the folder that defines it is the whole task.

    ``run(atoms, calculator, **params)`` returns a JSON-safe dict; its keyword defaults
    are the protocol. ``evaluate(output, reference)`` gives the per-structure metrics.
    ``summary`` names the metrics whose medians ``run_benchmark`` prints; ``groups``
    split the ranked metrics into the questions the task ranks on; ``parameters``
    give protocol parameters their units and ranges (checked before a run). Bump
    ``version`` when the protocol changes, so earlier results stop counting as done.
    A long task's ``run`` also takes ``context`` (``compute.run_context.RunContext``);
    ``time_limit_s`` bounds one job (RQ's job timeout), and ``variants`` names
    parameter sets other than the protocol, e.g. a short CPU run. ``headline_metric``
    is the number a summary shows; ``figures`` are those its page draws (figures.py).
    ``compared_within`` names output fields (``environment.device``) whose values must
    match for results to be compared: such a task ranks within each group of results
    and never in the arena. ``default_sets``: the sets a run covers when none is named
    (default: the first of ``structure_sets``). ``run_batch(atoms_list, calculator,
    contexts=..., **params)`` runs several structures with the same (full) parameters
    together and returns per structure what ``run`` would, or the exception it raised.
    """

    name: str
    title: str
    description: str
    run: TaskFunction
    evaluate: MetricsFunction = no_metrics
    category: str = ""
    version: int = 1
    quantities: tuple[Quantity, ...] = ()
    metrics: tuple[Metric, ...] = ()
    summary: tuple[str, ...] = ()
    structure_sets: tuple[StructureSetSpec, ...] = ()
    default_sets: tuple[str, ...] = ()
    reference_keys: tuple[str, ...] = ()
    time_limit_s: int = 3600
    variants: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: tuple[MetricGroup, ...] = ()
    parameters: tuple[Parameter, ...] = ()
    headline_metric: str = ""
    figures: tuple[Figure, ...] = ()
    compared_within: tuple[str, ...] = ()
    run_batch: BatchFunction | None = None

    def __post_init__(self) -> None:
        keys = {m.key for m in self.metrics}
        check_figures(self)
        unknown = [key for key in self.summary if key not in keys]
        if unknown:
            raise ValueError(f"task {self.name}: summary names unknown metrics {unknown}")
        if PROTOCOL in self.variants:
            raise ValueError(f"task {self.name}: {PROTOCOL!r} names the defaults, not a variant")
        for params in self.variants.values():
            self.check_params(params)

        unknown = sorted({p.name for p in self.parameters} - set(self._parameters()))
        if unknown:
            raise ValueError(f"task {self.name}: declares parameters run lacks: {unknown}")
        for parameter in self.parameters:  # the protocol itself must lie in its ranges
            default = self._parameters()[parameter.name].default
            if (why := parameter.violation(default)) is not None:
                raise ValueError(f"task {self.name}: default {why}")
        declared_sets = [s.name for s in self.structure_sets]
        if unknown := [name for name in self.default_sets if name not in declared_sets]:
            raise ValueError(
                f"task {self.name}: default sets {unknown} are not among its structure sets "
                f"{declared_sets}"
            )
        grouped = [key for group in self.groups for key in group.metrics]
        ranked = [m.key for m in self.ranked_metrics]
        if self.groups and sorted(grouped) != sorted(ranked):
            raise ValueError(
                f"task {self.name}: groups must hold each ranked metric once; "
                f"they hold {grouped}, the ranked metrics are {ranked}"
            )

    @property
    def takes_context(self) -> bool:
        """Whether ``run`` takes a ``context`` (progress, checkpoints): a long task."""
        return "context" in inspect.signature(self.run).parameters

    def variant_params(self, name: str) -> dict[str, Any]:
        """The parameters of variant ``name`` (``protocol``: none, the defaults)."""
        if name == PROTOCOL:
            return {}
        if name not in self.variants:
            known = ", ".join([PROTOCOL, *self.variants])
            raise TaskFailed(f"task {self.name!r} has no variant {name!r}; known: {known}")
        return dict(self.variants[name])

    def variant_of(self, params: Mapping[str, Any]) -> str:
        """Which protocol ``params`` are: ``protocol`` (the defaults), a variant's name, or
        ``custom`` for anything else."""
        defaults = self.default_params()
        if {**defaults, **params} == defaults:
            return PROTOCOL
        for name, values in self.variants.items():
            if {**defaults, **params} == {**defaults, **values}:
                return name
        return CUSTOM

    @property
    def metric_groups(self) -> tuple[MetricGroup, ...]:
        """The declared groups, or one group of every ranked metric."""
        return self.groups or one_group(self.metrics)

    @property
    def ranked_metrics(self) -> tuple[Metric, ...]:
        return tuple(m for m in self.metrics if m.ranked)

    @property
    def leading_metric(self) -> Metric | None:
        """The headline metric, else the first ranked one; None for a task without."""
        wanted = [m for m in self.metrics if m.key == self.headline_metric]
        return next(iter(wanted or self.ranked_metrics), None)

    @property
    def default_structure_sets(self) -> tuple[str, ...]:
        """The sets a run covers when none is named, first the main one."""
        if self.default_sets:
            return self.default_sets
        return (self.structure_sets[0].name,) if self.structure_sets else ()

    @property
    def default_structure_set(self) -> str:
        return next(iter(self.default_structure_sets), "")

    def parameter_unit(self, name: str) -> str:
        return next((p.unit for p in self.parameters if p.name == name), "")

    def metric(self, key: str) -> Metric:
        return next(m for m in self.metrics if m.key == key)

    def default_params(self) -> dict[str, Any]:
        """The protocol: the keyword defaults of ``run``."""
        return {
            name: parameter.default
            for name, parameter in self._parameters().items()
            if parameter.default is not inspect.Parameter.empty
        }

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Raise TaskFailed naming any parameter ``run`` does not take, or a value of
        another kind than its annotation (or default) says: text for a number, say."""
        accepted = self._parameters()
        unknown = sorted(set(params) - set(accepted))
        if unknown:
            raise TaskFailed(
                f"task {self.name!r} has no parameter {', '.join(unknown)}; "
                f"it takes {', '.join(sorted(accepted))}"
            )
        try:
            hints = typing.get_type_hints(self.run)
        except Exception:  # annotations naming what cannot be imported here: use defaults
            hints = {}
        named = sorted(params.items())  # by name: a database's JSON may reorder keys
        wrong = [
            f"{name} must be {kind_name(kind)}, not {value!r}"
            for name, value in named
            if not fits(value, kind := hints.get(name, default_kind(accepted[name])))
        ]
        wrong += [f"{name} must be finite, not {value!r}" for name, value in named
                  if non_finite(value)]  # fmt: skip
        declared = {p.name: p for p in self.parameters}
        wrong += [
            why
            for name, value in named
            if name in declared and (why := declared[name].violation(value)) is not None
        ]
        if wrong:
            raise TaskFailed(f"task {self.name!r}: {'; '.join(wrong)}")

    def headline(self, output: Mapping[str, Any]) -> dict[str, Any]:
        return {q.key: output.get(q.key) for q in self.quantities}

    def _parameters(self) -> dict[str, inspect.Parameter]:
        parameters = dict(inspect.signature(self.run).parameters)
        parameters.pop("atoms", None)
        parameters.pop("calculator", None)
        parameters.pop("context", None)
        return parameters
