"""Settings, all read from the environment, with safe defaults for the embedded mode.

Embedded mode (no variables set): SQLite in the project folder, jobs run in-process,
DEBUG off, a secret key generated once into var/secret_key, static files served by
WhiteNoise straight from the apps. DATABASE_URL selects PostgreSQL; REDIS_URL turns
on RQ queues. ARENA_PRODUCTION=1 is the deployment switch: it requires SECRET_KEY,
turns on HTTPS-only cookies, redirects and HSTS (each still overridable), and serves
collected static files with hashed names, compressed; ``check --deploy`` is then clean.
"""

import contextlib
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key

from compute.environments import all_queue_names

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _flag(name: str, default: bool) -> bool:
    return os.environ.get(name, "1" if default else "0").lower() in {"1", "true", "yes", "on"}


def _local_secret_key(path: Path) -> str:
    """The embedded mode's key: generated once into an owner-only file, then read back."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f"{path.name}.{os.getpid()}")
        descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(get_random_secret_key())
        with contextlib.suppress(FileExistsError):
            os.link(draft, path)  # atomic: of processes starting together, the first wins
        draft.unlink()
    return path.read_text().strip()


PRODUCTION = _flag("ARENA_PRODUCTION", False)
DEBUG = _flag("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY must be set when ARENA_PRODUCTION is on")
    SECRET_KEY = _local_secret_key(Path(os.environ.get("SECRET_KEY_FILE", VAR_DIR / "secret_key")))
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "localhost,127.0.0.1").split(",") if h]

# HTTPS: on in production (TLS ends at a proxy that sets X-Forwarded-Proto), off for
# the embedded mode's plain-HTTP runserver.
_proxy_header = os.environ.get("SECURE_PROXY_SSL_HEADER", "X-Forwarded-Proto" if PRODUCTION else "")
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_" + _proxy_header.upper().replace("-", "_"), "https") if _proxy_header else None
)
SECURE_SSL_REDIRECT = _flag("SECURE_SSL_REDIRECT", PRODUCTION)
SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = _flag("CSRF_COOKIE_SECURE", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 365 * 86400 if PRODUCTION else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = _flag("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = _flag("SECURE_HSTS_PRELOAD", PRODUCTION)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_rq",
    "models_app",
    "tasks_app",
    "leaderboard_app",
    "publishing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages compress about 5:1; Django's gzip pads its output against BREACH.
    "django.middleware.gzip.GZipMiddleware",
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
if not os.environ.get("DATABASE_URL") and not SQLITE_PATH.parent.is_dir():
    raise ImproperlyConfigured(
        f"SQLITE_PATH {SQLITE_PATH}: its folder does not exist; create it or set another path"
    )
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{SQLITE_PATH}", conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Workers and the web process share the file: write-ahead logging lets them read
    # while one writes, a writer waits up to 30 s for the lock rather than fail, and a
    # transaction takes the lock when it begins (a deferred one that read first could
    # not wait for it).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=30, init_command="PRAGMA journal_mode=WAL", transaction_mode="IMMEDIATE"
    )
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
# ArenaWorker is RQ's SimpleWorker (jobs run in the worker process itself, so each
# worker loads a model's calculator once) that keeps RQ's heartbeats going during a job.
RQ = {"COMMIT_MODE": "auto", "WORKER_CLASS": "tasks_app.execution.rq_worker.ArenaWorker"}
# RQ re-runs a job whose worker died this many times (a job that raises is not re-run).
# The Hugging Face dataset the results are published to (ORG/NAME), named on /cite/.
ARENA_DATASET_REPO = os.environ.get("ARENA_DATASET_REPO", "")
# A model with fewer results on a task than this share of the best-covered model's is
# ranked apart, in the task's "partial" group, and counts as absent in the arena rank.
ARENA_MIN_COVERAGE = float(os.environ.get("ARENA_MIN_COVERAGE", "0.5"))
ARENA_JOB_RETRIES = int(os.environ.get("ARENA_JOB_RETRIES", "2"))
# A process running a job renews its lease every ARENA_HEARTBEAT_S seconds; a lease three
# heartbeats old means the process is gone and the job is re-run (RQ) or interrupted.
ARENA_HEARTBEAT_S = float(os.environ.get("ARENA_HEARTBEAT_S", "10"))
# Compute threads per worker process; 0: the host's cores divided by its workers, which
# is ARENA_WORKERS_PER_HOST when a launcher sets it, else the live workers on the host.
# An OpenMP thread count given the usual way (OMP_NUM_THREADS=N) is honoured too.
ARENA_WORKER_THREADS = int(
    os.environ.get("ARENA_WORKER_THREADS")
    or os.environ.get("OMP_NUM_THREADS", "0").split(",")[0].strip()
    or 0
)
ARENA_WORKERS_PER_HOST = int(os.environ.get("ARENA_WORKERS_PER_HOST", "0"))
# Jobs of one model, task and parameters that a process runs together, where the task
# can (TaskSpec.run_batch: the formation task's relaxations in one batched relaxation);
# 1 runs every job alone. A model's registry batch_size caps it.
ARENA_JOBS_PER_BATCH = int(os.environ.get("ARENA_JOBS_PER_BATCH", "1"))
# Local worker processes of an in-process run (run_benchmark --workers); 0: one per core.
ARENA_LOCAL_WORKERS = int(os.environ.get("ARENA_LOCAL_WORKERS", "0"))
# Batch-scheduler defaults for launch_workers (each can be given on its command line).
ARENA_CLUSTER = {
    "scheduler": os.environ.get("ARENA_CLUSTER_SCHEDULER", "slurm"),
    "partition": os.environ.get("ARENA_CLUSTER_PARTITION", ""),
    "account": os.environ.get("ARENA_CLUSTER_ACCOUNT", ""),
    "time": os.environ.get("ARENA_CLUSTER_TIME", "04:00:00"),
    "prologue": os.environ.get("ARENA_CLUSTER_PROLOGUE", ""),
}
# Long jobs (MD): large files such as full trajectories and MD checkpoints go to the
# file store; a running job writes its progress to its row at most every
# ARENA_PROGRESS_SECONDS and a checkpoint at most every ARENA_CHECKPOINT_SECONDS.
ARENA_FILE_STORE = Path(os.environ.get("ARENA_FILE_STORE", BASE_DIR / "var" / "files")).expanduser()
ARENA_PROGRESS_SECONDS = float(os.environ.get("ARENA_PROGRESS_SECONDS", "5"))
ARENA_CHECKPOINT_SECONDS = float(os.environ.get("ARENA_CHECKPOINT_SECONDS", "60"))
# Caps every task's time limit per job (seconds; 0: each task's own time_limit_s), in
# process as on RQ.
ARENA_TIME_LIMIT_S = float(os.environ.get("ARENA_TIME_LIMIT_S", "0"))
# What a worker started by a batch scheduler needs from this environment.
WORKER_VARIABLES = (
    "DATABASE_URL", "REDIS_URL", "SECRET_KEY", "SECRET_KEY_FILE", "DEBUG", "ARENA_PRODUCTION",
    "ARENA_CACHE_DIR", "ARENA_JOB_RETRIES", "ARENA_HEARTBEAT_S", "ARENA_TRUSTED_CHECKPOINT_SOURCES",
    "HF_HOME", "HF_ENDPOINT", "HF_HUB_OFFLINE", "HF_TOKEN", "LOG_LEVEL", "ARENA_FILE_STORE",
    "ARENA_PROGRESS_SECONDS", "ARENA_CHECKPOINT_SECONDS", "ARENA_TIME_LIMIT_S",
    "ARENA_JOBS_PER_BATCH",
)  # fmt: skip
ARENA_WORKER_ENVIRONMENT = {n: os.environ[n] for n in WORKER_VARIABLES if n in os.environ}

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
# Production serves what collectstatic wrote to STATIC_ROOT: hashed names (cached for
# a year) with gzip and Brotli copies. The embedded mode serves the apps' files as
# they are and collects nothing.
STATIC_ROOT = os.environ.get("STATIC_ROOT") or (VAR_DIR / "static" if PRODUCTION else None)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
