from django.urls import path, register_converter

from leaderboard_app import views


class RowId:
    """A database id: at most 18 digits, so it always fits a 64-bit column (a longer
    number is a 404, not a database error)."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(RowId, "id")

app_name = "leaderboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("tasks/<slug:slug>/", views.task_detail, name="task"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("structures/<id:pk>/", views.structure_detail, name="structure"),
    path("compare/", views.compare, name="compare"),
    path("cite/", views.cite, name="cite"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<id:pk>/", views.run_detail, name="run"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<id:pk>/", views.job_detail, name="job"),
    path("files/<path:relative>", views.stored_file, name="file"),
]
