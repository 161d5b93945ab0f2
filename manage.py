#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "arena_site.settings")
    from django.core.management import execute_from_command_line

    from arena_site.startup import in_one_line

    in_one_line(lambda: execute_from_command_line(sys.argv))
