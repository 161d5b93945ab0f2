from django.urls import path

from leaderboard_app import views

app_name = "leaderboard"
urlpatterns = [
    path("", views.index, name="index"),
    path("tasks/<slug:slug>/", views.task_detail, name="task"),
    path("models/<slug:slug>/", views.model_detail, name="model"),
    path("structures/<int:pk>/", views.structure_detail, name="structure"),
    path("compare/", views.compare, name="compare"),
    path("cite/", views.cite, name="cite"),
    path("runs/", views.run_list, name="runs"),
    path("runs/<int:pk>/", views.run_detail, name="run"),
    path("jobs/", views.job_list, name="jobs"),
    path("jobs/<int:pk>/", views.job_detail, name="job"),
    path("files/<path:relative>", views.stored_file, name="file"),
]
