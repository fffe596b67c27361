"""Load test: gunicorn with 2 workers, 20 staff sessions browsing lists.

    python bench/load.py                       # 20 sessions, 60 seconds
    python bench/load.py --sessions 5 --seconds 10

Starts gunicorn on 127.0.0.1 (port 8106, or --port) against the bench
database, logs each session in through the real login form, then lets each
one fetch changelists (unfiltered, filtered, searched, sorted, deep pages)
back to back until the time is up, and prints requests per second, the
50th, 95th and 99th percentile latency and the errors. Gunicorn is stopped
at the end, whatever happens. Only 127.0.0.1 is ever contacted.
"""

import argparse
import http.client
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    AUDITOR,
    BENCH_DB,
    BENCH_PASSWORD,
    OWNER,
    ROOT,
    coordinator_name,
)

HOST = "127.0.0.1"
MAX_REQUESTS_PER_SESSION = 100_000


def server_env() -> dict:
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="thrift_ms.settings",
        DB_ENGINE="mysql",
        DB_NAME=BENCH_DB,
        DEBUG="False",
        SECRET_KEY="bench-only-secret-key-" + "y" * 40,
        ALLOWED_HOSTS=HOST,
        SECURE_SSL_REDIRECT="False",
        LOG_LEVEL="warning",
    )
    env.setdefault("DB_USER", "root")
    return env


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    python = Path(sys.executable)
    env = server_env()
    subprocess.run(
        [str(python), "manage.py", "collectstatic", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    server = subprocess.Popen(
        [
            str(python.parent / "gunicorn"),
            "thrift_ms.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    for _ in range(100):
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=2)
            conn.request("GET", "/admin/login/")
            conn.getresponse().read()
            conn.close()
            return server
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer on 127.0.0.1:{port}")


class Session:
    """One logged-in staff member, with their own connection and cookies."""

    def __init__(self, port: int, username: str):
        self.port = port
        self.username = username
        self.cookies: dict[str, str] = {}
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)

    def _cookie_header(self) -> str:
        return "; ".join(f"{k}={v}" for k, v in self.cookies.items())

    def request(self, method: str, path: str, body: str | None = None):
        headers = {"Host": HOST, "Cookie": self._cookie_header()}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            self.conn.request(method, path, body=body, headers=headers)
            response = self.conn.getresponse()
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = http.client.HTTPConnection(HOST, self.port, timeout=30)
            raise
        data = response.read()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, data

    def login(self) -> None:
        status, page = self.request("GET", "/admin/login/")
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        body = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1).decode(),
                "username": self.username,
                "password": BENCH_PASSWORD,
                "next": "/admin/",
            }
        )
        status, _ = self.request("POST", "/admin/login/?next=/admin/", body)
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login failed for {self.username}: HTTP {status}")


def pages(rng: random.Random) -> str:
    """One changelist a staff member might open next."""
    group = rng.randrange(1, 10_000)
    member_phone = f"080{rng.randrange(0, 100_000):08d}"
    choices = (
        "/admin/thrift/contribution/",
        "/admin/thrift/contribution/?status__exact=pending",
        "/admin/thrift/contribution/?overdue=yes",
        f"/admin/thrift/contribution/?group__id__exact={group}",
        f"/admin/thrift/contribution/?q={member_phone}",
        # Deep pages, within a coordinator's 200 pages too.
        f"/admin/thrift/contribution/?p={rng.randrange(2, 200)}",
        f"/admin/thrift/contribution/?o={rng.choice([4, 5, 6, 7, 8, 9, 10])}",
        "/admin/thrift/payout/",
        f"/admin/thrift/payout/?group__id__exact={group}",
        "/admin/thrift/membership/",
        f"/admin/thrift/membership/?q={member_phone}",
        "/admin/thrift/round/?status__exact=open",
        "/admin/thrift/thriftgroup/",
        "/admin/thrift/cycle/",
        "/admin/accounts/user/",
        "/admin/",
    )
    return rng.choice(choices)


def browse(session, deadline, results, errors, seed):
    rng = random.Random(seed)
    for _ in range(MAX_REQUESTS_PER_SESSION):
        if time.monotonic() >= deadline:
            return
        path = pages(rng)
        started = time.perf_counter()
        try:
            status, _ = session.request("GET", path)
        except (OSError, http.client.HTTPException) as e:
            errors.append(f"{path}: {type(e).__name__}")
            continue
        results.append((time.perf_counter() - started) * 1000)
        if status != 200:
            errors.append(f"{path}: HTTP {status}")


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=8106)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()

    server = start_gunicorn(args.port, args.workers)
    try:
        names = [OWNER, AUDITOR] + [
            coordinator_name(n) for n in range(max(0, args.sessions - 2))
        ]
        sessions = [Session(args.port, name) for name in names[: args.sessions]]
        for session in sessions:
            session.login()
        print(
            f"gunicorn {args.workers} workers on {HOST}:{args.port}, "
            f"{len(sessions)} logged-in staff sessions, {args.seconds:.0f} s"
        )
        results: list[float] = []
        errors: list[str] = []
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=browse, args=(s, deadline, results, errors, n))
            for n, s in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(timeout=30)

    print(f"requests     {len(results):>8,}")
    print(f"requests/s   {len(results) / elapsed:>8.1f}")
    if results:
        print(f"p50          {statistics.median(results):>8.0f} ms")
        print(f"p95          {percentile(results, 0.95):>8.0f} ms")
        print(f"p99          {percentile(results, 0.99):>8.0f} ms")
    print(f"errors       {len(errors):>8,}")
    for line in sorted(set(errors))[:10]:
        print(f"  {line}")


if __name__ == "__main__":
    main()
