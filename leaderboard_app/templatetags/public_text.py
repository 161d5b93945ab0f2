"""``{{ job.error|public_message }}``: see ``leaderboard_app.public_text``."""

from django import template

from leaderboard_app import public_text

register = template.Library()
register.filter("without_server_paths", public_text.without_server_paths)
register.filter("public_message", public_text.public_message)
register.filter("checkpoint_shown", public_text.checkpoint_shown)
