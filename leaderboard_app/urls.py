from django.urls import path

from leaderboard_app import views

app_name = "leaderboard"
urlpatterns = [
    path("", views.index, name="index"),
]
