from django.db import migrations, models


def mark_classical_baselines(apps, schema_editor):
    """EMT rows (the only classical family) become baselines, as the registry seed says."""
    apps.get_model("models_app", "MLIP").objects.filter(family="emt").update(baseline=True)


class Migration(migrations.Migration):
    dependencies = [
        ("models_app", "0005_model_card"),
    ]

    operations = [
        migrations.AddField(
            model_name="mlip",
            name="baseline",
            field=models.BooleanField(
                default=False,
                help_text="A reference model (classical, e.g. EMT, or a dummy): shown apart in "
                "every table, never ranked, and never part of another model's comparison",
            ),
        ),
        migrations.RunPython(mark_classical_baselines, migrations.RunPython.noop),
    ]
