"""Chorus settings: one module, driven by environment variables.

With nothing set it runs on the embedded default: SQLite in the project, Celery tasks
executed eagerly, a local-memory cache and emails printed to the console.
"""

import os
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)

# Only a debug run may fall back to a throwaway key; a production start without one
# must stop loudly rather than sign sessions with a guessable secret.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if DEBUG:
        SECRET_KEY = "django-insecure-chorus-development-only-key-never-use-in-production"
    else:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (or DEBUG=true for local development)."
        )

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "allauth",
    "allauth.account",
    "rest_framework",
    "drf_spectacular",
    "crispy_forms",
    "crispy_bootstrap5",
    "communities",
    "rewards",
    "surveys",
    "feedback",
    "insights",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy and Permissions-Policy on every response (the CSP block below).
    "config.security.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Pages go out compressed even with no proxy in front (static files are already
    # compressed by whitenoise, which answers above this). Django pads gzip output
    # against BREACH since 4.2.
    "django.middleware.gzip.GZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before CSRF, whose check first reads a form: a form over Django's limits gets a page.
    "config.errors.RequestLimitMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "config.sessions.AuthenticationMiddleware",
    # After LocaleMiddleware and the user: staff pages speak the staff member's choice.
    "communities.middleware.StaffLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    # Plain text (email subjects and text parts): nothing to escape, so a customer's
    # "Tom & Jerry's" is not sent as "Tom &amp; Jerry&#x27;s".
    {
        "NAME": "text",
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {"autoescape": False},
    },
]

DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Server-side parameters let psycopg prepare a statement a connection keeps running
    # (from its fifth run), so PostgreSQL stops planning the hot path's lookups and inserts
    # again on every request. PG_PREPARED=false (e.g. behind a transaction-mode pgbouncer,
    # which cannot keep prepared statements) turns it off.
    if env.bool("PG_PREPARED", default=True):
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            server_side_binding=True, prepare_threshold=5
        )
    # And keeps the hot path's long statements parsed (config.pg).
    from config.pg import parsed_statement_cache_widen

    parsed_statement_cache_widen()
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE takes the write lock at BEGIN
    # so concurrent submits queue instead of failing with "database is locked", and
    # config.sqlite queues them on a lock the kernel hands on, not in SQLite's sleeps.
    DATABASES["default"]["ENGINE"] = "config.sqlite"
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # Kept open as on PostgreSQL (CONN_MAX_AGE above): a new SQLite connection per request
    # registers Django's SQL functions and runs these PRAGMAs again, a large share of a
    # short request. Each process (or thread) has its own connection, as it would anyway.
    # Tests use a file, not shared-cache memory, so concurrent tests see the same locking
    # (WAL, busy timeout) as the embedded default in production.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / f".test-db-{os.getpid()}.sqlite3")}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "communities.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# --- allauth: email is the login, and members must verify it -------------------------
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[Chorus] "
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_ADAPTER = "config.account_adapter.AccountAdapter"
ACCOUNT_FORMS = {
    "login": "config.account_adapter.LoginForm",
    "signup": "config.account_adapter.SignupForm",
}
# Who may create a (staff) account on the sign-up page: "invite-only" lets only someone
# who opened a staff invitation sign up, with the invited address; "open" lets anyone.
# Members never use it: they join through a community's page.
ACCOUNT_SIGNUP = env.str("ACCOUNT_SIGNUP", default="invite-only").strip().lower()
if ACCOUNT_SIGNUP not in ("invite-only", "open"):
    raise ImproperlyConfigured(
        f"ACCOUNT_SIGNUP={ACCOUNT_SIGNUP!r} is not understood: use 'invite-only' or 'open'."
    )
# Failed passwords for one address pause password sign-in for everyone (a guessing
# defence); the owner is emailed and can still sign in with a code (config/account_adapter.py).
ACCOUNT_LOGIN_LOCK_ATTEMPTS = 5
ACCOUNT_LOGIN_LOCK_SECONDS = 300
ACCOUNT_RATE_LIMITS = {
    "login_failed": f"10/m/ip,{ACCOUNT_LOGIN_LOCK_ATTEMPTS}/{ACCOUNT_LOGIN_LOCK_SECONDS}s/key",
}
# Members have no password (they joined by a confirmed email link): they sign in with a
# one-time code sent to their address.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
LOGIN_REDIRECT_URL = "/"

