"""Which pages make Chromium send a login's session cookie to a JSONP endpoint
(docs/cookies.md).

A user signs in on the API's site, then opens a page that loads
``/api/me?callback=onMe`` with a script tag; the endpoint is behind Flask-Login's
``@login_required``. Whether the page gets the user's data depends only on
whether the browser sends the cookie with the script request:

- from a page of the same *site* (scheme and registrable domain:
  ``www.example.com`` for ``api.example.com``; ports do not count), it does;
- from another site, Flask's default cookie (no ``SameSite``, read as ``Lax``)
  is never sent;
- a ``SameSite=None`` cookie must be ``Secure``, which needs HTTPS (Chromium
  counts ``http://127.0.0.1`` and ``http://localhost`` as secure); from another
  site it is sent only where the browser's settings allow third-party cookies,
  which Debian's Chromium does not by default, in Playwright's contexts as in a
  fresh profile.

Why a cookie stayed home is read from Chromium itself, through the DevTools
protocol (``Network.requestWillBeSentExtraInfo``). Host names resolve to the
loopback interface (``--host-resolver-rules``); nothing leaves the machine.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest
from flask import Flask
from flask import render_template_string
from flask import request
from flask import Response
from flask_login import login_required
from flask_login import login_user
from flask_login import LoginManager
from flask_login import UserMixin
from werkzeug.serving import make_server

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.browser.engines import PAGE_TIMEOUT_MS
from tests.browser.live_server import POLL_INTERVAL
from tests.browser.live_server import QuietRequestHandler
from tests.browser.live_server import SHUTDOWN_TIMEOUT
from tests.tools import CHROMIUM_ARGS
from tests.tools import missing_tool
from tests.tools import require_chromium

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from playwright.sync_api import BrowserContext
    from playwright.sync_api import CDPSession
    from playwright.sync_api import Cookie

pytestmark = pytest.mark.browser

#: Every host name resolves to the loopback interface, where the test servers
#: listen: example.com and example.org are reserved names (RFC 2606).
RESOLVE_TO_LOOPBACK = "--host-resolver-rules=MAP * 127.0.0.1"

#: The API's site, a page of that site, and a page of another site.
API_HOST = "api.example.com"
SAME_SITE_HOST = "www.example.com"
OTHER_SITE_HOST = "partner.example.org"
#: The report this module answers: pages on localhost, the API on 127.0.0.1.
LOOPBACK_NAME = "localhost"
LOOPBACK_IP = "127.0.0.1"
PAGE_HOSTS = [SAME_SITE_HOST, OTHER_SITE_HOST, LOOPBACK_NAME]

#: Flask's session cookie as it comes, and the two ways to make it cross-site.
DEFAULT_COOKIE: dict[str, Any] = {}
SAMESITE_NONE = {"SESSION_COOKIE_SAMESITE": "None"}
SAMESITE_NONE_SECURE = {
    "SESSION_COOKIE_SAMESITE": "None",
    "SESSION_COOKIE_SECURE": True,
}

#: A profile preference of Chromium, 0: allow third-party cookies.
ALLOW_THIRD_PARTY_COOKIES = {"profile": {"cookie_controls_mode": 0}}

#: Seconds to wait for DevTools to report a request's cookies.
REPORT_TIMEOUT = 5.0

#: What the signed-in user's page gets.
ALICE = {"name": "Alice"}

# The partner page: one script tag to the API, and what came of it.
PARTNER_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>partner</title>
<script>function onMe(data) { window.answer = { data }; }</script>
<script src="{{ api }}/api/me?callback=onMe"
        onerror="window.answer = { failed: true }"></script>
</head><body></body></html>
"""


@dataclass
class ApiRequest:
    """What the API saw of one ``/api/me`` request."""

    cookie_sent: bool
    fetch_site: str | None
    status: int = 0


# Flask-Login ships no types: its base class and decorators are Any to mypy.
class User(UserMixin):  # type: ignore[misc]
    def __init__(self, user_id: str) -> None:
        self.id = user_id


