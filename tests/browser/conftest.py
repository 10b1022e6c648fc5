"""Fixtures for the browser tests, which run in two engines: Debian's Chromium
(Playwright, sync API) and Debian's Firefox ESR (puppeteer-core over WebDriver BiDi).

- ``engine``: ``"chromium"`` or ``"firefox"``; every test that uses ``page`` runs
  once for each.
- ``chromium``, ``firefox``: one browser of each for all the browser tests of a run.
- ``page``: a :class:`~tests.browser.engines.BrowserPage` in a fresh context, in
  the test's engine.
- ``page_errors``: the uncaught errors of ``page``, as they happen.
- ``serve_app``: serve a Flask (or any WSGI) app until the end of the test; it
  returns a :class:`~tests.browser.live_server.LiveServer`, whose ``page_url(path)``
  is on ``http://localhost:PORT`` and ``api_url(path)`` on ``http://127.0.0.1:PORT``.
- ``api_server``, ``api``, ``gates``, ``gate``: the loader tests' own API app
  (``api_app.py``).

Tests that use them are marked ``@pytest.mark.browser``. Without a browser,
Playwright, Node.js or puppeteer-core they skip, or fail when ``CI`` is set.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from tests.browser.api_app import create_api_app
from tests.browser.api_app import Gates
from tests.browser.engines import BrowserPage
from tests.browser.engines import ChromiumPage
from tests.browser.engines import ENGINES
from tests.browser.engines import FirefoxDriver
from tests.browser.live_server import LiveServer
from tests.browser.vendor import FIREFOX_DRIVER_PACKAGES
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import NODE_MODULES
from tests.tools import CHROMIUM_ARGS
from tests.tools import missing_tool
from tests.tools import require_chromium
from tests.tools import require_executable
from tests.tools import require_firefox

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication
    from playwright.sync_api import Browser


# Package scope, not session: one browser serves every test in tests/browser, and
# it is closed before the rest of the suite runs, because the sync API keeps an
# asyncio loop running in the main thread, where asyncio.run() and asgiref (async
# Flask views) then refuse to start one.
@pytest.fixture(scope="package")
def chromium() -> Iterator[Browser]:
    """One headless Chromium, launched with Playwright's sync API."""
    executable = require_chromium()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing_tool("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, args=CHROMIUM_ARGS, headless=True
        )
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def firefox() -> Iterator[FirefoxDriver]:
    """One headless Firefox ESR, driven by puppeteer-core in Node.js."""
    executable = require_firefox()
    node = require_executable("node")
    install_npm_packages(FIREFOX_DRIVER_PACKAGES)
    driver = FirefoxDriver(node, NODE_MODULES, executable)
    yield driver
    driver.close()


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """The browser engine of the test."""
    name: str = request.param
    return name


@pytest.fixture
def page(engine: str, request: pytest.FixtureRequest) -> Iterator[BrowserPage]:
    """A page in a fresh context: no cookies, cache or storage from other tests."""
    browser_page: BrowserPage
    if engine == "chromium":
        browser: Browser = request.getfixturevalue("chromium")
        browser_page = ChromiumPage(browser.new_context())
    else:
        driver: FirefoxDriver = request.getfixturevalue("firefox")
        browser_page = driver.new_page()
    yield browser_page
    browser_page.close()


@pytest.fixture
def page_errors(page: BrowserPage) -> list[str]:
    """The uncaught exceptions thrown in ``page``, as text, as they happen."""
    return page.errors


@pytest.fixture
def serve_app() -> Iterator[Callable[[WSGIApplication], LiveServer]]:
    """Return a function that serves an app until the end of the test::

    def test_page(serve_app, page):
        server = serve_app(create_app())
        page.goto(server.page_url("/"))
    """
    servers: list[LiveServer] = []

    def serve(app: WSGIApplication) -> LiveServer:
        server = LiveServer(app)
        servers.append(server)
        return server

    yield serve
    for server in servers:
        server.close()


@pytest.fixture(scope="package")
def gates() -> Gates:
    """The gates of :func:`api_server`'s held views."""
    return Gates()


@pytest.fixture(scope="package")
def api_server(gates: Gates) -> Iterator[LiveServer]:
    """The test API app (:mod:`tests.browser.api_app`), served for the package."""
    with LiveServer(create_api_app(gates, vendor_dir=NODE_MODULES)) as server:
        yield server


@pytest.fixture
def api(api_server: LiveServer) -> Callable[[str], str]:
    """Turn a path into a URL on :func:`api_server`'s API origin."""
    return api_server.api_url


@pytest.fixture
def gate(gates: Gates) -> Iterator[str]:
    """A fresh gate name; opened at the end of the test so no request stays held."""
    name = uuid.uuid4().hex
    yield name
    gates.open(name)
