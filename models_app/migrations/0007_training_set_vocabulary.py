from django.db import migrations, models

import models_app.models
import models_app.training_sets


def spell_training_sets_one_way(apps, schema_editor):
    """Rows written before the vocabulary: "MPTrj" becomes "MPtrj", each set once."""
    for row in apps.get_model("models_app", "MLIP").objects.all():
        names = [
            models_app.training_sets.canonical_training_set(name) or name
            for name in row.training_datasets or []
        ]
        names = list(dict.fromkeys(names))
        if names != row.training_datasets:
            row.training_datasets = names
            row.save(update_fields=["training_datasets"])


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0006_mlip_baseline"),
    ]

    operations = [
        migrations.AlterField(
            model_name="mlip",
            name="training_datasets",
            field=models.JSONField(
                blank=True,
                default=models_app.models._empty_list,
                help_text="Names from the training-set vocabulary (models_app/training_sets.py)",
                validators=[models_app.training_sets.validate_training_sets],
            ),
        ),
        migrations.RunPython(spell_training_sets_one_way, migrations.RunPython.noop),
    ]
