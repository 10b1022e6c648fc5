"""Same Origin Method Execution (SOME) in a real Chromium.

A page of the API's own origin builds its JSONP script URL from its own query
(``/page?cb=NAME&q=TEXT`` includes ``/api/echo?q=TEXT&callback=NAME``), and the
endpoint echoes ``q``: an attacker who sends a victim to such a page chooses both
the method the answer calls and its argument. Each test runs the attack twice:
against an endpoint with the plain grammar (the ``"identifier"`` policy), where
it must run, which proves the attack is real, and against the default
:func:`flask_jsonp.jsonp`, where the script request must get 400 and nothing may
run.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask import jsonify
from flask import render_template_string
from flask import request
from flask import Response
from flask import send_from_directory

from flask_jsonp import jsonp
from flask_jsonp._browser_globals import BROWSER_GLOBALS
from flask_jsonp.callback import callback_refusal
from tests.browser.engines import PAGE_TIMEOUT_MS
from tests.browser.live_server import LiveServer
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import INTEROP_PACKAGES
from tests.browser.vendor import NODE_MODULES
from tests.generate_browser_globals import blank_app
from tests.generate_browser_globals import firefox_globals
from tests.generate_browser_globals import FIREFOX_PATH
from tests.generate_browser_globals import ISOLATION_HEADERS
from tests.generate_browser_globals import PUPPETEER_PACKAGES
from tests.generate_browser_globals import WALK_SCRIPT
from tests.tools import missing_tool
from tests.tools import require_executable

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

#: Milliseconds to wait for an attack to land (a timer, a javascript: URL) in the
#: control runs; a local round trip takes a few.
LAND_TIMEOUT_MS = 3_000

#: The victim page: a button that does something with the user's rights, and the
#: JSONP request built from the page's own query.
PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>victim</title></head><body>
<button id="deleteAccount" onclick="window.pwned = 'click'">Delete my account</button>
<a id="popup" href="{{ popup }}" target="_blank" rel="opener">open</a>
{% if jquery %}
<script src="/vendor/jquery/dist/jquery.min.js"></script>
<script>
  // How Django's admin (jquery.init.js) and Backbone keep jQuery.
  window.django = { jQuery: jQuery.noConflict(true) };
  window.Backbone = { $: window.django.jQuery };
</script>
{% endif %}
{% if callback %}
<script src="{{ url_for(api, q=q, callback=callback) }}"
  onload="window.jsonpStatus = 'load'" onerror="window.jsonpStatus = 'error'"></script>
{% endif %}
<script>window.pageDone = true;</script>
</body></html>
"""


def create_some_app() -> Flask:
    """The API and its page on one origin, as in the SOME setting."""
    app = Flask(__name__)

    @app.get("/page")
    def page() -> str:
        return render_template_string(
            PAGE,
            api=request.args.get("api", "echo"),
            callback=request.args.get("cb"),
            q=request.args.get("q", ""),
            popup=request.args.get("popup", "/page"),
            jquery=request.args.get("cb", "") in JQUERY_ALIAS_ATTACKS,
        )

    @app.get("/vendor/<path:filename>")
    def vendor(filename: str) -> Response:
        return send_from_directory(NODE_MODULES, filename)

    @app.get("/blank")
    def blank() -> Response:
        isolated = request.args.get("isolated") == "1"
        headers = ISOLATION_HEADERS if isolated else []
        return Response("<!doctype html><title>blank</title>", headers=headers)

    # The package's default: what every endpoint gets without configuration.
    @app.get("/api/echo")
    @jsonp
    def echo() -> Any:
        return jsonify(request.args.get("q", ""))

    # The control: the same answer under the plain grammar.
    @app.get("/api/echo-plain", endpoint="echo-plain")
    @jsonp(callback_policy="identifier")
    def echo_plain() -> Any:
        return jsonify(request.args.get("q", ""))

    return app


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    """A Playwright page in Chromium: these tests watch responses and popups,
    which the two-engine :class:`~tests.browser.engines.BrowserPage` does not
    offer; the Firefox check below reads the globals through its own driver.
    """
    context = chromium.new_context()
    page = context.new_page()
    page.set_default_timeout(PAGE_TIMEOUT_MS)
    yield page
    context.close()


@pytest.fixture
def some_server(serve_app: Callable[[Flask], LiveServer]) -> LiveServer:
    install_npm_packages({"jquery": INTEROP_PACKAGES["jquery"]})
    return serve_app(create_some_app())


