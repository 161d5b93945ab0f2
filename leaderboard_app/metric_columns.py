"""The columns a task's metrics and headline quantities give a table: label with unit and
direction, display precision, ranks, the unit its downloads carry, and their order."""

from __future__ import annotations

from compute.tasks.spec import (
    HIGHER,
    LOWER,
    Metric,
    Quantity,
    TaskSpec,
    format_number,
    with_unit,
)
from leaderboard_app.tables import FLOAT, Column


def direction_mark(metric: Metric) -> str:
    """↓ lower is better, ↑ higher is better, →x closest to x is better."""
    if metric.direction == LOWER:
        return "↓"
    if metric.direction == HIGHER:
        return "↑"
    return f"→{metric.ideal:g}"


def metric_label(metric: Metric) -> str:
    """The metric's name, unit (% for fractions shown as percent) and direction."""
    unit = metric.unit or ("%" if metric.percent else "")
    return f"{with_unit(metric.label, unit)} {direction_mark(metric)}"


def metric_column(metric: Metric, kind: str, *, ranked: bool = False) -> Column:
    """A metric's column: its label, unit and direction, and with ``ranked`` its ranks.
    Downloads carry the unit in the header (fractions as fractions, not %)."""
    return Column(
        metric.key,
        metric_label(metric),
        kind,
        digits=metric.digits,
        percent=metric.percent,
        help=f"{metric.help} {ranking_note(metric)} {failure_note(metric)}",
        rank_key=f"{metric.key}_rank" if ranked and metric.ranked else "",
        unit=export_unit(metric),
    )


def export_unit(metric: Metric) -> str:
    """The unit of the metric's raw value, as downloads hold it."""
    return metric.unit or ("fraction" if metric.percent else "")


def spread_column(metric: Metric) -> Column:
    """The sample standard deviation of the metric over the structures, a detail column."""
    return Column(
        f"{metric.key}_std",
        f"{metric.label} ±",
        FLOAT,
        digits=metric.digits,
        percent=metric.percent,
        help=f"Sample standard deviation of {metric.label} over the structures of the mean",
        unit=export_unit(metric),
        detail=True,
    )


def interval_columns(metric: Metric, *, detail: bool) -> list[Column]:
    """The mean's 95 % bootstrap interval: a range on the page, and ``KEY_ci_low`` and
    ``KEY_ci_high`` in the downloads."""
    bound = {"digits": metric.digits, "percent": metric.percent, "unit": export_unit(metric)}
    return [
        Column(
            f"{metric.key}_ci",
            f"{metric.label} 95 % interval",
            FLOAT,
            help=f"{INTERVAL_HELP} of the mean {metric.label}",
            detail=detail,
            in_download=False,
            display_key=f"{metric.key}_ci_text",
            **bound,
        ),
        *(
            Column(
                f"{metric.key}_ci_{end}",
                f"{metric.label} interval {end}",
                FLOAT,
                on_page=False,
                **bound,
            )
            for end in ("low", "high")
        ),
    ]


INTERVAL_HELP = (
    "95 % percentile-bootstrap interval over the structures (4000 resamples, fixed seed)"
)


def signed_column(metric: Metric) -> Column:
    """The signed mean of an error averaged as |value|: a negative B0 error is softening."""
    unit = metric.unit or ("%" if metric.percent else "")
    return Column(
        f"{metric.key}_signed",
        with_unit(f"{metric.label.strip('|')} signed mean", unit),
        FLOAT,
        digits=metric.digits,
        percent=metric.percent,
        help=f"Mean of the signed values of {metric.label}: below 0 the model underestimates.",
        signed=True,
        detail=True,
        unit=export_unit(metric),
    )


def quantity_column(quantity: Quantity) -> Column:
    return Column(quantity.key, quantity.heading, FLOAT, digits=quantity.digits, unit=quantity.unit)


def ranking_note(metric: Metric) -> str:
    if not metric.ranked:
        return "Shown, not ranked."
    if metric.direction == LOWER:
        return "Lower is better."
    if metric.direction == HIGHER:
        return "Higher is better."
    return f"Closest to {metric.ideal:g} is better."


def failure_note(metric: Metric) -> str:
    """What a structure whose job failed adds to the metric's mean, as its spec says."""
    if metric.on_failure is None:
        return "A failed structure adds nothing here; the failure rate counts it."
    value = format_number(metric.on_failure, metric.digits, percent=metric.percent)
    return f"A failed structure counts as {value}."


def metrics_first(spec: TaskSpec) -> list[Metric]:
    """The headline metric and its group, then the other groups' ranked metrics, then the
    rest: EOS shows Δ, |V0 error| and |B0 error| before the curve-shape metrics."""
    by_key = {m.key: m for m in spec.metrics}
    lead = spec.leading_metric
    groups = sorted(spec.metric_groups, key=lambda g: lead is None or lead.key not in g.metrics)
    grouped = [by_key[key] for group in groups for key in group.metrics]
    return list(dict.fromkeys([*([lead] if lead else []), *grouped, *spec.metrics]))
