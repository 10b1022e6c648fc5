"""One page interface over two browser engines, so that one test body runs in both.

- Chromium (Debian's ``/usr/bin/chromium``) through Playwright's sync API;
- Firefox (Debian's ``/usr/bin/firefox-esr``) through puppeteer-core over WebDriver
  BiDi, in a Node.js process (``firefox_driver.mjs``) that this module talks to in
  JSON lines.

:class:`BrowserPage` offers what the tests need and no more: ``goto``,
``evaluate``, ``wait_for_function``, ``click``, ``text_content``, init and script
tags, a screenshot, and the page's uncaught errors, console messages and dialogs.
``evaluate`` follows Playwright: an expression that is a function is called with
``arg``; values come back as JSON.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import ConsoleMessage
    from playwright.sync_api import Dialog
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import Page

#: The engines every browser test runs in, as pytest parameter ids.
ENGINES = ("chromium", "firefox")

#: Milliseconds a page action or a ``wait_for_function`` may take; the loader's
#: tests use timeouts of a few hundred ms, so this only bounds failures.
PAGE_TIMEOUT_MS = 5_000

#: Seconds Firefox may take to start (a cold start takes about four).
FIREFOX_START_TIMEOUT = 60.0

#: Seconds added to an operation's own timeout while waiting for the driver.
DRIVER_SLACK = 10.0

FIREFOX_DRIVER = Path(__file__).parent / "firefox_driver.mjs"

# The text of the elements a selector matches, or null when there are none.
TEXT_CONTENT = "(selector) => document.querySelector(selector)?.textContent ?? null"

# A selector's element exists and can be clicked (Playwright waits for this too).
CLICKABLE = """(selector) => {
  const element = document.querySelector(selector);
  return Boolean(element && !element.disabled && element.isConnected);
}"""


class BrowserError(RuntimeError):
    """The browser, or the script evaluated in it, failed."""


class BrowserPage:
    """A page in a fresh browser context (no cookies, cache or storage shared)."""

    #: ``"chromium"`` or ``"firefox"``.
    engine: str

    def __init__(self) -> None:
        #: Uncaught exceptions, as ``"Name: message"``, in order.
        self.errors: list[str] = []
        #: Console messages, as ``"type: text"``.
        self.console: list[str] = []
        #: Messages of the dialogs (alert, confirm), all dismissed.
        self.dialogs: list[str] = []

    @property
    def url(self) -> str:
        """The page's current URL."""
        raise NotImplementedError

    def goto(self, url: str) -> int | None:
        """Load ``url``; return the HTTP status of the document."""
        raise NotImplementedError

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        """Evaluate ``expression`` (called with ``arg`` if it is a function) and
        return its value, awaited, as JSON.
        """
        raise NotImplementedError

    def wait_for_function(
        self, expression: str, arg: Any = None, timeout_ms: int = PAGE_TIMEOUT_MS
    ) -> None:
        """Wait until ``expression`` (like :meth:`evaluate`) is truthy."""
        raise NotImplementedError

    def add_init_script(self, script: str) -> None:
        """Run ``script`` in every document of the page before its own scripts."""
        raise NotImplementedError

    def add_script_tag(self, url: str) -> None:
        """Add ``<script src=url>`` to the page and wait until it has run."""
        raise NotImplementedError

    def click(self, selector: str) -> None:
        """Click the element ``selector`` matches, once it is there and enabled."""
        raise NotImplementedError

    def screenshot(self, path: Path) -> None:
        """Save a full-page PNG screenshot."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the page and its context."""
        raise NotImplementedError

    def wait_for_timeout(self, milliseconds: int) -> None:
        """Let the page run for ``milliseconds``."""
        time.sleep(milliseconds / 1000)

    def text_content(self, selector: str) -> str | None:
        """The ``textContent`` of the first element ``selector`` matches."""
        text: str | None = self.evaluate(TEXT_CONTENT, selector)
        return text


class ChromiumPage(BrowserPage):
    """A :class:`BrowserPage` on Playwright's Chromium."""

    engine = "chromium"

    def __init__(self, context: BrowserContext) -> None:
        super().__init__()
        self._context = context
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        self._page: Page = context.new_page()
        self._page.on("pageerror", self._on_error)
        self._page.on("console", self._on_console)
        self._page.on("dialog", self._on_dialog)

    def _on_error(self, error: PlaywrightError) -> None:
        self.errors.append(f"{error.name}: {error.message}")

    def _on_console(self, message: ConsoleMessage) -> None:
        self.console.append(f"{message.type}: {message.text}")

    def _on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    @property
    def url(self) -> str:
        return self._page.url

    def goto(self, url: str) -> int | None:
        response = self._page.goto(url)
        return None if response is None else response.status

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        return self._page.evaluate(expression, arg)

    def wait_for_function(
        self, expression: str, arg: Any = None, timeout_ms: int = PAGE_TIMEOUT_MS
    ) -> None:
        self._page.wait_for_function(expression, arg=arg, timeout=timeout_ms)

    def add_init_script(self, script: str) -> None:
        self._page.add_init_script(script)

    def add_script_tag(self, url: str) -> None:
        self._page.add_script_tag(url=url)

    def click(self, selector: str) -> None:
        self._page.click(selector)

    def screenshot(self, path: Path) -> None:
        self._page.screenshot(path=path, full_page=True)

    def close(self) -> None:
        self._context.close()


