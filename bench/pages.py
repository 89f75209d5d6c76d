#!/usr/bin/env python
"""Requests per second of the logged-in schedule page against a minimal view.

One run, on this machine: a fresh PostgreSQL database with the demo data, gunicorn
with 2 workers (DEBUG off, production static files), wrk as the load generator.
The baseline is /healthz/, a view that goes through the same middleware and does
nothing else; the page measured is the schedule of the largest demo course (CS294
Fall 2019: 33 lectures, 115 readings) for a logged-in student of that course, with
their reading statuses laid over it.

Goal (issue 4): the schedule at 30% or more of the minimal view.

    .venv/bin/python bench/pages.py [--duration 10] [--connections 16]

Needs PostgreSQL on 127.0.0.1:5432 (trust auth, user postgres) and wrk
(apt-get install wrk). Exits 1 when the goal is missed.
"""

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
DB_NAME = "mlsys_reader_bench"
PG = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
GOAL = 0.30
COURSE = "cs294-fall-2019"

SETUP_STUDENT = f"""
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from importlib import import_module
from django.conf import settings
SessionStore = import_module(settings.SESSION_ENGINE).SessionStore
from accounts.models import User
from courses.models import Course, Membership, ReadingProgress, Reading
user, _ = User.objects.get_or_create(email="bench@example.org", defaults={{"first_name": "Bench"}})
course = Course.objects.get(slug="{COURSE}")
Membership.objects.get_or_create(user=user, course=course)
papers = list(Reading.objects.filter(lecture__course=course).values_list("paper_id", flat=True)[:40])
for index, paper_id in enumerate(papers):
    ReadingProgress.objects.get_or_create(
        user=user, paper_id=paper_id, defaults={{"status": ["read", "reading"][index % 2]}}
    )
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "accounts.backends.AccountBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.save()
print(session.session_key)
"""


def run(*args, env, capture=False):
    result = subprocess.run(
        [str(a) for a in args], cwd=ROOT, env=env, check=True, text=True,
        stdout=subprocess.PIPE if capture else subprocess.DEVNULL,
    )  # fmt: skip
    return result.stdout


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database():
    import psycopg

    with psycopg.connect(f"{PG}/postgres", autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME}")
        conn.execute(f"CREATE DATABASE {DB_NAME}")


def wrk(url, *, duration, connections, cookie=None):
    args = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", url]
    if cookie:
        args[1:1] = ["-H", f"Cookie: {cookie}"]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    if re.search(r"Non-2xx or 3xx responses: (\d+)", out):
        raise SystemExit(f"wrk saw error responses for {url}:\n{out}")
    return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per URL")
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed: apt-get install wrk")

    env = {
        **os.environ,
        "DATABASE_URL": f"{PG}/{DB_NAME}",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "DEBUG": "false",
        "HTTPS": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "TASKS_BACKEND": "immediate",
        "LOG_LEVEL": "WARNING",
    }
    print("setting up: fresh PostgreSQL database, migrate, collectstatic, demo data ...")
    recreate_database()
    run(PYTHON, "manage.py", "migrate", "-v0", env=env)
    run(PYTHON, "manage.py", "collectstatic", "--noinput", "-v0", env=env)
    run(PYTHON, "manage.py", "load_demo", env=env)
    session_key = run(
        PYTHON, "manage.py", "shell", "-v0", "-c", SETUP_STUDENT, env=env, capture=True
    )
    cookie = f"sessionid={session_key.strip().splitlines()[-1]}"

    port = free_port()
    server = subprocess.Popen(
        [GUNICORN, "mlsys_reader.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(f"{base}/healthz/", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        request = urllib.request.Request(f"{base}/courses/{COURSE}/", headers={"Cookie": cookie})
        with urllib.request.urlopen(request) as response:
            page = response.read().decode()
            # A browser sends back the CSRF cookie it was given; so does the benchmark.
            csrf = re.search(r"csrftoken=([^;]+)", response.headers.get("Set-Cookie", ""))
        if csrf:
            cookie += f"; csrftoken={csrf.group(1)}"
        controls = page.count('class="status-control"')
        if controls < 100:
            raise SystemExit(f"the schedule page shows {controls} status controls; login failed?")
        print(f"schedule page: {len(page):,} bytes, {controls} readings with the student's status")

        urls = {
            "minimal view (/healthz/)": (f"{base}/healthz/", None),
            "schedule, logged-in student": (f"{base}/courses/{COURSE}/", cookie),
            "schedule, anonymous visitor": (f"{base}/courses/{COURSE}/", None),
        }
        for url, cookie_ in urls.values():  # warm every worker's cache and connection
            wrk(url, duration=2, connections=options.connections, cookie=cookie_)
        results = {name: [] for name in urls}
        for _ in range(options.rounds):
            for name, (url, cookie_) in urls.items():
                results[name].append(
                    wrk(
                        url,
                        duration=options.duration,
                        connections=options.connections,
                        cookie=cookie_,
                    )
                )
    finally:
        server.terminate()
        server.wait(timeout=30)

    baseline = statistics.median(results["minimal view (/healthz/)"])
    print(f"\n{'page':32} {'req/s (median)':>15} {'ratio':>8}")
    for name, values in results.items():
        rps = statistics.median(values)
        print(f"{name:32} {rps:15,.0f} {rps / baseline:8.1%}")
    ratio = statistics.median(results["schedule, logged-in student"]) / baseline
    verdict = "meets" if ratio >= GOAL else "MISSES"
    print(f"\nlogged-in schedule / minimal view = {ratio:.1%}: {verdict} the {GOAL:.0%} goal")
    return 0 if ratio >= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
