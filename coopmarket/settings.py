"""Coopmarket settings, read from the environment (CONTRACT.md §3).

Every deployment value comes from an environment variable with a safe default for the embedded
(SQLite, no broker) mode. Coop rules (share minimums, shift limits...) are not here: they live in
the `members.CoopParameters` singleton that an admin edits.
"""
import datetime
import os
import secrets
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_date(name: str, default: str) -> datetime.date:
    raw = os.environ.get(name) or default
    try:
        return datetime.date.fromisoformat(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a date YYYY-MM-DD, got {raw!r}") from exc


def secret_key(*, debug: bool, testing: bool) -> str:
    """DJANGO_SECRET_KEY, else the file DJANGO_SECRET_KEY_FILE names (in debug, default `.secret_key`).

    Never a known value: in debug without a key, a random key is written to that file (mode 600,
    kept across restarts) and announced on stderr; tests get a random key per process; anything
    else without a key refuses to start."""
    key = env_str("DJANGO_SECRET_KEY")
    if key:
        return key
    named = env_str("DJANGO_SECRET_KEY_FILE")
    key_file = Path(named) if named else BASE_DIR / ".secret_key"
    if (named or debug) and key_file.is_file():  # production reads only a file it was told about
        key = key_file.read_text(encoding="utf-8").strip()
        if key:
            return key
    if testing:
        return secrets.token_urlsafe(50)
    if not debug:
        raise ImproperlyConfigured(
            "Set DJANGO_SECRET_KEY (or DJANGO_SECRET_KEY_FILE naming a file that holds it); DJANGO_DEBUG=1 for local use."
        )
    key = secrets.token_urlsafe(50)
    key_file.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    print(f"DJANGO_SECRET_KEY is not set: using a random development key kept in {key_file}.", file=sys.stderr)
    return key


DEBUG = env_bool("DJANGO_DEBUG", False)
TESTING = env_bool("COOP_TESTING", False) or "pytest" in sys.modules
SECRET_KEY = secret_key(debug=DEBUG, testing=TESTING)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "axes",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_tables2",
    "django_filters",
    "bootstrap",
    "coopmarket.apps.CoopmarketConfig",
    "members",
    "shifts",
    "inventory",
    "checkout",
    "interchange",
    "assemblies",
    "figures",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # NUL and other control characters in any input: 400 before any view (DOMAIN.md §8).
    "coopmarket.middleware.RejectControlCharactersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Last: turns a sign-in lockout into its 429 answer (coopmarket.lockout).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "coopmarket.urls"
WSGI_APPLICATION = "coopmarket.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "coopmarket.context_processors.coop",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(env_str("DATABASE_CONN_MAX_AGE", "60")),
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache holds the API throttles' counters: a Redis URL (DJANGO_CACHE_URL) in production so that
# every worker counts together; the process's memory otherwise (and always in tests).
_cache_url = "" if TESTING else env_str("DJANGO_CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
        if _cache_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sign-in lockout (DOMAIN.md §8) with django-axes: the limits and the duration are coop
# parameters read by coopmarket.lockout. The axes backend comes first: it refuses a locked-out
# client before any password is checked.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "coopmarket.lockout.CoopAxesHandler"
AXES_FAILURE_LIMIT = "coopmarket.lockout.failure_limit"
AXES_COOLOFF_TIME = "coopmarket.lockout.cool_off"
AXES_CLIENT_IP_CALLABLE = "coopmarket.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "coopmarket.lockout.lockout_response"
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False  # refused for the cool-off, not longer
AXES_RESET_ON_SUCCESS = False  # one valid account must not wipe an address's failures
AXES_VERBOSE = False

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Internationalisation: English source strings, French translation.
LANGUAGE_CODE = env_str("DJANGO_LANGUAGE_CODE", "fr")
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
COOP_TIME_ZONE = env_str("COOP_TIME_ZONE", "Europe/Paris")
TIME_ZONE = COOP_TIME_ZONE
# Day 1 of week A of the ABCD cycle; fixed once shifts exist.
COOP_CYCLE_START = env_date("COOP_CYCLE_START", "2026-01-05")
if COOP_CYCLE_START.weekday() != 0:
    raise ImproperlyConfigured("COOP_CYCLE_START must be a Monday.")
COOP_NAME = env_str("COOP_NAME", "Coopmarket")
COOP_ADDRESS = env_str("COOP_ADDRESS")  # the shop's address, in calendar events
COOP_SITE_URL = env_str("COOP_SITE_URL")  # e.g. https://coop.example.org, for links in e-mails
COOP_REMINDER_DAYS = int(env_str("COOP_REMINDER_DAYS", "2"))  # shift reminder, days ahead
COOP_UNDERSTAFFED_DAYS = int(env_str("COOP_UNDERSTAFFED_DAYS", "3"))  # call FTOP members for shifts this close
COOP_UNDERSTAFFED_PERCENT = int(env_str("COOP_UNDERSTAFFED_PERCENT", "50"))  # below this fill rate
COOP_FIGURES_MIN_PEOPLE = int(env_str("COOP_FIGURES_MIN_PEOPLE", "10"))  # open figures: nothing from fewer people

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Security: secure cookies and HTTPS outside debug.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(env_str("DJANGO_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
# Behind a reverse proxy (nginx, Caddy...) that sets X-Forwarded-Proto and X-Forwarded-For: only
# then are these headers trusted (HTTPS detection, the client address for lockouts and throttles).
# DJANGO_PROXY_COUNT is how many proxies append to X-Forwarded-For (the client is that many from
# the right).
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
PROXY_COUNT = int(env_str("DJANGO_PROXY_COUNT", "1")) if BEHIND_PROXY else 0
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if BEHIND_PROXY else None
SECURE_REFERRER_POLICY = "same-origin"

from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# Email (Django 6.1's MAILERS, from the environment).
_email_backend = env_str(
    "DJANGO_EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
_smtp_options = {
    "host": env_str("DJANGO_EMAIL_HOST", "localhost"),
    "port": int(env_str("DJANGO_EMAIL_PORT", "25")),
    "username": env_str("DJANGO_EMAIL_HOST_USER"),
    "password": env_str("DJANGO_EMAIL_HOST_PASSWORD"),
    "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False),
    "timeout": 20,
}
MAILERS = {
    "default": {
        "BACKEND": _email_backend,
        "OPTIONS": _smtp_options if _email_backend.endswith("smtp.EmailBackend") else {},
    }
}
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "coop@localhost")

# Stripe (issue: online share payments). Empty keys: online payment hidden.
STRIPE_SECRET_KEY = env_str("STRIPE_SECRET_KEY")
STRIPE_WEBHOOK_SECRET = env_str("STRIPE_WEBHOOK_SECRET")
STRIPE_API_BASE = env_str("STRIPE_API_BASE")

# Celery: with no broker, tasks run in-process (eagerly).
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env_str("CELERY_RESULT_BACKEND") or None
CELERY_TIMEZONE = COOP_TIME_ZONE
CELERY_TASK_ACKS_LATE = True
CELERY_BEAT_SCHEDULE: dict = {}  # filled by coopmarket/celery.py from the jobs each app declares

# REST API
REST_FRAMEWORK = {
    # Token first: an anonymous request gets 401 with `WWW-Authenticate: Token`.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coopmarket.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "coopmarket.api_support.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coopmarket.api_support.exception_handler",
    # The API speaks JSON (CONTRACT.md §5); a view that takes a file names its own parsers.
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Per-user rates for members' own accounts (role accounts are exempt: coopmarket.throttling).
    "DEFAULT_THROTTLE_CLASSES": ["coopmarket.throttling.MemberRateThrottle"],
    # Throttles identify anonymous clients by REMOTE_ADDR, or by X-Forwarded-For only behind a proxy.
    "NUM_PROXIES": PROXY_COUNT,
}
# API rates for accounts without a role: every call, and the till's lookups and name search for a
# member on shift (cashiers and coordinators are never throttled).
# The till's check log is written off the request, in batches (checkout/checklog.py): at most
# COOP_TILL_LOG_FLUSH_SECONDS late, and written at a clean stop; off under tests.
COOP_TILL_LOG_DEFERRED = env_bool("COOP_TILL_LOG_DEFERRED", not TESTING)
COOP_TILL_LOG_BATCH = int(env_str("COOP_TILL_LOG_BATCH", "200"))
COOP_TILL_LOG_FLUSH_SECONDS = float(env_str("COOP_TILL_LOG_FLUSH_SECONDS", "1"))
COOP_THROTTLE_RATES = {
    "member": env_str("COOP_API_RATE", "120/minute"),
    "till_member": env_str("COOP_TILL_MEMBER_RATE", "30/minute"),
}
# API tokens (django-rest-knox): hashed, expiring; lifetimes are coop parameters (token_days,
# device_token_days) given when each token is made.
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": datetime.timedelta(days=30),
    "AUTO_REFRESH": False,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Coopmarket API",
    "DESCRIPTION": "Members, shares, shifts, till and inventory of a cooperative supermarket.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SERVE_PERMISSIONS": ["rest_framework.permissions.AllowAny"],
    "COMPONENT_SPLIT_REQUEST": True,
    # Precise enough to fuzz: integer ids, strings without control characters, error answers,
    # links between operations (coopmarket/schema.py).
    "POSTPROCESSING_HOOKS": ["drf_spectacular.hooks.postprocess_schema_enums", "coopmarket.schema.postprocess"],
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Several models have a `kind` choice field: name each enum after its model.
    "ENUM_NAME_OVERRIDES": {
        "PaymentKindEnum": "members.models.Payment.Kind",
        "RegistrationKindEnum": "shifts.models.Registration.Kind",
        "CounterEventKindEnum": "shifts.models.CounterEvent.Kind",
        "StockMoveKindEnum": "inventory.models.StockMove.Kind",
        "TillCheckKindEnum": "checkout.models.TillCheck.Kind",
        "AssemblyKindEnum": "assemblies.models.Assembly.Kind",
    },
}

DJANGO_TABLES2_TEMPLATE = "coopmarket/table.html"  # bootstrap5-responsive, rows in one call

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"weasyprint.progress": {"level": "WARNING"}, "fontTools": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
