"""Result headline numbers move from four EOS columns into one JSON field.

Relax results kept their headline numbers in ``output``; they move too, so every
result holds its task spec's headline quantities in ``headline``. Values are copied
as they are (JSON keeps a float's shortest repr, so no number changes).
"""

import tasks_app.models
import tasks_app.validators
from django.db import migrations, models

EOS_COLUMNS = ("v0_a3_per_atom", "e0_ev_per_atom", "b0_gpa", "b0_prime")
RELAX_OUTPUT_KEYS = ("energy_per_atom_ev", "volume_a3", "max_force_ev_per_a")


def columns_to_headline(apps, schema_editor):
    Result = apps.get_model("tasks_app", "Result")
    for result in Result.objects.select_related("task").iterator():
        headline = {k: getattr(result, k) for k in EOS_COLUMNS if getattr(result, k) is not None}
        if result.task.function == "relax":
            output = dict(result.output)
            headline = {k: output.pop(k) for k in RELAX_OUTPUT_KEYS if k in output}
            result.output = output
        if headline:
            result.headline = headline
            result.save(update_fields=["headline", "output"])


def headline_to_columns(apps, schema_editor):
    Result = apps.get_model("tasks_app", "Result")
    for result in Result.objects.select_related("task").iterator():
        headline = dict(result.headline)
        if result.task.function == "relax":
            result.output = {**result.output, **headline}
        for key in EOS_COLUMNS:
            setattr(result, key, headline.get(key))
        result.save(update_fields=[*EOS_COLUMNS, "output"])


class Migration(migrations.Migration):
    dependencies = [("tasks_app", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="result",
            name="headline",
            field=models.JSONField(
                blank=True,
                default=tasks_app.models._empty_dict,
                help_text="The task spec's headline quantities by key",
            ),
        ),
        migrations.RunPython(columns_to_headline, headline_to_columns),
        *(migrations.RemoveField(model_name="result", name=name) for name in EOS_COLUMNS),
        migrations.AlterField(
            model_name="benchmarkrun",
            name="options",
            field=models.JSONField(
                default=tasks_app.models._empty_dict, help_text="models, structures, force"
            ),
        ),
        migrations.AlterField(
            model_name="task",
            name="function",
            field=models.CharField(
                help_text="Task spec name in compute.tasks.TASKS",
                max_length=60,
                validators=[tasks_app.validators.validate_task_function],
            ),
        ),
    ]