# --- i18n: respondents read English, Thai, Hebrew (RTL) and Japanese -----------------
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("th", _("Thai")),
    ("he", _("Hebrew")),
    ("ja", _("Japanese")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- static files, served by whitenoise from static/ ---------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env.bool("STATIC_MANIFEST", default=True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = DEBUG

# --- uploaded files (reward images): the default storage, served by the app itself ------
# whitenoise serves only static files; rewards.views.images streams reward images from
# here (config/urls.py), so a self-hosted site needs no web server rule for them.
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
MEDIA_URL = "/media/"
# The largest reward image staff may upload, in bytes.
REWARD_IMAGE_MAX_BYTES = env.int("REWARD_IMAGE_MAX_BYTES", default=2 * 1024 * 1024)

# --- response exports (surveys.exports): files a worker writes under MEDIA_ROOT/exports/ ---
# How long a prepared export's download link works; the sweep then deletes the file.
EXPORT_LINK_HOURS = env.int("EXPORT_LINK_HOURS", default=24)
# A queued or running export nobody has advanced for this long is started again.
EXPORT_REDRIVE_MINUTES = env.int("EXPORT_REDRIVE_MINUTES", default=10)

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Redis: broker and cache when present, eager tasks and local memory when not -----
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # Answers as an empty cache while Redis is down, so pages keep working.
            "BACKEND": "config.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 1.0},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# After Redis fails once, a web process skips it (publishing, cache) for this many seconds.
REDIS_BREAKER_SECONDS = env.float("REDIS_BREAKER_SECONDS", default=10.0)

# A broker of its own (the demo's `filesystem://`, which needs no server), else Redis.
# With neither, tasks run eagerly in the process that queued them.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="") or REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_EAGER", default=CELERY_BROKER_URL == "memory://")
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = env.str("CELERY_QUEUE", default="chorus")
# A dead broker must not hold a web request: publishing gives up fast and the outbox
# and analysis sweeps re-drive whatever was not enqueued.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY = False
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600, "socket_connect_timeout": 2}
if CELERY_BROKER_URL.startswith("filesystem://"):
    # Messages are files in one folder that the web, the worker and beat all share
    # (kombu reads from data_folder_in, writes to data_folder_out); it must exist first.
    # A relative folder is under the project, whichever folder a process started in.
    _broker_folder = BASE_DIR / env.str("CELERY_BROKER_FOLDER", default=".demo/broker")
    (_broker_folder / "queue").mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "control_folder": str(_broker_folder / "control"),
    }
# Where beat remembers when each sweep last ran (the demo keeps it in .demo/).
CELERY_BEAT_SCHEDULE_FILENAME = env.str(
    "CELERY_BEAT_SCHEDULE_FILENAME", default="celerybeat-schedule"
)
CELERY_BEAT_SCHEDULE = {
    # "outbox-redrive" is in config/settings_outbox.py, with its interval.
    "analysis-redrive": {"task": "feedback.tasks.analysis_redrive_task", "schedule": 60.0},
    "events-sweep": {"task": "surveys.tasks.events_sweep_task", "schedule": 60.0},
    # Hourly is plenty for reminders days apart; the demo sweeps every few seconds so a
    # reminder it seeds to fall due is sent within a minute.
    "invitation-reminders": {
        "task": "surveys.tasks.reminders_send_task",
        "schedule": env.float("REMINDER_SWEEP_SECONDS", default=3600.0),
    },
    "anonymous-pool": {"task": "surveys.tasks.anonymous_pool_sweep_task", "schedule": 300.0},
    # Daily, early morning server time, when nobody is looking at the overview.
    "members-lifecycle": {
        "task": "communities.tasks.members_lifecycle_task",
        "schedule": crontab(hour=3, minute=15),
    },
    "personal-data-expire": {
        "task": "communities.tasks.personal_data_expire_task",
        "schedule": crontab(hour=3, minute=45),
    },
    "audit-entries-expire": {
        "task": "communities.tasks.audit_entries_expire_task",
        "schedule": crontab(hour=4, minute=5),
    },
    # Rewards: expire first, then warn, so nobody is warned about points already gone.
    "points-expire": {
        "task": "rewards.tasks.points_expire_task",
        "schedule": crontab(hour=4, minute=25),
    },
    "points-expiry-notify": {
        "task": "rewards.tasks.points_expiry_notify_task",
        "schedule": crontab(hour=4, minute=45),
    },
    "standings-compute": {
        "task": "rewards.tasks.standings_compute_task",
        "schedule": crontab(hour=5, minute=5),
    },
    # Idempotency-Key answers past API_IDEMPOTENCY_TTL_HOURS (communities/api/tasks.py).
    "idempotency-records-expire": {
        "task": "communities.api.tasks.idempotency_records_expire_task",
        "schedule": crontab(minute=35),
    },
    # Expired export files deleted, and exports whose worker died started again.
    "exports-sweep": {"task": "surveys.exports.tasks.exports_sweep_task", "schedule": 900.0},
    # Webhook deliveries whose retry fell due, or whose worker died mid-send.
    "webhooks-redrive": {
        "task": "communities.webhooks.tasks.webhook_redrive_task",
        "schedule": env.float("WEBHOOK_SWEEP_SECONDS", default=30.0),
    },
}

