from django.contrib import admin

from tasks_app.models import BenchmarkRun, Job, Result, Structure, StructureSet, Task


@admin.register(Task)
class TaskAdmin(admin.ModelAdmin):
    list_display = ["slug", "name", "category", "function", "version", "default_structure_set"]
    search_fields = ["slug", "name", "category"]


@admin.register(StructureSet)
class StructureSetAdmin(admin.ModelAdmin):
    list_display = ["name", "description"]
    search_fields = ["name"]


@admin.register(Structure)
class StructureAdmin(admin.ModelAdmin):
    list_display = ["label", "structure_set", "formula", "natoms"]
    list_filter = ["structure_set"]
    search_fields = ["label", "formula"]


@admin.register(BenchmarkRun)
class BenchmarkRunAdmin(admin.ModelAdmin):
    list_display = ["id", "task", "structure_set", "skipped_done", "created_at"]
    list_filter = ["task"]


@admin.register(Job)
class JobAdmin(admin.ModelAdmin):
    list_display = ["id", "run", "model", "task", "structure", "status", "attempts", "worker_host"]
    list_filter = ["status", "task", "model", "queue"]
    search_fields = ["structure__label", "error", "key"]
    list_select_related = ["model", "task", "structure", "run"]
    raw_id_fields = ["run", "structure"]


@admin.register(Result)
class ResultAdmin(admin.ModelAdmin):
    list_display = ["id", "model", "task", "structure", "headline", "created_at"]
    list_filter = ["task", "model"]
    list_select_related = ["model", "task", "structure"]
    raw_id_fields = ["job", "structure"]
