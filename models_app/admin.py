from django import forms
from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.urls import reverse

from arena_site.errors import ArenaError
from compute.calculators import FAMILIES, family_names
from compute.calculators.entries import checkpoint_problem, kwargs_problem
from compute.tasks import task_titles
from models_app.models import MLIP
from models_app.services import model_approve_checkpoint, model_check_in_environment, unique_slug
from models_app.training_sets import TRAINING_SETS

CHECK_BUTTON = "_check"


class NameListField(forms.CharField):
    """A list of names typed as comma-separated text, e.g. ``MPtrj, OMat24``."""

    def prepare_value(self, value):
        return ", ".join(value) if isinstance(value, list) else value

    def to_python(self, value):
        text = super().to_python(value)
        return [name.strip() for name in text.split(",") if name.strip()]


def task_field(label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        label=label,
        choices=task_titles,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        error_messages={
            "invalid_choice": f"{label}: %(value)s is not a task of the registry; "
            "tick the tasks listed"
        },
    )


class MLIPForm(forms.ModelForm):
    family = forms.ChoiceField(choices=[(f, f) for f in family_names()])
    cpu_tasks = task_field("CPU tasks")
    gpu_tasks = task_field("GPU tasks")
    training_datasets = NameListField(
        required=False,
        help_text=f"Comma-separated names, e.g. MPtrj, OMat24; the training sets are "
        f"{', '.join(TRAINING_SETS)}",
    )

    class Meta:
        model = MLIP
        exclude = ["slug"]

    def clean(self):
        """The checkpoint and kwargs against the family, as its adapter would read them."""
        data = super().clean()
        family = data.get("family")
        if family not in FAMILIES:
            return data
        if "checkpoint" in data and (problem := checkpoint_problem(family, data["checkpoint"])):
            self.add_error("checkpoint", f"checkpoint: {problem}")
        kwargs = data.get("calculator_kwargs")
        if isinstance(kwargs, dict) and (problem := kwargs_problem(family, kwargs)):
            self.add_error("calculator_kwargs", f"calculator_kwargs: {problem}")
        return data


@admin.register(MLIP)
class MLIPAdmin(admin.ModelAdmin):
    form = MLIPForm
    change_form_template = "admin/models_app/mlip/change_form.html"
    list_display = [
        "name",
        "family",
        "checkpoint",
        "checkpoint_pinned",
        "prediction_type",
        "license",
        "baseline",
        "enabled",
        "last_check_ok",
        "last_check_at",
    ]
    readonly_fields = [
        "slug",
        "checkpoint_sha256",  # written by the action "Approve checkpoint" only
        "checkpoint_approved_by",
        "checkpoint_approved_at",
        "last_check_ok",
        "last_check_at",
        "last_check_message",
    ]
    list_filter = [
        "family",
        "baseline",
        "enabled",
        "last_check_ok",
        "prediction_type",
        "supports_nvt",
        "supports_npt",
        "license",
    ]
    search_fields = ["name", "family", "checkpoint", "license"]
    actions = ["check_loads", "approve_checkpoint"]

    @admin.display(boolean=True, description="pinned")
    def checkpoint_pinned(self, model):
        return bool(model.checkpoint_sha256)

    def save_model(self, request, obj, form, change):
        if not change:
            obj.slug = unique_slug(obj.name)  # its page's address; kept when renamed
        super().save_model(request, obj, form, change)

    def response_add(self, request, obj, post_url_continue=None):
        if CHECK_BUTTON in request.POST:
            return self._checked(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if CHECK_BUTTON in request.POST:
            return self._checked(request, obj)
        return super().response_change(request, obj)

    def _checked(self, request, model):
        """ "Save and check": load the model, store the outcome on its row, stay on its page."""
        self._report_check(request, model)
        return HttpResponseRedirect(reverse("admin:models_app_mlip_change", args=[model.pk]))

    def _report_check(self, request, model):
        ok, message = model_check_in_environment(model=model)
        if ok:
            self.message_user(request, message, messages.SUCCESS)
        else:
            self.message_user(request, f"{model.name} does not load: {message}", messages.ERROR)

    @admin.action(description="Check that it loads")
    def check_loads(self, request, queryset):
        for model in queryset:
            self._report_check(request, model)

    @admin.action(description="Approve checkpoint (pin its file's SHA-256)")
    def approve_checkpoint(self, request, queryset):
        for model in queryset:
            try:
                outcome = model_approve_checkpoint(model=model, approved_by=request.user.username)
                self.message_user(request, outcome, messages.SUCCESS)
            except ArenaError as exc:
                self.message_user(request, str(exc), messages.ERROR)
