"""Calculators for registry models, on the device, cache and trusted sources the settings name."""

from ase.calculators.calculator import Calculator
from django.conf import settings

from compute.calculators import load_calculator
from compute.checkpoints import Checkpoint
from compute.model_spec import ModelSpec


def calculator_for(spec: ModelSpec) -> Calculator:
    return load_calculator(
        spec,
        device=settings.ARENA_DEVICE,
        cache_dir=settings.ARENA_CACHE_DIR,
        trusted_sources=settings.ARENA_TRUSTED_CHECKPOINT_SOURCES,
    )


def checkpoint_for(spec: ModelSpec) -> Checkpoint:
    return Checkpoint(spec.checkpoint, settings.ARENA_CACHE_DIR)
