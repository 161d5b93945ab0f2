"""Models get a slug, their address on the site, so that any name works in a URL; names
and task lists get validators.

Existing rows get their name in URL-safe letters, numbered when two names give the
same slug (``slugify`` as ``models_app.services.unique_slug`` does it).
"""

from django.db import migrations, models
from django.utils.text import slugify

import models_app.models
import models_app.validators


def fill_slugs(apps, schema_editor):
    MLIP = apps.get_model("models_app", "MLIP")
    taken: set[str] = set()
    for model in MLIP.objects.order_by("pk"):
        base = slugify(model.name)[:90] or "model"
        slug, number = base, 1
        while slug in taken:
            number += 1
            slug = f"{base}-{number}"
        taken.add(slug)
        model.slug = slug
        model.save(update_fields=["slug"])


class Migration(migrations.Migration):
    dependencies = [("models_app", "0003_last_check")]

    operations = [
        migrations.AddField(
            model_name="mlip",
            name="slug",
            field=models.SlugField(max_length=100, null=True, db_index=False),
        ),
        migrations.RunPython(fill_slugs, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="mlip",
            name="slug",
            field=models.SlugField(
                default=models_app.models._provisional_slug,
                help_text="Its address on the site: /models/SLUG/",
                max_length=100,
                unique=True,
            ),
        ),
        migrations.AlterField(
            model_name="mlip",
            name="name",
            field=models.CharField(
                max_length=100, unique=True, validators=[models_app.validators.validate_model_name]
            ),
        ),
        *(
            migrations.AlterField(
                model_name="mlip",
                name=name,
                field=models.JSONField(
                    blank=True,
                    default=models_app.models._empty_list,
                    validators=[models_app.validators.validate_task_list],
                ),
            )
            for name in ("cpu_tasks", "gpu_tasks")
        ),
    ]
