"""The MLIP registry: one row per model a benchmark can run."""

import secrets

from django.db import models

from compute.calculators import FAMILIES
from compute.environments import queue_name
from models_app.training_sets import validate_training_sets
from models_app.validators import (
    validate_family,
    validate_json_object,
    validate_model_name,
    validate_sha256,
    validate_task_list,
)


class PredictionType(models.TextChoices):
    E = "E", "energy"
    EF = "EF", "energy, forces"
    EFS = "EFS", "energy, forces, stress"
    EFSM = "EFSM", "energy, forces, stress, magmoms"


def _empty_list() -> list:
    return []


def _empty_dict() -> dict:
    return {}


def _provisional_slug() -> str:
    """A unique address for a row made without the registry services, which give each
    model its name's slug (``models_app.services.unique_slug``)."""
    return f"model-{secrets.token_hex(4)}"


class MLIP(models.Model):
    """A machine-learning interatomic potential: a family adapter, a checkpoint, kwargs."""

    name = models.CharField(max_length=100, unique=True, validators=[validate_model_name])
    slug = models.SlugField(
        max_length=100,
        unique=True,
        default=_provisional_slug,
        help_text="Its address on the site: /models/SLUG/",
    )
    family = models.CharField(max_length=40, validators=[validate_family])
    checkpoint = models.CharField(
        max_length=500, blank=True, help_text="Version name, local path, URL or hf://ORG/REPO/FILE"
    )
    calculator_kwargs = models.JSONField(
        default=_empty_dict, blank=True, validators=[validate_json_object]
    )
    package_pin = models.CharField(max_length=100, blank=True, help_text="e.g. chgnet==0.4.2")
    training_datasets = models.JSONField(
        default=_empty_list,
        blank=True,
        validators=[validate_training_sets],
        help_text="Names from the training-set vocabulary (models_app/training_sets.py)",
    )
    cpu_tasks = models.JSONField(default=_empty_list, blank=True, validators=[validate_task_list])
    gpu_tasks = models.JSONField(default=_empty_list, blank=True, validators=[validate_task_list])
    prediction_type = models.CharField(
        max_length=4, choices=PredictionType.choices, default=PredictionType.EFS
    )
    supports_nvt = models.BooleanField(default=False)
    supports_npt = models.BooleanField(default=False)
    license = models.CharField(max_length=100, blank=True)
    code_url = models.URLField(blank=True)
    paper_url = models.URLField(blank=True)
    release_date = models.DateField(null=True, blank=True)
    authors = models.CharField(max_length=500, blank=True, help_text="As the paper lists them")
    bibtex = models.TextField(blank=True, help_text="How to cite the model: one BibTeX entry")
    parameter_count = models.PositiveBigIntegerField(
        null=True, blank=True, help_text="Trainable parameters; a load check fills it in"
    )
    baseline = models.BooleanField(
        default=False,
        help_text="A reference model (classical, e.g. EMT, or a dummy): shown apart in every "
        "table, never ranked, and never part of another model's comparison",
    )
    enabled = models.BooleanField(default=True)
    checkpoint_sha256 = models.CharField(
        max_length=64,
        blank=True,
        validators=[validate_sha256],
        help_text="SHA-256 of the checkpoint file an admin approved; lets a pickled "
        "checkpoint load from any source",
    )
    checkpoint_approved_by = models.CharField(max_length=150, blank=True)
    checkpoint_approved_at = models.DateTimeField(null=True, blank=True)
    last_check_ok = models.BooleanField(null=True, blank=True)
    last_check_at = models.DateTimeField(null=True, blank=True)
    last_check_message = models.TextField(blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name = "MLIP"
        verbose_name_plural = "MLIPs"

    def __str__(self) -> str:
        return self.name

    def runs_task(self, task_slug: str) -> bool:
        return task_slug in self.cpu_tasks or task_slug in self.gpu_tasks

    @property
    def environment(self) -> str:
        """The worker environment that has the family's packages installed."""
        return FAMILIES[self.family].environment

    def queue_for(self, task_slug: str) -> str:
        """``gpu.ENV`` when the model lists the task for GPUs, else ``cpu.ENV``."""
        return queue_name(self.environment, gpu=task_slug in self.gpu_tasks)
