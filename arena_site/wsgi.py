import os

from django.core.wsgi import get_wsgi_application

from arena_site.heap import settle
from arena_site.startup import WORKER_BOOT_ERROR, in_one_line

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena_site.settings")
application = in_one_line(get_wsgi_application, exit_status=WORKER_BOOT_ERROR)
settle()
