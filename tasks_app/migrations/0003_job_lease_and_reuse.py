"""Jobs get a lease (lease_expires_at) and an interrupted state; runs can reuse unfinished jobs.

Before the constraint that allows one unfinished job per key, earlier duplicates (two
runs of the same keys at once made them) keep their oldest job; the others are marked
failed with a note, which changes no result.
"""

from django.db import migrations, models
from django.db.models import Count

UNFINISHED = ("queued", "running", "interrupted")


def fail_duplicate_unfinished_jobs(apps, schema_editor):
    Job = apps.get_model("tasks_app", "Job")
    unfinished = Job.objects.filter(status__in=UNFINISHED)
    keys = unfinished.values("key").annotate(n=Count("id")).filter(n__gt=1).values_list("key")
    for (key,) in keys:
        first, *others = unfinished.filter(key=key).order_by("id").values_list("id", flat=True)
        Job.objects.filter(id__in=others).update(
            status="failed", error=f"superseded by job {first} for the same key"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0001_initial"),
        ("tasks_app", "0002_result_headline"),
    ]

    operations = [
        migrations.AddField(
            model_name="benchmarkrun",
            name="reused_jobs",
            field=models.ManyToManyField(
                blank=True,
                help_text="Unfinished jobs of earlier runs for the same keys, followed instead of rerun",
                related_name="reused_by",
                to="tasks_app.job",
            ),
        ),
        migrations.AddField(
            model_name="job",
            name="lease_expires_at",
            field=models.DateTimeField(
                blank=True,
                help_text="While running: when the lease of the process running it runs out "
                "unless renewed (the database's clock)",
                null=True,
            ),
        ),
        migrations.AlterField(
            model_name="job",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("interrupted", "Interrupted"),
                    ("done", "Done"),
                    ("failed", "Failed"),
                ],
                db_index=True,
                default="queued",
                max_length=20,
            ),
        ),
        migrations.RunPython(fail_duplicate_unfinished_jobs, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="job",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status__in", ("queued", "running", "interrupted"))),
                fields=("key",),
                name="one_unfinished_job_per_key",
            ),
        ),
    ]
