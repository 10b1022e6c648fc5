"""The two-origin demo (``demo_site``) in Chromium and Firefox: every button, and
what arrived for it, under the page's Content-Security-Policy; and, in Chromium,
the page on a 390 px phone and in a dark colour scheme.

The page is served on ``http://localhost:PORT1`` and the API on
``http://127.0.0.1:PORT2``, as ``python -m demo_site`` does. Full-page
screenshots are saved to ``test-artifacts/demo-*.png``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any
from typing import TYPE_CHECKING

import pytest
from flask import Flask

from demo_site import create_api_app
from demo_site import create_page_app
from demo_site.api import retirement_dates
from tests.browser.engines import BrowserPage
from tests.browser.engines import ChromiumPage
from tests.browser.live_server import LiveServer

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIApplication
    from _typeshed.wsgi import WSGIEnvironment
    from playwright.sync_api import Browser

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

#: The loader's timeout in the timeout step, and the slow endpoint's delay: the
#: timeout is far above a local round trip, the delay far above the timeout and
#: long enough to press Abort, and both keep the test fast.
TIMEOUT_MS = 200
SLOW_DELAY = 1.0

#: Records the page's CSP violations before any of its scripts runs. Init scripts
#: (Playwright's, BiDi's preload scripts) are not subject to the page's policy.
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (event) => {
  window.__cspViolations.push(`${event.violatedDirective} blocked ${event.blockedURI}`);
});
"""


#: What a fetch the same-origin policy blocked rejects with, in each engine.
FETCH_ERRORS = {
    "chromium": "TypeError: Failed to fetch",
    "firefox": "TypeError: NetworkError when attempting to fetch resource.",
}


@dataclass
class Step:
    """A step of the page: the button that starts it, what its result area
    shows when done, and text that must appear there.
    """

    name: str
    button: str
    state: str
    expected: list[str]
    #: Text that must appear in what arrived: the raw answer of the API.
    arrived: list[str]
    #: The step whose result and arrived areas the button fills, if another.
    area: str | None = None

    @property
    def output(self) -> str:
        return self.area or self.name


STEPS = [
    Step(
        "fetch",
        "#run-fetch",
        "refused",
        ["Blocked by the same-origin policy: {fetch_error}"],
        [
            "GET {api}/api/user\nHTTP 200 OK\nContent-Type: application/json",
            '{{"born":1815,"name":"Ada Lovelace","username":"ada"}}',
        ],
    ),
    Step(
        "jsonp",
        "#run-jsonp",
        "data",
        ["Arrived by JSONP", '"name": "Ada Lovelace"'],
        [
            "GET {api}/api/user?callback=__jsonp_",
            "HTTP 200 OK\nContent-Type: text/javascript; charset=utf-8",
            '=== "function" && __jsonp_',
            '({{"born":1815,"name":"Ada Lovelace","username":"ada"}});',
        ],
    ),
    Step(
        "envelope",
        "#run-envelope",
        "refused",
        [
            'JsonpError, code "http", status 404',
            "message: HTTP 404: ",
            '"name": "Not Found"',
            "There is no user named 'nobody'.",
        ],
        [
            "GET {api}/api/users/nobody?callback=__jsonp_",
            "HTTP 200 OK\n",
            '({{"meta":{{"status":404}},"data":{{"description":',
        ],
    ),
    Step(
        "timeout",
        "#run-timeout",
        "refused",
        ['JsonpError, code "timeout"', f"message: no answer in {TIMEOUT_MS} ms"],
        [
            "GET {api}/api/slow?delay=1&callback=__jsonp_",
            "HTTP 200 OK\n",
            '({{"slept_seconds":1.0}});',
        ],
    ),
    Step(
        "abort",
        "#run-abort",
        "refused",
        ["Aborted after", "AbortError (DOMException)"],
        [
            "GET {api}/api/slow?delay=1&callback=__jsonp_",
            '({{"slept_seconds":1.0}});',
        ],
    ),
    Step(
        "hostile",
        "#run-hostile",
        "refused",
        [
            'The loader will not send it: JsonpError, code "setup"',
            "failed to load (error event): no code ran, no alert.",
        ],
        [
            "GET {api}/api/user?callback=alert(document.domain)%2F%2F",
            "HTTP 400 BAD REQUEST\nContent-Type: application/json",
            'X-Content-Type-Options: nosniff\n\n{{"error":"invalid_callback",',
        ],
    ),
    Step(
        "cors",
        "#run-cors",
        "data",
        [
            "Arrived by CORS: fetch read the JSON; no <script> was added.",
            '"born": 1815',
        ],
        [
            "GET {api}/api/profile\nHTTP 200 OK\nContent-Type: application/json",
            "Access-Control-Allow-Origin: {page}",
            "Access-Control-Expose-Headers: ",
            '{{"born":1815,"name":"Ada Lovelace","username":"ada"}}',
        ],
    ),
    Step(
        "cors-jsonp",
        "#run-cors-jsonp",
        "data",
        ["Arrived by JSONP: a <script> ran the answer.", '"born": 1815'],
        [
            "GET {api}/api/profile?callback=__jsonp_",
            "Deprecation: @{deprecation}",
            "Sunset: {sunset}",
            'Link: <{page}/#step-cors>; rel="deprecation"',
            '({{"meta":{{"status":200,"deprecation":"{deprecation_iso}",',
        ],
        area="cors",
    ),
]


