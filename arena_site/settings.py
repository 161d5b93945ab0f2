"""Settings, all read from the environment, with safe defaults for the embedded mode.

Embedded mode (no variables set): SQLite in the project folder, jobs run in-process.
DATABASE_URL selects PostgreSQL; REDIS_URL turns on RQ queues.
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from compute.environments import all_queue_names

BASE_DIR = Path(__file__).resolve().parent.parent


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


DEBUG = _flag("DEBUG", True)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "insecure-local-development-key"
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_rq",
    "models_app",
    "tasks_app",
    "leaderboard_app",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "arena_site.urls"
WSGI_APPLICATION = "arena_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

SQLITE_PATH = Path(os.environ.get("SQLITE_PATH", BASE_DIR / "db.sqlite3"))
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Workers and the web process share the file; wait for locks rather than fail.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 30
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Jobs: RQ queues when REDIS_URL is set, else in-process through the same job function.
REDIS_URL = os.environ.get("REDIS_URL", "")
# One queue per device kind and worker environment: gpu.main, cpu.fairchem, ...
ARENA_QUEUES = tuple(all_queue_names())
# Where build_env puts worker environments (virtualenvs), one folder each.
ARENA_ENVS_DIR = Path(os.environ.get("ARENA_ENVS_DIR", BASE_DIR / "var" / "envs")).expanduser()
RQ_QUEUES = {
    name: {"URL": REDIS_URL or "redis://127.0.0.1:6379/0", "DEFAULT_TIMEOUT": 6 * 3600}
    for name in (*ARENA_QUEUES, "default")
}
# SimpleWorker runs jobs in the worker process itself (no fork per job), so each
# worker loads a model's calculator once and reuses it for every later job.
RQ = {"COMMIT_MODE": "auto", "WORKER_CLASS": "rq.worker.SimpleWorker"}
ARENA_JOB_RETRIES = int(os.environ.get("ARENA_JOB_RETRIES", "0"))

# Compute: where checkpoints are cached, and the device (blank: CUDA if present, else CPU).
ARENA_CACHE_DIR = Path(
    os.environ.get("ARENA_CACHE_DIR", Path.home() / ".cache" / "mlip-arena")
).expanduser()
ARENA_DEVICE = os.environ.get("ARENA_DEVICE", "") or None
# Checkpoint prefixes whose pickles load without an admin-approved SHA-256: the model
# authors' own release locations. Anything else that needs full unpickling must be pinned.
ARENA_TRUSTED_CHECKPOINT_SOURCES = tuple(
    prefix
    for prefix in os.environ.get(
        "ARENA_TRUSTED_CHECKPOINT_SOURCES",
        "https://github.com/ACEsuit/mace-mp/releases/download/,"
        "https://github.com/ACEsuit/mace-foundations/releases/download/,"
        "https://github.com/ACEsuit/mace-off/raw/main/,"
        "https://github.com/MDIL-SNU/SevenNet/raw/main/,"
        "hf://mace-foundations/,hf://facebook/,hf://lab-cosmo/,hf://mir-group/",
    ).split(",")
    if prefix
)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "var" / "static"
STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
    "leaderboard_app.static_finders.PlotlyFinder",  # plotly.min.js from the plotly package
]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