# --- email: console by default, SMTP (or any backend) from EMAIL_URL -----------------
EMAIL_URL = env.str("EMAIL_URL", default="consolemail://")
_email_config = env.email_url_config(EMAIL_URL)
if _email_config["EMAIL_BACKEND"].endswith("filebased.EmailBackend"):
    # `filemail:///.demo/emails` (the demo's): a file per connection, under the project
    # whichever folder a process started in.
    _email_config["EMAIL_FILE_PATH"] = str(BASE_DIR / _email_config["EMAIL_FILE_PATH"])
vars().update(_email_config)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Chorus <noreply@chorus.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A list without a paginator of its own still pages by cursor, with page_size and a cap.
    "DEFAULT_PAGINATION_CLASS": "config.api_pagination.DefaultCursorPagination",
    "PAGE_SIZE": 100,
    # JSON only, bounded: one body format for every write, and a huge body costs nothing.
    "DEFAULT_PARSER_CLASSES": ["communities.api.parsers.BoundedJSONParser"],
    # Every error an RFC 9457 problem (application/problem+json).
    "EXCEPTION_HANDLER": "config.api_errors.problem_exception_handler",
}
# The OpenAPI 3.1 schema (/api/schema/, browsable at /api/docs/). DESCRIPTION is the
# conventions every endpoint shares, said once; each area is a tag (config/openapi.py tags
# each operation with its view's api_area, the area a key's scopes name).
_API_AREAS = {
    "surveys": "Surveys with their questions and choices in every language, polls, and the "
    "events from your systems that send a survey.",
    "responses": "Survey responses and their answers.",
    "members": "Communities, their members and each member's consent, and segments.",
    "rewards": "The reward catalogue, members' points and redemptions.",
    "cases": "Follow-up cases opened from negative answers, and their timeline.",
    "results": "Survey results: the same figures as the staff pages.",
    "webhooks": "Webhook endpoints and the log of their deliveries.",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Chorus API",
    "VERSION": "1.0.0",
    "OAS_VERSION": "3.1.0",
    # The API's introduction (keys, errors, idempotency, limits, paging), kept as prose.
    "DESCRIPTION": (BASE_DIR / "config" / "api_description.md").read_text(encoding="utf-8"),
    "SERVERS": [
        # Relative: calls go to the site that served the schema, whatever its address.
        {"url": "/", "description": "This Chorus site"},
    ],
    "TAGS": [
        {
            "name": area,
            "description": f"{about} Scopes: `{area}:read`, `{area}:write`.",
        }
        for area, about in _API_AREAS.items()
    ],
    "CONTACT": {"name": "The operators of this Chorus site", "url": SITE_URL},
    # Operations are named and tagged from the path after /api/v1/{org}/, not "v1_…".
    "SCHEMA_PATH_PREFIX": r"/api/v[0-9]+/\{org\}",
    "DEFAULT_GENERATOR_CLASS": "config.openapi.AreaTaggingSchemaGenerator",
    # The schema endpoint documents the API; it is not an operation of it.
    "SERVE_INCLUDE_SCHEMA": False,
    # The problem responses, Idempotency-Key and RateLimit headers every operation shares
    # (config/api_schema.py), after drf-spectacular's own enum naming.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api_schema.postprocess_api_conventions",
    ],
    "ENUM_NAME_OVERRIDES": {
        "WebhookSubscribableEventEnum": "communities.webhooks.services.SUBSCRIBABLE",
        "QuestionTypeEnum": "surveys.choices.QuestionType",
        "SurveyKindEnum": "surveys.choices.SurveyKind",
        "TriggerEventEnum": "surveys.choices.TriggerEvent",
        # One name for every field that takes a language (event language, member locale).
        "LanguageEnum": [code for code, _name in LANGUAGES],
        "AttributeKindEnum": "communities.choices.AttributeKind",
        "MemberStatusEnum": "communities.choices.MemberStatus",
        "SurveyStatusEnum": "surveys.choices.SurveyStatus",
        "RewardKindEnum": "rewards.choices.RewardKind",
        "RedemptionStatusEnum": "rewards.choices.RedemptionStatus",
        "LedgerReasonEnum": "rewards.choices.LedgerReason",
        # One name per choice set that several fields (or several areas) share.
        "ChannelKindEnum": "surveys.choices.ChannelKind",
        "SurveyPhaseEnum": "surveys.choices.SurveyPhase",
        "AnonymityEnum": "surveys.choices.Anonymity",
        "CaseStatusEnum": "feedback.choices.CaseStatus",
        "CasePriorityEnum": "feedback.choices.CasePriority",
        "CaseEventKindEnum": "feedback.choices.CaseEventKind",
        "WebhookEventEnum": "communities.webhooks.choices.WebhookEvent",
        "WebhookDeliveryStatusEnum": "communities.webhooks.choices.DeliveryStatus",
        "WebhookAttemptErrorEnum": "communities.webhooks.choices.AttemptError",
        "WebhookDisabledReasonEnum": "communities.webhooks.choices.DisabledReason",
    },
}

