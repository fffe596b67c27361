"""Settings for Thrift MS, read from the environment (or a local `.env`).

Every variable is listed, with a comment, in `.env.example`. Values that
would make a deployment unsafe stop start-up with one line naming the
variable, rather than running half-configured.
"""

import datetime
from pathlib import Path

from decouple import Csv, config
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

PLACEHOLDER_SECRET_KEYS = {"", "change-me", "changeme", "replace-me", "secret"}


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """Read `name` from the environment; refuse anything outside `choices`."""
    value = config(name, default=default).strip().lower()
    if value not in choices:
        raise ImproperlyConfigured(
            f"{name} must be one of {', '.join(choices)}; got {value!r}."
        )
    return value


def env_int(name: str, default: int, minimum: int = 0) -> int:
    """Read a whole number of at least `minimum` from the environment."""
    raw = config(name, default=str(default))
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name} must be a whole number; got {raw!r}."
        ) from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}; got {value}.")
    return value


def check_production_settings(
    debug: bool, secret_key: str, allowed_hosts: list[str]
) -> None:
    """Refuse to start without DEBUG unless the key and hosts are real."""
    if debug:
        return
    if secret_key.strip().lower() in PLACEHOLDER_SECRET_KEYS:
        raise ImproperlyConfigured(
            "SECRET_KEY is missing or a placeholder; set a long random value "
            "when DEBUG is off."
        )
    if not [host for host in allowed_hosts if host.strip()]:
        raise ImproperlyConfigured(
            "ALLOWED_HOSTS is empty; list the host names this site answers to "
            "when DEBUG is off."
        )


try:
    DEBUG = config("DEBUG", default=False, cast=bool)
except ValueError:
    raise ImproperlyConfigured("DEBUG must be True or False.") from None

SECRET_KEY = config("SECRET_KEY", default="")
ALLOWED_HOSTS = config("ALLOWED_HOSTS", default="", cast=Csv())
if DEBUG:
    SECRET_KEY = SECRET_KEY or "insecure-development-key-only-for-debug"
    ALLOWED_HOSTS = ALLOWED_HOSTS or ["127.0.0.1", "localhost", "testserver"]
check_production_settings(DEBUG, SECRET_KEY, ALLOWED_HOSTS)

INSTALLED_APPS = [
    "jazzmin",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_filters",
    "import_export",
    "simple_history",
    "axes",
    "accounts",
    "thrift",
    "reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks, so it sees the outcome of every login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "thrift_ms.urls"

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

WSGI_APPLICATION = "thrift_ms.wsgi.application"

DB_ENGINE = env_choice("DB_ENGINE", "sqlite", ("sqlite", "mysql"))
if DB_ENGINE == "mysql":
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.mysql",
            "NAME": config("DB_NAME", default="thrift_ms"),
            "USER": config("DB_USER", default="root"),
            "PASSWORD": config("DB_PASSWORD", default=""),
            "HOST": config("DB_HOST", default="127.0.0.1"),
            "PORT": str(env_int("DB_PORT", 3306, minimum=1)),
            "OPTIONS": {
                "charset": "utf8mb4",
                # Strict mode turns a too-long or out-of-range value into an
                # error instead of a silently truncated row.
                "init_command": "SET sql_mode='STRICT_TRANS_TABLES,"
                "NO_ZERO_DATE,NO_ZERO_IN_DATE,ERROR_FOR_DIVISION_BY_ZERO'",
            },
            "TEST": {
                "NAME": config("DB_TEST_NAME", default="test_thrift_ms"),
                "CHARSET": "utf8mb4",
                "COLLATION": "utf8mb4_unicode_ci",
            },
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": config("SQLITE_PATH", default=str(BASE_DIR / "db.sqlite3")),
            "OPTIONS": {"timeout": 20},
        }
    }

AUTH_USER_MODEL = "accounts.User"

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Africa/Lagos"
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = False

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        # Hashed, compressed files in production (after collectstatic);
        # plain files while developing, so no collectstatic is needed.
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "thrift_ms.storage.StaticFilesStorage",
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

LOGIN_URL = "admin:login"
# The theme's login form carries no "next" field; land on the dashboard.
LOGIN_REDIRECT_URL = "admin:index"

LOG_LEVEL = env_choice(
    "LOG_LEVEL", "info", ("debug", "info", "warning", "error", "critical")
).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["console"], "level": LOG_LEVEL, "propagate": False},
        # Its start-up banner is noise; lockouts are still logged as warnings.
        "axes": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# Where the admin lives; a less obvious path turns away idle scanners.
THRIFT_ADMIN_PATH = config("THRIFT_ADMIN_PATH", default="admin/").strip("/") + "/"