def create_api_app(
    pages: list[str], cookie: dict[str, Any]
) -> tuple[Flask, list[ApiRequest]]:
    """The API: sign in at ``/login``, read ``/api/me`` by JSONP from ``pages``."""
    app = Flask(__name__)
    app.secret_key = "cookies-across-sites"
    app.config.update(cookie)
    JSONP(app)
    login_manager = LoginManager(app)
    seen: list[ApiRequest] = []

    def load_user(user_id: str) -> User | None:
        return User(user_id) if user_id == "alice" else None

    login_manager.user_loader(load_user)

    @app.get("/login")
    def login() -> str:
        login_user(User("alice"))
        return "signed in"

    @app.before_request
    def record() -> None:
        if request.path == "/api/me":
            seen.append(
                ApiRequest(
                    cookie_sent=app.config["SESSION_COOKIE_NAME"] in request.cookies,
                    fetch_site=request.headers.get("Sec-Fetch-Site"),
                )
            )

    @app.after_request
    def record_status(response: Response) -> Response:
        if request.path == "/api/me":
            seen[-1].status = response.status_code
        return response

    def me() -> dict[str, str]:
        return ALICE

    app.get("/api/me")(login_required(jsonp(allowed_referrers=pages)(me)))

    return app, seen


def create_page_app() -> Flask:
    app = Flask(__name__)

    @app.get("/partner")
    def partner() -> str:
        return render_template_string(PARTNER_PAGE, api=request.args["api"])

    return app


class Server:
    """A WSGI app served on the loopback interface, over HTTP or HTTPS."""

    def __init__(self, app: Flask, scheme: str, certificate: tuple[str, str]) -> None:
        self.scheme = scheme
        self._server = make_server(
            "127.0.0.1",
            0,
            app,
            threaded=True,
            request_handler=QuietRequestHandler,
            ssl_context=certificate if scheme == "https" else None,
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(POLL_INTERVAL,), daemon=True
        )
        self._thread.start()

    def origin(self, host: str) -> str:
        return f"{self.scheme}://{host}:{self._server.server_port}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(SHUTDOWN_TIMEOUT)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A self-signed certificate for every host name of the tests, as the paths
    of its PEM files (the browser contexts ignore that nobody signed it).
    """
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        missing_tool("cryptography is not installed (it makes the HTTPS certificate)")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, API_HOST)])
    now = datetime.datetime.now(datetime.timezone.utc)
    names: list[x509.GeneralName] = [
        x509.DNSName(host) for host in [API_HOST, *PAGE_HOSTS]
    ]
    names.append(x509.IPAddress(ipaddress.ip_address(LOOPBACK_IP)))
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


@pytest.fixture(scope="module")
def default_chromium(chromium: Browser) -> Iterator[Browser]:
    """Chromium as it comes, with the test host names on loopback; each visit
    gets a fresh context, as the other browser tests do.
    """
    browser = chromium.browser_type.launch(
        executable_path=require_chromium(),
        args=[*CHROMIUM_ARGS, RESOLVE_TO_LOOPBACK],
        headless=True,
    )
    yield browser
    browser.close()


@pytest.fixture(scope="module")
def permissive_chromium(
    chromium: Browser, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """Chromium with a profile whose settings allow third-party cookies."""
    profile = tmp_path_factory.mktemp("profile")
    (profile / "Default").mkdir()
    (profile / "Default" / "Preferences").write_text(
        json.dumps(ALLOW_THIRD_PARTY_COOKIES), encoding="utf-8"
    )
    context = chromium.browser_type.launch_persistent_context(
        profile,
        executable_path=require_chromium(),
        args=[*CHROMIUM_ARGS, RESOLVE_TO_LOOPBACK],
        headless=True,
        ignore_https_errors=True,
    )
    yield context
    context.close()


@dataclass
class Visit:
    """What came of signing in on the API's site, then opening the partner page."""

    #: The partner page's outcome: ``{"data": ...}`` or ``{"failed": True}``.
    answer: dict[str, Any]
    #: The cookies the browser kept for the API's origin after signing in.
    stored: list[Cookie]
    #: What the API saw of the page's script request.
    request: ApiRequest
    #: Why Chromium left cookies out of the script request.
    blocked: set[str] = field(default_factory=set)


@dataclass
class Sites:
    """The servers of one test: the API and the pages, in one scheme."""

    scheme: str
    certificate: tuple[str, str]
    servers: list[Server] = field(default_factory=list)

    def start(self, cookie: dict[str, Any]) -> tuple[Server, Server, list[ApiRequest]]:
        pages = Server(create_page_app(), self.scheme, self.certificate)
        self.servers.append(pages)
        app, seen = create_api_app([pages.origin(host) for host in PAGE_HOSTS], cookie)
        api = Server(app, self.scheme, self.certificate)
        self.servers.append(api)
        return pages, api, seen


