from django import forms
from django.contrib import admin, messages

from arena_site.errors import ArenaError
from compute.calculators import family_names
from models_app.models import MLIP
from models_app.services import model_check_load, unique_slug


class MLIPForm(forms.ModelForm):
    family = forms.ChoiceField(choices=[(f, f) for f in family_names()])

    class Meta:
        model = MLIP
        exclude = ["slug"]


@admin.register(MLIP)
class MLIPAdmin(admin.ModelAdmin):
    form = MLIPForm
    list_display = ["name", "family", "checkpoint", "prediction_type", "license", "enabled"]
    list_filter = [
        "family",
        "enabled",
        "prediction_type",
        "supports_nvt",
        "supports_npt",
        "license",
    ]
    search_fields = ["name", "family", "checkpoint", "license"]
    readonly_fields = ["slug"]
    actions = ["check_loads"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.slug = unique_slug(obj.name)  # its page's address; kept when renamed
        super().save_model(request, obj, form, change)

    @admin.action(description="Check that it loads")
    def check_loads(self, request, queryset):
        for model in queryset:
            try:
                self.message_user(request, model_check_load(model), messages.SUCCESS)
            except ArenaError as exc:
                self.message_user(request, f"{model.name} does not load: {exc}", messages.ERROR)