@dataclass
class DemoPage:
    """The demo, open in a browser, with what the browser reported meanwhile."""

    page: BrowserPage
    page_origin: str
    api_origin: str
    #: What the API announces of the end of JSONP on /api/profile.
    deprecation: datetime
    sunset: datetime

    def csp_violations(self) -> list[str]:
        violations: list[str] = self.page.evaluate("window.__cspViolations")
        # Chromium logs "Content Security Policy", Firefox "Content-Security-Policy".
        return violations + [
            text
            for text in self.page.console
            if "Content Security Policy" in text or "Content-Security-Policy" in text
        ]

    def expected(self, step: Step) -> list[str]:
        """The texts ``step`` must show in this page's engine."""
        fetch_error = FETCH_ERRORS[self.page.engine]
        return [text.format(fetch_error=fetch_error) for text in step.expected]

    def arrived(self, step: Step) -> list[str]:
        """The texts that what arrived for ``step`` must show."""
        facts = {
            "api": self.api_origin,
            "page": self.page_origin,
            "deprecation": int(self.deprecation.timestamp()),
            "deprecation_iso": self.deprecation.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "sunset": format_datetime(self.sunset, usegmt=True),
        }
        return [text.format(**facts) for text in step.arrived]

    def run(self, step: Step) -> str:
        """Click the step's button(s); return the text of its result once done,
        having checked what arrived for it.
        """
        self.page.click(step.button)
        if step.name == "abort":
            # Both engines' click waits for the button to be enabled.
            self.page.click("#abort")
        result_id = f"result-{step.output}"
        self.page.wait_for_function(
            "(id) => !['idle', 'pending'].includes("
            "document.getElementById(id).dataset.state)",
            arg=result_id,
        )
        state, text = self.page.evaluate(
            "(id) => { const output = document.getElementById(id);"
            " return [output.dataset.state, output.innerText]; }",
            result_id,
        )
        assert state == step.state, f"step {step.name}: {state}: {text}"
        raw_id = f"raw-{step.output}"
        self.page.wait_for_function(
            "(id) => !['idle', 'waiting'].includes("
            "document.getElementById(id).dataset.state)",
            arg=raw_id,
        )
        raw_state, raw = self.page.evaluate(
            "(id) => { const raw = document.getElementById(id);"
            " return [raw.dataset.state, raw.innerText]; }",
            raw_id,
        )
        assert raw_state == "shown", f"step {step.name}: {raw_state}: {raw}"
        for expected in self.arrived(step):
            assert expected in raw, f"step {step.name}: {raw}"
        return str(text)

    def text(self, selector: str) -> str:
        """The text of ``selector``'s element, as the reader sees it."""
        text: str = self.page.evaluate(
            "(selector) => document.querySelector(selector).innerText", selector
        )
        return text

    def abort_disabled(self) -> bool:
        return bool(self.page.evaluate("document.getElementById('abort').disabled"))


