from django.apps import AppConfig


class LeaderboardAppConfig(AppConfig):
    name = "leaderboard_app"
    verbose_name = "Leaderboard"
