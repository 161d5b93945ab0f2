from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tasks_app", "0006_job_ran_with"),
    ]

    operations = [
        migrations.AddField(
            model_name="job",
            name="failure_evidence",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="What a failed job had computed: the partial curve, the last "
                "structure, the optimiser's last steps",
            ),
        ),
    ]