class LaterApp:
    """A WSGI app whose server can listen before the app is made."""

    app: Flask

    def __call__(
        self, environ: WSGIEnvironment, start_response: StartResponse
    ) -> Iterable[bytes]:
        return self.app(environ, start_response)


def open_demo(
    page: BrowserPage, serve_app: Callable[[WSGIApplication], LiveServer]
) -> DemoPage:
    """Serve the demo's two apps and open the page in ``page``."""
    # Each app needs the other's origin: the API's server listens first.
    api_app = LaterApp()
    api = serve_app(api_app)
    site = serve_app(
        create_page_app(api.api_origin, timeout_ms=TIMEOUT_MS, slow_delay=SLOW_DELAY)
    )
    now = datetime.now(timezone.utc)
    api_app.app = create_api_app(site.page_origin, now=now)
    page.add_init_script(RECORD_CSP_VIOLATIONS)
    assert page.goto(site.page_url("/")) == 200
    return DemoPage(page, site.page_origin, api.api_origin, *retirement_dates(now))


@pytest.fixture
def demo(
    page: BrowserPage,
    page_errors: list[str],
    serve_app: Callable[[WSGIApplication], LiveServer],
) -> DemoPage:
    """The demo page, loaded from its own server, reading the API on another."""
    return open_demo(page, serve_app)


@pytest.fixture
def open_chromium_demo(
    chromium: Browser, serve_app: Callable[[WSGIApplication], LiveServer]
) -> Iterator[Callable[..., DemoPage]]:
    """Return a function that opens the demo in a Chromium context made with
    the given options (``viewport``, ``color_scheme``...).
    """
    pages: list[ChromiumPage] = []

    def open_with(**context_options: Any) -> DemoPage:
        page = ChromiumPage(chromium.new_context(**context_options))
        pages.append(page)
        return open_demo(page, serve_app)

    yield open_with
    for page in pages:
        page.close()


def test_demo_page_names_both_origins_and_loads_the_loader_under_its_csp(
    demo: DemoPage, page_errors: list[str]
) -> None:
    origins = demo.page.evaluate(
        "Array.from(document.querySelectorAll('code.origin'), (code) => code.innerText)"
    )
    assert origins == [demo.page_origin, demo.api_origin]
    assert demo.page_origin.startswith("http://localhost:")
    assert demo.api_origin.startswith("http://127.0.0.1:")
    loader: dict[str, Any] = demo.page.evaluate(
        "() => ({type: typeof jsonp, error: typeof jsonp.JsonpError})"
    )
    assert loader == {"type": "function", "error": "function"}
    assert demo.csp_violations() == []
    assert page_errors == []


def test_demo_every_button_shows_what_it_promises(
    demo: DemoPage, page_errors: list[str]
) -> None:
    results = {step.name: demo.run(step) for step in STEPS}
    ARTIFACTS.mkdir(exist_ok=True)
    demo.page.screenshot(ARTIFACTS / f"demo-{demo.page.engine}.png")
    for step in STEPS:
        for expected in demo.expected(step):
            assert expected in results[step.name], f"step {step.name}"
    assert demo.page.dialogs == []
    assert demo.csp_violations() == []
    assert page_errors == []


def test_demo_steps_can_run_again(demo: DemoPage) -> None:
    for step in STEPS * 2:
        text = demo.run(step)
        assert all(expected in text for expected in demo.expected(step)), text
    assert demo.csp_violations() == []


def test_demo_abort_button_is_off_until_a_request_starts(demo: DemoPage) -> None:
    assert demo.abort_disabled()
    demo.run(next(step for step in STEPS if step.name == "abort"))
    assert demo.abort_disabled()


def test_demo_policy_blocks_a_script_without_the_nonce(demo: DemoPage) -> None:
    # Shows that the policy is enforced and that the checks above would see a
    # violation.
    outcome = demo.page.evaluate(
        """(src) => new Promise((resolve) => {
          const script = document.createElement('script');
          script.onload = script.onerror = (event) => resolve(event.type);
          script.src = src;
          document.head.append(script);
        })""",
        demo.api_origin + "/api/user?callback=console.log",
    )
    assert outcome == "error"
    assert demo.page.evaluate("window.__cspViolations") == [
        f"script-src-elem blocked {demo.api_origin}/api/user?callback=console.log"
    ]
    assert demo.csp_violations()


