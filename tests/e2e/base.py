"""BrowserTestCase: Debian's Chromium, driven by Playwright, against a live test server.

Subclass it for end-to-end tests:

    class VisitorTests(BrowserTestCase):
        def test_something(self):
            self.page.goto(self.live_server_url + "/")
            self.screenshot("something")

The browser starts once per class; every test gets a fresh context (no cookies carried
over) and page, and records the URLs the page requested (`requested_urls`) and the
console errors it logged (`console_errors`, where CSP violations show up).

Playwright's own browser downloads are never used: Chromium comes from Debian
(`apt-get install chromium`). Without it the tests are skipped, unless REQUIRE_BROWSER=1
(CI) makes that a failure.
"""

import os
import unittest
from pathlib import Path

import pytest
from django.contrib.staticfiles.testing import StaticLiveServerTestCase
from django.db import connections
from playwright.sync_api import sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
# Headless on a machine with no network beyond localhost: without the background
# networking flags Chromium keeps trying (and failing) to reach Google's services.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SCREENSHOT_DIR = Path(__file__).resolve().parents[2] / "var" / "screenshots"
MISSING_CHROMIUM = "Chromium not installed: apt-get install chromium"


def browser_required():
    return os.environ.get("REQUIRE_BROWSER", "").strip().lower() in {"1", "true", "yes", "on"}


def _restore_environ(name, value):
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


@pytest.mark.browser
class BrowserTestCase(StaticLiveServerTestCase):
    # A live-server test empties the tables after each test, which would also remove
    # rows that migrations seed (the MLSys topics); restore them before every test.
    serialized_rollback = True
    timeout_ms = 10_000
    viewport = {"width": 1280, "height": 900}

    @classmethod
    def setUpClass(cls):
        if not CHROMIUM.exists():
            if browser_required():
                pytest.fail(f"REQUIRE_BROWSER is set but {MISSING_CHROMIUM}", pytrace=False)
            raise unittest.SkipTest(MISSING_CHROMIUM)
        # Playwright's sync API keeps an asyncio event loop running in this thread, so
        # Django's ORM would refuse to run in test code (SynchronousOnlyOperation). The
        # test code is synchronous; djangoproject.com's browser tests do the same.
        cls.addClassCleanup(
            _restore_environ,
            "DJANGO_ALLOW_ASYNC_UNSAFE",
            os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE"),
        )
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        # With a running event loop Django hands this thread a second set of database
        # connections (its connection registry is "thread critical"). Start Playwright
        # before Django's class set-up, so that the live server and the test code share
        # the same connection, and carry over the contents serialized at test-database
        # creation, which serialized_rollback restores from.
        serialized = {
            alias: connections[alias]._test_serialized_contents
            for alias in connections
            if hasattr(connections[alias], "_test_serialized_contents")
        }
        cls.playwright = sync_playwright().start()
        cls.addClassCleanup(cls.playwright.stop)
        cls.addClassCleanup(connections.close_all)
        for alias, contents in serialized.items():
            connections[alias]._test_serialized_contents = contents
        super().setUpClass()
        cls.browser = cls.playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        cls.addClassCleanup(cls.browser.close)

    def setUp(self):
        super().setUp()
        self.context = self.browser.new_context(
            base_url=self.live_server_url, viewport=self.viewport
        )
        self.addCleanup(self.context.close)
        self.context.set_default_timeout(self.timeout_ms)
        self.requested_urls = []
        self.console_errors = []
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requested_urls.append(request.url))
        self.page.on("console", self._record_console_error)
        self.page.on("pageerror", lambda error: self.console_errors.append(str(error)))

    def _record_console_error(self, message):
        if message.type == "error":
            self.console_errors.append(message.text)

    def screenshot(self, name):
        """Save a full-page PNG as var/screenshots/<name>.png and return its path."""
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def login(self, email, password):
        """Log in through the login form; fails the test if the form is shown again."""
        self.page.goto(self.live_server_url + "/accounts/login/")
        form = self.page.locator("form").filter(has=self.page.locator('input[name="password"]'))
        form.locator('input[name="username"]').fill(email)
        form.locator('input[name="password"]').fill(password)
        with self.page.expect_navigation():
            form.locator('input[name="password"]').press("Enter")
        if self.page.url.split("?")[0].endswith("/accounts/login/"):
            self.fail(f"login as {email} failed: the login form was shown again")

    def assert_same_origin_only(self):
        """Every request the page made went to the live server (data: URIs are inline
        content, not another origin)."""
        origin = self.live_server_url + "/"
        foreign = [
            url
            for url in self.requested_urls
            if not url.startswith(origin) and not url.startswith(("data:", "blob:"))
        ]
        self.assertEqual(foreign, [], f"requests to another origin than {origin}")