@pytest.fixture
def script_statuses(page: Page) -> list[tuple[str, int]]:
    """``(path, status)`` of each API answer in the page's context (popups too)."""
    statuses: list[tuple[str, int]] = []

    def record(response: Any) -> None:
        if "/api/" in response.url:
            path = response.url.split("://", 1)[1].split("/", 1)[1].split("?")[0]
            statuses.append(("/" + path, response.status))

    page.context.on("response", record)
    return statuses


def _attack(page: Page, server: LiveServer, api: str, callback: str, q: str) -> str:
    """Load the victim page with the attacker's callback and text; return how its
    JSONP script ended (``load`` or ``error``)."""
    query = {"api": api, "cb": callback, "q": q}
    url = server.page_url("/page")
    page.goto(url + "?" + "&".join(f"{k}={_quote(v)}" for k, v in query.items()))
    page.wait_for_function("window.jsonpStatus !== undefined")
    return str(page.evaluate("window.jsonpStatus"))


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


def _settle(page: Page) -> None:
    """Let timers and queued navigations of the page run."""
    page.evaluate("() => new Promise((done) => setTimeout(done, 100))")


#: Each attack: the callback and the text the endpoint echoes (the one argument
#: of the call). ``setTimeout(text)`` and ``eval(text)`` run it, ``document.write``
#: runs its script, a ``javascript:`` URL runs in the page it is assigned to (or
#: in a popup that reaches back through ``opener``), and ``click`` ignores its
#: argument and acts for the user.
ATTACKS = {
    "setTimeout": "window.pwned = 'setTimeout'",
    "setInterval": "window.pwned = 'setInterval'",
    "eval": "window.pwned = 'eval'",
    "window.eval": "window.pwned = 'window.eval'",
    "document.write": "<script>window.pwned = 'document.write'</script>",
    "location.assign": "javascript:void(window.pwned = 'location.assign')",
    "location.replace": "javascript:void(window.pwned = 'location.replace')",
    "window.open": "javascript:void(opener.pwned = 'window.open')",
    "deleteAccount.click": "ignored",
    "document.body.firstElementChild.click": "ignored",
}

#: jQuery under the names a page keeps it by: its ``$(html)`` builds elements,
#: whose ``onerror`` runs (the page loads jQuery for these).
JQUERY_ALIAS_ATTACKS = {
    name: f"<img src=x onerror=\"window.pwned = '{name}'\">"
    for name in ("django.jQuery", "Backbone.$")
}
ATTACKS.update(JQUERY_ALIAS_ATTACKS)

#: Refused as well, though they run nothing by themselves: ``Function(text)``
#: builds a function from the text without calling it.
INERT_SINKS = {"Function": "window.pwned = 'Function'"}


@pytest.mark.parametrize(("callback", "text"), ATTACKS.items(), ids=list(ATTACKS))
def test_attack_runs_under_the_plain_grammar(
    page: Page,
    some_server: LiveServer,
    script_statuses: list[tuple[str, int]],
    callback: str,
    text: str,
) -> None:
    status = _attack(page, some_server, "echo-plain", callback, text)
    assert status == "load"
    assert script_statuses == [("/api/echo-plain", 200)]
    page.wait_for_function("window.pwned !== undefined", timeout=LAND_TIMEOUT_MS)
    expected = "click" if callback.endswith(".click") else callback
    assert page.evaluate("window.pwned") == expected


@pytest.mark.parametrize(
    ("callback", "text"),
    [*ATTACKS.items(), *INERT_SINKS.items()],
    ids=[*ATTACKS, *INERT_SINKS],
)
def test_attack_is_refused_by_the_default_policy(
    page: Page,
    some_server: LiveServer,
    script_statuses: list[tuple[str, int]],
    callback: str,
    text: str,
) -> None:
    status = _attack(page, some_server, "echo", callback, text)
    assert status == "error"
    assert script_statuses == [("/api/echo", 400)]
    _settle(page)
    assert page.evaluate("typeof window.pwned") == "undefined"
    assert page.evaluate("window.pageDone") is True
    assert page.context.pages == [page]


def _some_through_the_opener(
    page: Page, server: LiveServer, api: str
) -> tuple[Page, str]:
    """Hayak's setup: the victim page opens a popup of the same origin, whose
    JSONP callback reaches back into the opener and clicks its button."""
    popup_url = f"/page?api={api}&cb=opener.deleteAccount.click&q=x"
    page.goto(server.page_url("/page") + "?popup=" + _quote(popup_url))
    with page.expect_popup() as popup_info:
        page.click("#popup")
    popup = popup_info.value
    popup.wait_for_function("window.jsonpStatus !== undefined")
    return popup, str(popup.evaluate("window.jsonpStatus"))


