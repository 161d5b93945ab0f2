"""Task registry, structures, benchmark runs, jobs and their results."""

from django.core.exceptions import ValidationError
from django.db import models

from compute.errors import TaskFailed
from compute.tasks import TASKS
from models_app.models import MLIP
from models_app.validators import validate_json_object
from tasks_app.validators import validate_set_names, validate_task_function


def _empty_dict() -> dict:
    return {}


class Task(models.Model):
    """A benchmark: a compute task function with default parameters and structures."""

    slug = models.SlugField(max_length=60, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=60, blank=True)
    description = models.TextField(blank=True)
    function = models.CharField(
        max_length=60,
        validators=[validate_task_function],
        help_text="Task spec name in compute.tasks.TASKS",
    )
    version = models.PositiveIntegerField(
        default=1, help_text="Bump when the protocol changes; old results stop counting as done."
    )
    default_params = models.JSONField(
        default=_empty_dict, blank=True, validators=[validate_json_object]
    )
    default_structure_set = models.CharField(max_length=100, blank=True)
    extra_structure_sets = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_set_names],
        help_text="Further sets a run covers when none is named, after default_structure_set",
    )

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.name

    @property
    def default_structure_sets(self) -> list[str]:
        """The sets a run covers when none is named, the main one first."""
        main = [self.default_structure_set] if self.default_structure_set else []
        return main + [name for name in self.extra_structure_sets or [] if name not in main]

    def clean(self) -> None:
        spec = TASKS.get(self.function)
        if spec is not None and isinstance(self.default_params, dict):
            try:
                spec.check_params(self.default_params)
            except TaskFailed as exc:
                raise ValidationError({"default_params": str(exc)}) from exc


class StructureSet(models.Model):
    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Structure(models.Model):
    """One crystal or molecule, stored as plain Atoms data, with optional reference values."""

    structure_set = models.ForeignKey(
        StructureSet, on_delete=models.CASCADE, related_name="structures"
    )
    label = models.CharField(max_length=100)
    position = models.PositiveIntegerField(default=0)
    formula = models.CharField(max_length=100)
    natoms = models.PositiveIntegerField()
    atoms = models.JSONField(help_text="numbers, positions (Å), cell (Å), pbc")
    content_hash = models.CharField(max_length=64, db_index=True)
    reference = models.JSONField(
        default=_empty_dict, blank=True, help_text="e.g. WIEN2k v0_a3_per_atom, b0_gpa, b0_prime"
    )

    class Meta:
        ordering = ["structure_set", "position"]
        constraints = [
            models.UniqueConstraint(fields=["structure_set", "label"], name="unique_label_in_set")
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.structure_set.name})"


class BenchmarkRun(models.Model):
    """One invocation of run_benchmark: the jobs it made, and the options it was given."""

    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="runs")
    structure_set = models.ForeignKey(StructureSet, on_delete=models.PROTECT, related_name="runs")
    params = models.JSONField(default=_empty_dict)
    options = models.JSONField(default=_empty_dict, help_text="models, structures, force")
    skipped_done = models.PositiveIntegerField(default=0)
    reused_jobs = models.ManyToManyField(
        "Job",
        blank=True,
        related_name="reused_by",
        help_text="Unfinished jobs of earlier runs for the same keys, followed instead of rerun",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"run {self.pk}: {self.task.slug} on {self.structure_set.name}"


class JobStatus(models.TextChoices):
    """``running`` holds only while the process running the job renews its lease
    (``Job.lease_expires_at``); ``interrupted`` waits for a re-run or ``--resume``."""

    QUEUED = "queued"
    RUNNING = "running"
    INTERRUPTED = "interrupted"
    DONE = "done"
    FAILED = "failed"
    # The model cannot take the structure (an element it does not cover): no result is due.
    NOT_APPLICABLE = "n/a"


UNFINISHED = (JobStatus.QUEUED, JobStatus.RUNNING, JobStatus.INTERRUPTED)


class Job(models.Model):
    """One model × task × structure × parameters; ``key`` identifies identical work."""

    run = models.ForeignKey(BenchmarkRun, on_delete=models.CASCADE, related_name="jobs")
    model = models.ForeignKey(MLIP, on_delete=models.PROTECT, related_name="jobs")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="jobs")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="jobs")
    key = models.CharField(max_length=64, db_index=True)
    params = models.JSONField(default=_empty_dict)
    params_hash = models.CharField(max_length=64)
    status = models.CharField(
        max_length=20, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    queue = models.CharField(max_length=20, default="inline")
    rq_job_id = models.CharField(max_length=64, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="While running: when the lease of the process running it runs out unless "
        "renewed (the database's clock)",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    compute_seconds = models.FloatField(
        null=True, blank=True, help_text="Time inside model loading, calculator and optimizer"
    )
    error = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    failure_evidence = models.JSONField(
        default=dict,
        blank=True,
        help_text="What a failed job had computed: the partial curve, the last structure, "
        "the optimiser's last steps",
    )
    worker_host = models.CharField(max_length=200, blank=True)
    ran_with = models.JSONField(
        default=_empty_dict,
        blank=True,
        help_text="What its last attempt computed with (compute.provenance): device, threads, "
        "package versions, Python, hardware, code version, environment; and its process id",
    )
    steps_done = models.PositiveIntegerField(
        null=True, blank=True, help_text="Long jobs: steps done so far, as last reported"
    )
    steps_total = models.PositiveIntegerField(null=True, blank=True)
    progress_at = models.DateTimeField(null=True, blank=True)
    resumed_from_step = models.PositiveIntegerField(
        null=True, blank=True, help_text="The checkpoint's step the last attempt went on from"
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            # Two runs of the same work share one job instead of computing it twice.
            models.UniqueConstraint(
                fields=["key"],
                condition=models.Q(status__in=UNFINISHED),
                name="one_unfinished_job_per_key",
            )
        ]

    def __str__(self) -> str:
        return f"job {self.pk}: {self.model} {self.task.slug} {self.structure.label}"

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class Result(models.Model):
    """The outcome of a done job; one current result per job key."""

    key = models.CharField(max_length=64, unique=True)
    job = models.OneToOneField(Job, on_delete=models.CASCADE, related_name="result")
    model = models.ForeignKey(MLIP, on_delete=models.PROTECT, related_name="results")
    task = models.ForeignKey(Task, on_delete=models.PROTECT, related_name="results")
    structure = models.ForeignKey(Structure, on_delete=models.PROTECT, related_name="results")
    headline = models.JSONField(
        default=_empty_dict, blank=True, help_text="The task spec's headline quantities by key"
    )
    output = models.JSONField(default=_empty_dict, help_text="Curves and everything else returned")
    metrics = models.JSONField(default=_empty_dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["task", "model", "structure"]
        indexes = [models.Index(fields=["task", "model"])]

    def __str__(self) -> str:
        return f"{self.model} {self.task.slug} {self.structure.label}"