@pytest.fixture
def sites(certificate: tuple[str, str]) -> Iterator[Sites]:
    running = Sites("", certificate)
    yield running
    for server in running.servers:
        server.close()


def cookie_reports(cdp: CDPSession) -> tuple[dict[str, str], dict[str, list[Any]]]:
    """Record each request's URL and the cookies Chromium weighed for it."""
    urls: dict[str, str] = {}
    reports: dict[str, list[Any]] = {}

    def on_request(event: dict[str, Any]) -> None:
        urls[event["requestId"]] = event["request"]["url"]

    def on_extra_info(event: dict[str, Any]) -> None:
        reports.setdefault(event["requestId"], []).extend(event["associatedCookies"])

    cdp.on("Network.requestWillBeSent", on_request)
    cdp.on("Network.requestWillBeSentExtraInfo", on_extra_info)
    cdp.send("Network.enable")
    return urls, reports


def visit(
    context: BrowserContext,
    sites: Sites,
    *,
    scheme: str,
    page_host: str,
    api_host: str,
    cookie: dict[str, Any],
) -> Visit:
    sites.scheme = scheme
    pages, api, seen = sites.start(cookie)
    api_origin = api.origin(api_host)
    page = context.new_page()
    try:
        urls, reports = cookie_reports(context.new_cdp_session(page))
        page.goto(api_origin + "/login")
        stored = context.cookies(api_origin)
        page.goto(
            pages.origin(page_host) + "/partner?" + urlencode({"api": api_origin})
        )
        page.wait_for_function("window.answer !== undefined", timeout=PAGE_TIMEOUT_MS)
        answer = page.evaluate("window.answer")
        script = [id_ for id_, url in urls.items() if "/api/me" in url]
        deadline = time.monotonic() + REPORT_TIMEOUT
        while not all(id_ in reports for id_ in script) and time.monotonic() < deadline:
            page.wait_for_timeout(20)
    finally:
        page.close()
    (api_request,) = seen
    blocked = {
        reason
        for id_ in script
        for cookie_report in reports.get(id_, [])
        for reason in cookie_report["blockedReasons"]
    }
    return Visit(answer, stored, api_request, blocked)


@pytest.fixture
def fresh_context(default_chromium: Browser) -> Iterator[BrowserContext]:
    context = default_chromium.new_context(ignore_https_errors=True)
    yield context
    context.close()


@pytest.fixture
def permissive_context(permissive_chromium: BrowserContext) -> BrowserContext:
    permissive_chromium.clear_cookies()
    return permissive_chromium


def fetch_site(scheme: str, api_host: str, value: str) -> str | None:
    """The ``Sec-Fetch-Site`` header the API gets: Chromium sends it only to
    potentially trustworthy origins, HTTPS or loopback.
    """
    if scheme == "https" or api_host in (LOOPBACK_NAME, LOOPBACK_IP):
        return value
    return None


def assert_signed_in_answer(visit: Visit) -> None:
    assert visit.answer == {"data": ALICE}
    assert visit.request.cookie_sent
    assert visit.request.status == 200
    assert visit.blocked == set()


def assert_no_cookie_sent(visit: Visit) -> None:
    assert visit.answer == {"failed": True}
    assert not visit.request.cookie_sent
    assert visit.request.status == 401


@pytest.mark.parametrize(
    ("scheme", "page_host", "api_host", "cookie"),
    [
        pytest.param("http", SAME_SITE_HOST, API_HOST, DEFAULT_COOKIE, id="http"),
        pytest.param("https", SAME_SITE_HOST, API_HOST, DEFAULT_COOKIE, id="https"),
        pytest.param(
            "https", SAME_SITE_HOST, API_HOST, SAMESITE_NONE_SECURE, id="https-none"
        ),
        # Another port is another origin, never another site.
        pytest.param(
            "http", LOOPBACK_NAME, LOOPBACK_NAME, DEFAULT_COOKIE, id="localhost-ports"
        ),
    ],
)
def test_same_site_page_sends_the_session_cookie(
    fresh_context: BrowserContext,
    sites: Sites,
    scheme: str,
    page_host: str,
    api_host: str,
    cookie: dict[str, Any],
) -> None:
    result = visit(
        fresh_context,
        sites,
        scheme=scheme,
        page_host=page_host,
        api_host=api_host,
        cookie=cookie,
    )
    assert_signed_in_answer(result)
    assert result.request.fetch_site == fetch_site(scheme, api_host, "same-site")