def step(name: str) -> Step:
    return next(step for step in STEPS if step.name == name)


#: Whether the usage panel's rows, as the reader sees them, are ``expected``.
USAGE_ROWS_ARE = """(expected) => JSON.stringify(Array.from(
  document.querySelectorAll('#usage-rows tr'),
  (row) => Array.from(row.cells, (cell) => cell.innerText),
)) === JSON.stringify(expected)"""


def test_demo_moving_to_cors_uses_no_script_and_is_counted(
    demo: DemoPage, page_errors: list[str]
) -> None:
    demo.run(step("cors"))
    # The browser requested no script of /api/profile: the answer came by fetch.
    requested = demo.page.evaluate(
        "performance.getEntriesByType('resource').map((entry) => entry.name)"
    )
    assert f"{demo.api_origin}/api/profile" in requested
    assert not [url for url in requested if "/api/profile?callback=" in url]
    assert demo.text("#deprecation-notice").startswith("Nothing yet")
    demo.run(step("cors-jsonp"))
    demo.run(step("jsonp"))
    # Two JSONP answers (steps 7 and 2), one CORS answer, all to this page.
    expected = [[demo.page_origin, "2", "1"], ["other", "0", "0"]]
    demo.page.wait_for_function(USAGE_ROWS_ARE, arg=expected)
    assert demo.csp_violations() == []
    assert page_errors == []


def test_demo_shows_the_end_of_jsonp_it_was_told(demo: DemoPage) -> None:
    demo.run(step("cors-jsonp"))
    notice = demo.text("#deprecation-notice")
    assert notice == "\n".join(
        [
            f"{demo.api_origin}/api/profile",
            f"deprecated since: {format_datetime(demo.deprecation, usegmt=True)}",
            f"sunset: {format_datetime(demo.sunset, usegmt=True)}",
            f"more: {demo.page_origin}/#step-cors",
        ]
    )


#: A phone's width in CSS pixels (iPhone 12 to 16), and a height.
PHONE = {"width": 390, "height": 844}

#: The elements whose width is at most their box's: nothing scrolls sideways,
#: the page or any block in it.
SIDEWAYS_SCROLLERS = """() => [
  document.scrollingElement, ...document.querySelectorAll('*'),
].filter((element) => element.scrollWidth > element.clientWidth + 1
    && getComputedStyle(element).overflowX !== 'visible'
    || element === document.scrollingElement && element.scrollWidth > innerWidth)
  .map((element) => `${element.tagName}#${element.id}: ${element.scrollWidth}`)"""


def test_demo_in_chromium_fits_a_phone_with_every_answer_shown(
    open_chromium_demo: Callable[..., DemoPage],
) -> None:
    demo = open_chromium_demo(viewport=PHONE, color_scheme="dark")
    for step in STEPS:
        demo.run(step)
    demo.page.evaluate("document.querySelector('footer details').open = true")
    ARTIFACTS.mkdir(exist_ok=True)
    demo.page.screenshot(ARTIFACTS / "demo-phone-dark.png")
    assert demo.page.evaluate("document.scrollingElement.scrollWidth") <= PHONE["width"]
    assert demo.page.evaluate(SIDEWAYS_SCROLLERS) == []
    assert demo.page.errors == []


#: The page's background colour, as the browser computes it.
BACKGROUND = "getComputedStyle(document.body).backgroundColor"


def luminance(css_rgb: str) -> float:
    """The relative luminance, 0 to 1, of ``rgb(r, g, b)``."""
    red, green, blue = (int(part) / 255 for part in re.findall(r"\d+", css_rgb)[:3])
    return 0.2126 * red + 0.7152 * green + 0.0722 * blue


def test_demo_in_chromium_follows_a_dark_colour_scheme(
    open_chromium_demo: Callable[..., DemoPage],
) -> None:
    light = open_chromium_demo(color_scheme="light").page.evaluate(BACKGROUND)
    dark = open_chromium_demo(color_scheme="dark").page.evaluate(BACKGROUND)
    assert luminance(light) > 0.9
    assert luminance(dark) < 0.1
