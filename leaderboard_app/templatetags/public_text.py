"""``{{ job.error|without_server_paths }}``: see ``leaderboard_app.public_text``."""

from django import template

from leaderboard_app import public_text

register = template.Library()
register.filter("without_server_paths", public_text.without_server_paths)