def test_popup_clicks_the_openers_button_under_the_plain_grammar(
    page: Page, some_server: LiveServer, script_statuses: list[tuple[str, int]]
) -> None:
    popup, status = _some_through_the_opener(page, some_server, "echo-plain")
    assert status == "load"
    page.wait_for_function("window.pwned === 'click'", timeout=LAND_TIMEOUT_MS)
    assert popup.evaluate("typeof window.pwned") == "undefined"


def test_popup_cannot_reach_its_opener_under_the_default_policy(
    page: Page, some_server: LiveServer, script_statuses: list[tuple[str, int]]
) -> None:
    _, status = _some_through_the_opener(page, some_server, "echo")
    assert status == "error"
    assert script_statuses == [("/api/echo", 400)]
    _settle(page)
    assert page.evaluate("typeof window.pwned") == "undefined"


def test_default_policy_still_answers_the_names_pages_define(
    page: Page, some_server: LiveServer, script_statuses: list[tuple[str, int]]
) -> None:
    page.goto(some_server.page_url("/blank"))
    page.evaluate("window.app = { handlers: { user: (d) => { window.got = d; } } }")
    page.evaluate(
        """(src) => new Promise((done) => {
            const script = document.createElement("script");
            script.src = src;
            script.onload = done;
            document.head.append(script);
        })""",
        some_server.page_url("/api/echo?q=hello&callback=app.handlers.user"),
    )
    assert page.evaluate("window.got") == "hello"
    assert script_statuses == [("/api/echo", 200)]


@pytest.mark.parametrize("isolated", [False, True], ids=["plain", "isolated"])
def test_committed_globals_cover_this_chromium(
    page: Page, some_server: LiveServer, isolated: bool
) -> None:
    # A newer Chromium with new globals fails here until the list is
    # regenerated: python -m tests.generate_browser_globals
    page.goto(some_server.page_url("/blank" + ("?isolated=1" if isolated else "")))
    walked = page.evaluate(WALK_SCRIPT)
    assert walked["secure"] is True
    assert walked["isolated"] is isolated
    missing = sorted(
        name
        for name in walked["names"]
        if name not in BROWSER_GLOBALS and callback_refusal(name, "identifier") is None
    )
    assert missing == []


# -- The referrer allowlist with an internationalised host -------------------------


def _load_script(page: Page, src: str) -> str:
    return str(
        page.evaluate(
            """(src) => new Promise((done) => {
                const script = document.createElement("script");
                script.src = src;
                script.onload = () => done("load");
                script.onerror = () => done("error");
                document.head.append(script);
            })""",
            src,
        )
    )


def test_unicode_referrer_entry_matches_what_chromium_sends(
    page: Page, serve_app: Callable[[Flask], LiveServer]
) -> None:
    # Chromium resolves *.localhost to loopback itself, so a page can live on an
    # internationalised host here; its Referer carries the xn-- form.
    app = create_some_app()
    server = serve_app(app)
    sent: list[str | None] = []

    @app.get("/api/private")
    @jsonp(allowed_referrers=[f"http://bücher.localhost:{server.port}"])
    def private() -> Any:
        sent.append(request.referrer)
        return {"balance": 42}

    api = server.api_url("/api/private?callback=got")
    page.goto(f"http://bücher.localhost:{server.port}/blank")
    page.evaluate("() => { window.got = (data) => (window.balance = data.balance); }")
    assert _load_script(page, api) == "load"
    assert page.evaluate("window.balance") == 42
    assert sent == [f"http://xn--bcher-kva.localhost:{server.port}/"]
    # A look-alike without the umlaut is another host, refused.
    page.goto(f"http://bucher.localhost:{server.port}/blank")
    assert _load_script(page, api) == "error"


def test_committed_globals_cover_this_firefox(monkeypatch: pytest.MonkeyPatch) -> None:
    # Firefox through puppeteer-core (WebDriver BiDi), as the generator reads it.
    if not os.access(FIREFOX_PATH, os.X_OK):
        missing_tool(
            f"Firefox not found at {FIREFOX_PATH} (apt-get install firefox-esr)"
        )
    require_executable("node")
    monkeypatch.setenv("PUPPETEER_SKIP_DOWNLOAD", "1")
    install_npm_packages(PUPPETEER_PACKAGES)
    with LiveServer(blank_app) as server:
        engine = firefox_globals([server.page_url("/"), server.page_url("/isolated")])
    assert len(engine.names) > 800
    assert sorted(engine.names - BROWSER_GLOBALS) == []