# --- API: what every /api/v1/<org>/ view shares (communities/api/base.py) -------------
# Requests a minute per caller (an API key, a staff member) in each organisation, reads
# and writes counted apart: a CRM's nightly sync at full speed stays under them, a
# runaway loop does not, and a big export does not hold back another system's writes.
API_RATE_READS_PER_MINUTE = env.int("API_RATE_READS_PER_MINUTE", default=1200)
API_RATE_WRITES_PER_MINUTE = env.int("API_RATE_WRITES_PER_MINUTE", default=600)
# How long a write's Idempotency-Key is remembered: a retry within it gets the first answer.
API_IDEMPOTENCY_TTL_HOURS = env.int("API_IDEMPOTENCY_TTL_HOURS", default=24)

# --- security: `manage.py check --deploy` is clean with DEBUG off ---------------------
# Database sessions, read with a query compiled once per process (config/sessions.py).
SESSION_ENGINE = "config.sessions"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- CSP: what a page may load and run (django-csp; config/security.py) ----------------
# Scripts and styles come only from our own static files: templates hold no inline
# <script>, no on…= handlers, no javascript: links and no style="" (data a script needs is
# a json_script or data-* attribute; a width is a .bar-N class in chorus.css). The one
# inline CSS is a page's brand colour, in a <style nonce="{{ request.csp_nonce }}"> block;
# a response that never reads the nonce gets no nonce in its policy. Images: our own files
# and Bootstrap's data: icons (reward images are served by the app, so "self" covers them);
# a logo is a path on this site (communities.models.base's
# same-site rule), never another host, which keeps members' visits private. worker-src
# lets the kiosk register its service worker (/k/<token>/sw.js). The Django admin and
# DRF's browsable API run under the same policy (tests/e2e/test_csp.py visits them).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}
if env.str("CSP_REPORT_URI", default=""):
    # Where browsers POST the violations they block (a collector such as Sentry's).
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["report-uri"] = [env.str("CSP_REPORT_URI")]
# Browser features no page uses, switched off for every page (and anything it embeds).
# Fullscreen stays for our own pages: a kiosk tablet asks for it on the first tap.
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "autoplay",
        "browsing-topics",
        "camera",
        "clipboard-read",
        "clipboard-write",
        "display-capture",
        "encrypted-media",
        "gamepad",
        "geolocation",
        "gyroscope",
        "hid",
        "identity-credentials-get",
        "idle-detection",
        "local-fonts",
        "magnetometer",
        "microphone",
        "midi",
        "otp-credentials",
        "payment",
        "picture-in-picture",
        "publickey-credentials-create",
        "publickey-credentials-get",
        "screen-wake-lock",
        "serial",
        "storage-access",
        "usb",
        "window-management",
        "xr-spatial-tracking",
    )
} | {"fullscreen": ["self"]}

