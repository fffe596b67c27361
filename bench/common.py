"""Settings shared by the bench scripts: which database, which users.

Every script here runs against its own MySQL/MariaDB database (default
`thrift_bench`), never the development or test database.
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DB = os.environ.get("BENCH_DB_NAME", "thrift_bench")
BENCH_PASSWORD = "bench-Password-2026"
OWNER = "bench_owner"
AUDITOR = "bench_auditor"


def coordinator_name(n: int) -> str:
    return f"bench_coord{n:04d}"


def setup_django(**env) -> None:
    """Point Django at the bench database and load it."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "thrift_ms.settings"
    os.environ["DB_ENGINE"] = "mysql"
    os.environ["DB_NAME"] = BENCH_DB
    os.environ.setdefault("DB_USER", "root")
    os.environ.setdefault("SECRET_KEY", "bench-only-secret-key-" + "x" * 40)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
    os.environ.setdefault("SECURE_SSL_REDIRECT", "False")
    os.environ.setdefault("LOG_LEVEL", "warning")
    os.environ.setdefault("DEBUG", "False")
    for key, value in env.items():
        os.environ[key] = value
    import django

    django.setup()
