from django.shortcuts import render

from tasks_app.selectors import task_overview


def index(request):
    return render(request, "leaderboard/index.html", {"tasks": task_overview()})