# --- webhooks: signed deliveries to organisations' own URLs (communities.webhooks) ------
WEBHOOK_TIMEOUT_SECONDS = env.float("WEBHOOK_TIMEOUT_SECONDS", default=10.0)
# The most of a receiver's answer that is read (the rest is never downloaded).
WEBHOOK_RESPONSE_MAX_BYTES = env.int("WEBHOOK_RESPONSE_MAX_BYTES", default=4096)
# Retries stop this long after the event; the delivery is then failed.
WEBHOOK_RETRY_FOR_HOURS = env.float("WEBHOOK_RETRY_FOR_HOURS", default=24.0)
# Exponential backoff with full jitter: a random wait up to base * 2^(attempt-1), capped.
WEBHOOK_BACKOFF_BASE_SECONDS = env.float("WEBHOOK_BACKOFF_BASE_SECONDS", default=30.0)
WEBHOOK_BACKOFF_CAP_SECONDS = env.float("WEBHOOK_BACKOFF_CAP_SECONDS", default=3600.0)
# An endpoint failing without a single success for this long is disabled, owners emailed.
WEBHOOK_DISABLE_AFTER_HOURS = env.float("WEBHOOK_DISABLE_AFTER_HOURS", default=24.0)
# A delivery claimed this long ago by a worker that never finished is sent again.
WEBHOOK_SENDING_STALE_SECONDS = env.float("WEBHOOK_SENDING_STALE_SECONDS", default=300.0)
# A worker sends due deliveries in batches of this many (one claim, one transaction of
# results each), this many requests at a time, and hands over to a fresh task after
# draining for this long.
# (Capped so that a batch whose receivers all time out still ends inside its claim.)
WEBHOOK_SEND_BATCH = env.int("WEBHOOK_SEND_BATCH", default=160)
WEBHOOK_SEND_CONCURRENCY = env.int("WEBHOOK_SEND_CONCURRENCY", default=8)
WEBHOOK_DRAIN_MAX_SECONDS = env.float("WEBHOOK_DRAIN_MAX_SECONDS", default=60.0)
# How long a web process trusts its copy of an organisation's endpoint list.
WEBHOOK_ENDPOINT_CACHE_SECONDS = env.float("WEBHOOK_ENDPOINT_CACHE_SECONDS", default=10.0)
# Hosts or addresses deliveries may reach although private or loopback (an intranet CRM,
# tests' local receiver); everything else private is refused (SSRF).
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])

CHORUS = {
    # Below this many respondents a report shows no breakdown (SPEC: anonymity).
    "MIN_GROUP_SIZE": 5,
    # Unsent outbox rows older than this are re-driven by the beat task.
    "OUTBOX_REDRIVE_AFTER_SECONDS": env.int("OUTBOX_REDRIVE_AFTER_SECONDS", default=60),
    "OUTBOX_MAX_ATTEMPTS": 8,
    # Invitations written and handed to one send task per chunk of a staff batch.
    "INVITATION_CHUNK": 500,
    # A stuck button cannot flood a survey: submissions per kiosk per minute.
    "KIOSK_RATE_PER_MINUTE": env.int("KIOSK_RATE_PER_MINUTE", default=30),
    # Recipients one staff send may name.
    "INVITATION_BATCH_MAX": 50_000,
    # Reverse proxies in front of the app that append to X-Forwarded-For: with 1 (one
    # nginx), rate limits key on the address that proxy saw; 0 trusts no header.
    "TRUSTED_PROXIES": env.int("TRUSTED_PROXIES", default=0),
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # At INFO httpx logs every webhook URL, and some receivers put a secret in the path.
        "httpx": {"level": "WARNING"},
        "celery.app.trace": {"level": "WARNING" if CELERY_TASK_ALWAYS_EAGER else "INFO"},
    },
}

# --- areas with settings of their own (config/settings_<area>.py) ---------------------
from config import (  # noqa: E402
    settings_cases,
    settings_inbound,
    settings_insights,
    settings_notifications,
    settings_outbox,
)

for _part in (
    settings_cases,
    settings_inbound,
    settings_insights,
    settings_notifications,
    settings_outbox,
):
    globals().update({k: v for k, v in vars(_part).items() if k.isupper() and k != "BEAT"})
    CELERY_BEAT_SCHEDULE.update(_part.BEAT)