class FirefoxDriver:
    """The Node.js process of ``firefox_driver.mjs``, with one Firefox in it."""

    def __init__(self, node: str, node_modules: Path, firefox: str) -> None:
        self._process = subprocess.Popen(
            [node, str(FIREFOX_DRIVER), str(node_modules), firefox],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"},
        )
        self._replies: queue.Queue[str | None] = queue.Queue()
        self._stderr: list[str] = []
        self._next_id = 0
        self._readers = [
            threading.Thread(target=self._read_stdout, daemon=True),
            threading.Thread(target=self._read_stderr, daemon=True),
        ]
        for reader in self._readers:
            reader.start()
        #: What Firefox reports, e.g. ``"firefox/153.8.0"``.
        self.version: str = self.request("version", timeout=FIREFOX_START_TIMEOUT)[0]

    def _read_stdout(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._replies.put(line)
        self._replies.put(None)

    def _read_stderr(self) -> None:
        assert self._process.stderr is not None
        for line in self._process.stderr:
            self._stderr.append(line)

    def request(
        self, op: str, timeout: float = PAGE_TIMEOUT_MS / 1000, **fields: Any
    ) -> tuple[Any, dict[str, list[str]]]:
        """Send one operation; return its value and the page's events since the
        previous reply. Raises :class:`BrowserError` if it failed.
        """
        assert self._process.stdin is not None
        self._next_id += 1
        request_id = self._next_id
        message = {"id": request_id, "op": op, **fields}
        try:
            self._process.stdin.write(json.dumps(message) + "\n")
            self._process.stdin.flush()
        except OSError as error:
            raise BrowserError(f"the Firefox driver is gone: {self.log()}") from error
        deadline = time.monotonic() + timeout + DRIVER_SLACK
        while True:
            remaining = deadline - time.monotonic()
            try:
                line = self._replies.get(timeout=max(remaining, 0))
            except queue.Empty:
                raise BrowserError(f"no answer to {op} in time") from None
            if line is None:
                self._replies.put(None)
                raise BrowserError(f"the Firefox driver exited: {self.log()}")
            reply = json.loads(line)
            if reply["id"] == request_id:  # an earlier, timed-out reply otherwise
                break
        events: dict[str, list[str]] = reply.get("events") or {}
        if "error" in reply:
            raise BrowserError(f"{op}: {reply['error']}")
        return reply["value"], events

    def log(self) -> str:
        """What the driver wrote to stderr."""
        return "".join(self._stderr[-50:])

    def new_page(self) -> FirefoxPage:
        """A page in a fresh browser context."""
        page_id, _ = self.request("newPage")
        return FirefoxPage(self, page_id)

    def close(self) -> None:
        """Close Firefox and end the process."""
        if self._process.stdin is not None:
            self._process.stdin.close()
        try:
            self._process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait(timeout=10)
        for reader in self._readers:
            reader.join(timeout=5)
        for stream in (self._process.stdout, self._process.stderr):
            if stream is not None:
                stream.close()


class FirefoxPage(BrowserPage):
    """A :class:`BrowserPage` on Firefox, through :class:`FirefoxDriver`."""

    engine = "firefox"

    def __init__(self, driver: FirefoxDriver, page_id: int) -> None:
        super().__init__()
        self._driver = driver
        self._id = page_id

    def _request(
        self, op: str, timeout_ms: int = PAGE_TIMEOUT_MS, **fields: Any
    ) -> Any:
        value, events = self._driver.request(
            op, timeout=timeout_ms / 1000, page=self._id, **fields
        )
        self.errors += events.get("errors", [])
        self.console += events.get("console", [])
        self.dialogs += events.get("dialogs", [])
        return value

    @property
    def url(self) -> str:
        url: str = self._request("url")
        return url

    def goto(self, url: str) -> int | None:
        status: int | None = self._request("goto", url=url, timeoutMs=PAGE_TIMEOUT_MS)
        return status

    def evaluate(self, expression: str, arg: Any = None) -> Any:
        return self._request("evaluate", expression=expression, arg=arg)

    def wait_for_function(
        self, expression: str, arg: Any = None, timeout_ms: int = PAGE_TIMEOUT_MS
    ) -> None:
        self._request(
            "waitForFunction",
            timeout_ms,
            expression=expression,
            arg=arg,
            timeoutMs=timeout_ms,
        )

    def add_init_script(self, script: str) -> None:
        self._request("addInitScript", script=script)

    def add_script_tag(self, url: str) -> None:
        self._request("addScriptTag", url=url)

    def click(self, selector: str) -> None:
        self.wait_for_function(CLICKABLE, selector)
        self._request("click", selector=selector)

    def screenshot(self, path: Path) -> None:
        self._request("screenshot", path=str(path))

    def close(self) -> None:
        self._request("closePage")
