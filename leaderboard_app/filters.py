"""Filters on the model tables: training dataset, license, prediction type, compliant preset."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django import forms

from models_app.models import MLIP, PredictionType

COMPLIANT_DATASETS = ("MPtrj",)
AUTOSUBMIT = forms.Select(attrs={"data-autosubmit": ""})


@dataclass(frozen=True)
class ModelFilter:
    dataset: str = ""
    license: str = ""
    prediction_type: str = ""
    compliant: bool = False

    def accepts(self, model: MLIP) -> bool:
        datasets = list(model.training_datasets or [])
        return (
            (not self.dataset or self.dataset in datasets)
            and (not self.license or model.license == self.license)
            and (not self.prediction_type or model.prediction_type == self.prediction_type)
            and (not self.compliant or bool(datasets) and set(datasets) <= set(COMPLIANT_DATASETS))
        )


class ModelFilterForm(forms.Form):
    """GET parameters of the leaderboard and task pages; choices come from the registry."""

    dataset = forms.ChoiceField(required=False, label="Training set", widget=AUTOSUBMIT)
    license = forms.ChoiceField(required=False, widget=AUTOSUBMIT)
    prediction_type = forms.ChoiceField(
        required=False,
        label="Predicts",
        choices=[("", "any")] + [(k, k) for k in PredictionType.values],
        widget=AUTOSUBMIT,
    )
    compliant = forms.BooleanField(
        required=False,
        label="Compliant (MPtrj only)",
        widget=forms.CheckboxInput(attrs={"data-autosubmit": ""}),
    )

    def __init__(self, data, *, models: Sequence[MLIP]) -> None:
        super().__init__(data)
        datasets = sorted({d for m in models for d in (m.training_datasets or [])})
        licenses = sorted({m.license for m in models if m.license})
        self.fields["dataset"].choices = [("", "any")] + [(d, d) for d in datasets]
        self.fields["license"].choices = [("", "any")] + [(x, x) for x in licenses]

    def model_filter(self) -> ModelFilter:
        """The valid part of the input; an unknown choice is ignored rather than an error."""
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return ModelFilter(
            dataset=data.get("dataset") or "",
            license=data.get("license") or "",
            prediction_type=data.get("prediction_type") or "",
            compliant=bool(data.get("compliant")),
        )


def filter_models(models: Sequence[MLIP], model_filter: ModelFilter) -> list[MLIP]:
    return [m for m in models if model_filter.accepts(m)]