# Security. Production values unless DEBUG is on; each can be turned by the
# environment for a deployment behind a TLS-terminating proxy.
SECURE_SSL_REDIRECT = config("SECURE_SSL_REDIRECT", default=not DEBUG, cast=bool)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=300)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = config("SECURE_HSTS_PRELOAD", default=not DEBUG, cast=bool)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_TRUSTED_ORIGINS = config("CSRF_TRUSTED_ORIGINS", default="", cast=Csv())
if config("BEHIND_TLS_PROXY", default=False, cast=bool):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Login protection (django-axes): after THRIFT_LOGIN_FAILURE_LIMIT failed
# logins a username is locked from that address for the cool-off time.
# Locking the pair, not the username alone, stops a stranger from locking a
# treasurer out of their own office.
AXES_ENABLED = config("AXES_ENABLED", default=True, cast=bool)
AXES_FAILURE_LIMIT = env_int("THRIFT_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=env_int("THRIFT_LOGIN_COOLOFF_MINUTES", 30, minimum=1)
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "axes_locked_out.html"
AXES_IPWARE_PROXY_COUNT = env_int("THRIFT_PROXY_COUNT", 0)

# Thrift MS's own knobs.
THRIFT_DEFAULT_CURRENCY = config("THRIFT_DEFAULT_CURRENCY", default="NGN").upper()
# Spreadsheet imports: the most data rows and bytes one file may have.
THRIFT_IMPORT_MAX_ROWS = env_int("THRIFT_IMPORT_MAX_ROWS", 200_000, minimum=1)
THRIFT_IMPORT_MAX_BYTES = env_int(
    "THRIFT_IMPORT_MAX_BYTES", 20 * 1024 * 1024, minimum=1
)

JAZZMIN_SETTINGS = {
    "site_title": "Thrift MS",
    "site_header": "Thrift MS",
    "site_brand": "Thrift MS",
    "site_logo": "img/thrift-logo.svg",
    "site_icon": "img/thrift-logo.svg",
    "site_logo_classes": "img-circle",
    "welcome_sign": "Thrift MS back-office: sign in with your staff account",
    "copyright": "Thrift MS",
    "search_model": ["accounts.User", "thrift.ThriftGroup"],
    "user_avatar": None,
    "topmenu_links": [
        {"name": "Dashboard", "url": "admin:index"},
        {"model": "thrift.Contribution"},
        {"model": "thrift.ThriftGroup"},
        {"name": "Audit log", "url": "audit_log"},
    ],
    "custom_links": {
        "thrift": [
            {
                "name": "Audit log",
                "url": "audit_log",
                "icon": "fas fa-clipboard-list",
                "permissions": ["thrift.view_contribution"],
            }
        ],
        # Jazzmin shows custom links only under an app that has admin
        # models, or under a label that is no installed app: the report
        # pages have no models, so their section is named here rather
        # than "reports".
        "Reports & statements": [
            {
                "name": "Arrears",
                "url": "reports:arrears",
                "icon": "fas fa-triangle-exclamation",
            },
            {
                "name": "Collections",
                "url": "reports:collections",
                "icon": "fas fa-chart-column",
            },
            {
                "name": "Ledger cards",
                "url": "reports:ledger_index",
                "icon": "fas fa-table",
            },
            {
                "name": "Member statements",
                "url": "reports:statement_search",
                "icon": "fas fa-file-invoice",
            },
        ],
    },
    "show_sidebar": True,
    "navigation_expanded": True,
    "hide_apps": [],
    "order_with_respect_to": [
        "thrift",
        "thrift.ThriftGroup",
        "thrift.Membership",
        "thrift.Cycle",
        "thrift.Round",
        "thrift.Contribution",
        "thrift.Payout",
        "thrift.PositionSwap",
        "accounts",
        "accounts.User",
        "accounts.Role",
        "reports",
        "Reports & statements",
    ],
    "icons": {
        "accounts": "fas fa-id-card",
        "accounts.User": "fas fa-user",
        "accounts.Role": "fas fa-user-shield",
        "thrift": "fas fa-piggy-bank",
        "thrift.ThriftGroup": "fas fa-people-group",
        "thrift.Membership": "fas fa-list-ol",
        "thrift.Cycle": "fas fa-rotate",
        "thrift.Round": "fas fa-calendar-day",
        "thrift.Contribution": "fas fa-hand-holding-dollar",
        "thrift.Payout": "fas fa-money-bill-transfer",
        "thrift.PositionSwap": "fas fa-right-left",
        "axes": "fas fa-lock",
        "axes.AccessAttempt": "fas fa-user-lock",
        "axes.AccessFailureLog": "fas fa-triangle-exclamation",
        "axes.AccessLog": "fas fa-list",
        "Reports & statements": "fas fa-chart-line",
    },
    "default_icon_parents": "fas fa-folder",
    "default_icon_children": "fas fa-circle",
    "related_modal_active": False,
    "use_google_fonts_cdn": False,
    "custom_css": "css/thrift.css",
    "show_ui_builder": False,
    "changeform_format": "horizontal_tabs",
    "changeform_format_overrides": {
        "accounts.user": "collapsible",
        "accounts.role": "single",
    },
}

JAZZMIN_UI_TWEAKS = {
    "navbar": "navbar-white navbar-light",
    "sidebar": "sidebar-dark-success",
    "accent": "accent-success",
    "brand_colour": "navbar-success",
    "theme": "default",
    "sidebar_nav_child_indent": True,
}
