from django import forms
from django.contrib import admin, messages

from arena_site.errors import ArenaError
from compute.calculators import family_names
from models_app.models import MLIP
from models_app.services import model_approve_checkpoint, model_check_in_environment, unique_slug


class MLIPForm(forms.ModelForm):
    family = forms.ChoiceField(choices=[(f, f) for f in family_names()])

    class Meta:
        model = MLIP
        exclude = ["slug"]


@admin.register(MLIP)
class MLIPAdmin(admin.ModelAdmin):
    form = MLIPForm
    list_display = [
        "name",
        "family",
        "checkpoint",
        "checkpoint_pinned",
        "prediction_type",
        "license",
        "enabled",
        "last_check_ok",
    ]
    readonly_fields = [
        "checkpoint_approved_by",
        "checkpoint_approved_at",
        "last_check_ok",
        "last_check_at",
        "last_check_message",
    ]
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
    actions = ["check_loads", "approve_checkpoint"]

    @admin.display(boolean=True, description="pinned")
    def checkpoint_pinned(self, model):
        return bool(model.checkpoint_sha256)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.slug = unique_slug(obj.name)  # its page's address; kept when renamed
        super().save_model(request, obj, form, change)

    @admin.action(description="Check that it loads")
    def check_loads(self, request, queryset):
        for model in queryset:
            ok, message = model_check_in_environment(model=model)
            if ok:
                self.message_user(request, message, messages.SUCCESS)
            else:
                self.message_user(request, f"{model.name} does not load: {message}", messages.ERROR)

    @admin.action(description="Approve checkpoint (pin its file's SHA-256)")
    def approve_checkpoint(self, request, queryset):
        for model in queryset:
            try:
                outcome = model_approve_checkpoint(model=model, approved_by=request.user.username)
                self.message_user(request, outcome, messages.SUCCESS)
            except ArenaError as exc:
                self.message_user(request, str(exc), messages.ERROR)