#: A page of another site and the API: real names, and the loopback pair of the
#: report (``localhost`` and ``127.0.0.1`` are two sites).
CROSS_SITE = [
    pytest.param("http", OTHER_SITE_HOST, API_HOST, id="http"),
    pytest.param("https", OTHER_SITE_HOST, API_HOST, id="https"),
    pytest.param("http", LOOPBACK_NAME, LOOPBACK_IP, id="localhost-to-127.0.0.1"),
]


@pytest.mark.parametrize("profile", ["fresh_context", "permissive_context"])
@pytest.mark.parametrize(("scheme", "page_host", "api_host"), CROSS_SITE)
def test_cross_site_page_never_sends_flasks_default_session_cookie(
    request: pytest.FixtureRequest,
    sites: Sites,
    profile: str,
    scheme: str,
    page_host: str,
    api_host: str,
) -> None:
    # Even where third-party cookies are allowed: no SameSite means Lax.
    context: BrowserContext = request.getfixturevalue(profile)
    result = visit(
        context,
        sites,
        scheme=scheme,
        page_host=page_host,
        api_host=api_host,
        cookie=DEFAULT_COOKIE,
    )
    (stored,) = result.stored
    assert not stored["secure"]
    assert_no_cookie_sent(result)
    assert result.request.fetch_site == fetch_site(scheme, api_host, "cross-site")
    assert "SchemefulSameSiteUnspecifiedTreatedAsLax" in result.blocked


@pytest.mark.parametrize(
    ("scheme", "api_host", "cookie"),
    [
        pytest.param("http", API_HOST, SAMESITE_NONE, id="http-not-secure"),
        pytest.param("https", API_HOST, SAMESITE_NONE, id="https-not-secure"),
        pytest.param("http", API_HOST, SAMESITE_NONE_SECURE, id="http-secure"),
    ],
)
def test_samesite_none_cookie_is_dropped_without_secure_and_https(
    fresh_context: BrowserContext,
    sites: Sites,
    scheme: str,
    api_host: str,
    cookie: dict[str, Any],
) -> None:
    result = visit(
        fresh_context,
        sites,
        scheme=scheme,
        page_host=SAME_SITE_HOST,
        api_host=api_host,
        cookie=cookie,
    )
    assert result.stored == []
    assert_no_cookie_sent(result)


#: Where a ``SameSite=None; Secure`` cookie is kept: HTTPS, or loopback over HTTP.
SECURE_CROSS_SITE = [
    pytest.param("https", OTHER_SITE_HOST, API_HOST, id="https"),
    pytest.param("http", LOOPBACK_NAME, LOOPBACK_IP, id="localhost-to-127.0.0.1"),
]


@pytest.mark.parametrize(("scheme", "page_host", "api_host"), SECURE_CROSS_SITE)
def test_cross_site_page_sends_no_samesite_none_cookie_in_chromium_as_it_comes(
    fresh_context: BrowserContext,
    sites: Sites,
    scheme: str,
    page_host: str,
    api_host: str,
) -> None:
    result = visit(
        fresh_context,
        sites,
        scheme=scheme,
        page_host=page_host,
        api_host=api_host,
        cookie=SAMESITE_NONE_SECURE,
    )
    (stored,) = result.stored
    assert stored["secure"]
    assert stored["sameSite"] == "None"
    assert_no_cookie_sent(result)
    # Not SameSite: the browser's third-party cookie setting.
    assert result.blocked == {"UserPreferences"}


@pytest.mark.parametrize(("scheme", "page_host", "api_host"), SECURE_CROSS_SITE)
def test_cross_site_page_sends_samesite_none_cookie_if_third_party_cookies_allowed(
    permissive_context: BrowserContext,
    sites: Sites,
    scheme: str,
    page_host: str,
    api_host: str,
) -> None:
    result = visit(
        permissive_context,
        sites,
        scheme=scheme,
        page_host=page_host,
        api_host=api_host,
        cookie=SAMESITE_NONE_SECURE,
    )
    assert_signed_in_answer(result)
    assert result.request.fetch_site == fetch_site(scheme, api_host, "cross-site")
