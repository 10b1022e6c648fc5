from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask import jsonify
from flask import make_response
from flask import redirect
from flask.testing import FlaskClient
from werkzeug.exceptions import HTTPException
from werkzeug.test import TestResponse
from werkzeug.wrappers import Response as BaseResponse

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from flask_jsonp.referrer import Origin
from flask_jsonp.referrer import origin_allowed
from flask_jsonp.referrer import parse_origin
from flask_jsonp.referrer import parse_origin_pattern
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ALLOWED = ["https://good.example", "http://localhost:5000", "https://*.example.com"]


@pytest.fixture
def app(app: Flask) -> Flask:
    @app.get("/private")
    @jsonp(allowed_referrers=ALLOWED)
    def private() -> Any:
        return {"balance": 42}

    return app


@pytest.mark.parametrize(
    "referrer",
    [
        "https://good.example/page?q=1#x",
        "https://good.example",
        "https://GOOD.example:443/",
        "http://localhost:5000/demo",
        "https://api.example.com/",
        "https://a.b.example.com/x",
    ],
)
def test_allowed_pages_get_the_data(
    client: FlaskClient, node: NodeRunner, referrer: str
) -> None:
    response = client.get("/private?callback=cb", headers={"Referer": referrer})
    assert run_jsonp(node, response, "cb") == {"balance": 42}
    assert "Referer" in response.headers["Vary"]
    assert "private" in response.headers["Cache-Control"]


@pytest.mark.parametrize(
    "referrer",
    [
        "https://good.example.evil.example/",
        "https://evil.example/?https://good.example",
        "http://good.example/",
        "https://good.example:8443/",
        "http://localhost:5001/",
        "https://example.com/",
        "https://evil-example.com/",
        "https://example.com.evil.net/",
        "https://good.example@evil.example/",
        "javascript:alert(1)//https://good.example",
        "not a url",
        "",
    ],
)
def test_other_pages_are_refused_without_data(
    client: FlaskClient, referrer: str
) -> None:
    response = client.get("/private?callback=cb", headers={"Referer": referrer})
    assert_refused(response, 403, "referrer_not_allowed")
    assert b"42" not in response.data


def test_missing_referrer_fails_closed(client: FlaskClient) -> None:
    assert_refused(client.get("/private?callback=cb"), 403, "referrer_not_allowed")


def test_same_origin_fetch_metadata_passes_without_referrer(
    client: FlaskClient, node: NodeRunner
) -> None:
    response = client.get(
        "/private?callback=cb", headers={"Sec-Fetch-Site": "same-origin"}
    )
    assert run_jsonp(node, response, "cb") == {"balance": 42}
    cross = client.get("/private?callback=cb", headers={"Sec-Fetch-Site": "cross-site"})
    assert cross.status_code == 403


def test_plain_json_is_not_subject_to_the_allowlist(client: FlaskClient) -> None:
    # Without a callback the browser's same-origin policy protects the answer.
    assert client.get("/private").json == {"balance": 42}


def test_parse_origin_normalises() -> None:
    assert parse_origin("HTTPS://Example.COM/a") == Origin("https", "example.com", 443)
    assert parse_origin("http://x:8080") == Origin("http", "x", 8080)
    assert parse_origin("ftp://x/") is None
    assert parse_origin("http://x:99999/") is None


@pytest.mark.parametrize(
    "entry",
    [
        "example.com",
        "https://x/path",
        "https://x?q",
        "ftp://x",
        "https://*",
        "https://a.*.b",
    ],
)
def test_bad_allowlist_entries_are_refused(entry: str) -> None:
    with pytest.raises(ValueError):
        parse_origin_pattern(entry)


def test_allowlisted_answer_is_never_public(app: Flask, node: NodeRunner) -> None:
    @app.get("/cached")
    @jsonp(allowed_referrers=ALLOWED)
    def cached() -> Any:
        return {"n": 1}, 200, {"Cache-Control": "public, max-age=300"}

    response = app.test_client().get(
        "/cached?callback=cb", headers={"Referer": "https://good.example/"}
    )
    assert run_jsonp(node, response, "cb") == {"n": 1}
    directives = {d.strip() for d in response.headers["Cache-Control"].split(",")}
    assert directives == {"private", "max-age=300"}


#: The cache headers of CDNs and reverse proxies, in the spellings views write,
#: one given twice; and one header of the view's own that is not about caching.
CDN_HEADERS = [
    ("CDN-Cache-Control", "max-age=600"),
    ("cdn-cache-control", "stale-while-revalidate=60"),
    ("Cloudflare-CDN-Cache-Control", "max-age=600"),
    ("Akamai-Cache-Control", "max-age=600"),
    ("Edge-Control", "!no-store, cache-maxage=10m"),
    ("Vercel-CDN-Cache-Control", "max-age=600"),
    ("Netlify-CDN-Cache-Control", "public, durable, max-age=600"),
    ("surrogate-control", "max-age=600"),
    ("X-Accel-Expires", "600"),
    ("X-LiteSpeed-Cache-Control", "public, max-age=600"),
]
OWN_HEADER = ("X-Request-Id", "r-1")
CDN_NAMES = {name.lower() for name, _ in CDN_HEADERS}


def _with_cdn_headers(response: BaseResponse) -> BaseResponse:
    for name, value in [*CDN_HEADERS, OWN_HEADER]:
        response.headers.add(name, value)
    return response


def _cdn_headers_of(response: TestResponse) -> list[tuple[str, str]]:
    return [(n, v) for n, v in response.headers if n.lower() in CDN_NAMES]


def _serve_cdn_cached(app: Flask, kind: str, **options: Any) -> None:
    """A JSONP view at ``/cdn`` whose answer of ``kind`` carries the cache
    headers of CDNs, however it is made.
    """

    def add_cdn_headers(view: Callable[..., Any]) -> Callable[..., Any]:
        # A decorator above @jsonp, as a caching extension would write one.
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> BaseResponse:
            return _with_cdn_headers(make_response(view(*args, **kwargs)))

        return wrapper

    @app.errorhandler(400)
    @app.errorhandler(403)
    def refused(error: HTTPException) -> BaseResponse:
        response = jsonify(error=getattr(error, "error", None))
        response.status_code = error.code or 500
        return _with_cdn_headers(response)

    views: dict[str, Callable[[], Any]] = {
        "value": lambda: ({"n": 1}, 200, [*CDN_HEADERS, OWN_HEADER]),
        "response": lambda: _with_cdn_headers(jsonify(n=1)),
        "error": lambda: _with_cdn_headers(make_response(({"n": 1}, 409))),
        "redirect": lambda: _with_cdn_headers(redirect("/login?next=/cdn")),
        "html": lambda: _with_cdn_headers(make_response("<p>n</p>")),
    }
    if kind == "above":

        def data() -> Any:
            return {"n": 1}

        view = add_cdn_headers(jsonp(**options)(data))
    else:
        view = jsonp(**options)(views.get(kind, views["value"]))
    app.add_url_rule("/cdn", "cdn", view)


#: Each kind of answer, the page that asks, and the status and type it gets.
CDN_ANSWERS = [
    ("value", "https://good.example/", 200, "text/javascript"),
    ("response", "https://good.example/", 200, "text/javascript"),
    ("above", "https://good.example/", 200, "text/javascript"),
    ("error", "https://good.example/", 409, "application/json"),
    ("redirect", "https://good.example/", 302, "text/html"),
    ("html", "https://good.example/", 200, "text/html"),
    ("refusal", "https://evil.example/", 403, "application/json"),
]


@pytest.mark.parametrize("extension", [True, False], ids=["extension", "alone"])
@pytest.mark.parametrize(("kind", "page", "status", "mimetype"), CDN_ANSWERS)
def test_page_dependent_answers_lose_the_cache_headers_of_cdns(
    app: Flask, extension: bool, kind: str, page: str, status: int, mimetype: str
) -> None:
    if extension:
        JSONP(app)
    _serve_cdn_cached(app, kind, allowed_referrers=ALLOWED)
    response = app.test_client().get("/cdn?callback=cb", headers={"Referer": page})
    assert (response.status_code, response.mimetype) == (status, mimetype)
    # A CDN that reads one of them would store the answer for every page.
    assert _cdn_headers_of(response) == []
    assert response.cache_control.private
    assert {"Referer", "Sec-Fetch-Site"} <= set(response.vary)
    assert response.headers[OWN_HEADER[0]] == OWN_HEADER[1]


@pytest.mark.parametrize("extension", [True, False], ids=["extension", "alone"])
@pytest.mark.parametrize(("kind", "page", "status", "mimetype"), CDN_ANSWERS)
def test_public_answers_keep_the_cache_headers_of_cdns(
    app: Flask, extension: bool, kind: str, page: str, status: int, mimetype: str
) -> None:
    if extension:
        JSONP(app)
    _serve_cdn_cached(app, kind, allowed_callbacks=["cb"])
    # Without an allowlist of pages, the refusal is of the callback.
    callback = "other" if kind == "refusal" else "cb"
    response = app.test_client().get(
        f"/cdn?callback={callback}", headers={"Referer": page}
    )
    assert (response.status_code, response.mimetype) == (status, mimetype)
    assert _cdn_headers_of(response) == CDN_HEADERS
    assert not response.cache_control.private


def test_allowlist_refusal_varies_on_referer(client: FlaskClient) -> None:
    response = client.get("/private?callback=cb", headers={"Referer": "https://x.y/"})
    assert response.status_code == 403
    assert response.headers["Vary"] == "Referer, Sec-Fetch-Site"


# -- Internationalised hosts ------------------------------------------------------
# Browsers send hosts in their ASCII form (the WHATWG URL parser's domain to
# ASCII): a page at https://bücher.example sends Referer: https://xn--bcher-kva.example/.

BUCHER = "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "entry",
    [
        "https://bücher.example",
        "https://BÜCHER.example",
        "https://Bücher.Example/",
        "https://bücher.example.",
        f"https://{BUCHER}",
        f"https://{BUCHER.upper()}",
        # Fullwidth letters and the ideographic full stop, mapped as browsers do.
        "https://\uff42ücher\u3002example",
    ],
)
@pytest.mark.parametrize(
    "referrer",
    [
        f"https://{BUCHER}/page",
        f"https://{BUCHER.upper()}/",
        f"https://{BUCHER}./",
        f"https://{BUCHER}:443/",
    ],
)
def test_unicode_and_punycode_entries_match_what_browsers_send(
    entry: str, referrer: str
) -> None:
    pattern = parse_origin_pattern(entry)
    origin = parse_origin(referrer)
    assert origin == Origin("https", BUCHER, 443)
    assert origin_allowed(origin, (pattern,))


@pytest.mark.parametrize("entry", ["https://*.bücher.example", f"https://*.{BUCHER}"])
def test_subdomain_entries_with_unicode_hosts(entry: str) -> None:
    patterns = (parse_origin_pattern(entry),)
    for referrer in (f"https://shop.{BUCHER}/", f"https://a.b.{BUCHER}./x"):
        origin = parse_origin(referrer)
        assert origin is not None and origin_allowed(origin, patterns), referrer
    for referrer in (
        f"https://{BUCHER}/",
        f"https://evil-{BUCHER}/",
        f"https://{BUCHER}.evil.example/",
        "https://shop.bucher.example/",
    ):
        origin = parse_origin(referrer)
        assert origin is not None and not origin_allowed(origin, patterns), referrer


def test_trailing_dots_are_the_same_host() -> None:
    patterns = (parse_origin_pattern("https://good.example."),)
    for referrer in ("https://good.example/", "https://good.example./"):
        origin = parse_origin(referrer)
        assert origin is not None and origin_allowed(origin, patterns)
    assert parse_origin("https://good.example../") is None
    assert parse_origin("https://.good.example/") is None


def test_a_unicode_referrer_host_is_not_from_a_browser(
    client: FlaskClient, app: Flask
) -> None:
    assert parse_origin("https://bücher.example/") is None

    @app.get("/intl")
    @jsonp(allowed_referrers=["https://bücher.example"])
    def intl() -> Any:
        return {"n": 1}

    allowed = client.get("/intl?callback=cb", headers={"Referer": f"https://{BUCHER}/"})
    assert allowed.status_code == 200
    refused = client.get(
        "/intl?callback=cb", headers={"Referer": "https://bücher.example/"}
    )
    assert_refused(refused, 403, "referrer_not_allowed")


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        # IDNA 2003 would make these fass.example and so on, other domains than
        # the xn--fa-hia.example browsers go to: refused, with the way out.
        ("https://faß.example", "xn--"),
        ("https://FAẞ.example", "xn--"),
        ("https://ς.example", "xn--"),
        ("https://a\u200db.example", "xn--"),
        ("https://a\u200cb.example", "xn--"),
        # NFKC makes U+2488 "1.": another host than the one written.
        ("https://\u2488example.com", "not a valid host"),
        ("https://bücher..example", "xn--"),
        ("https://a..example", "empty label"),
    ],
)
def test_entries_idna_2003_cannot_convert_like_browsers_are_refused(
    entry: str, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        parse_origin_pattern(entry)


def test_deviation_hosts_work_in_their_punycode_form() -> None:
    patterns = (parse_origin_pattern("https://xn--fa-hia.example"),)
    sharp_s = parse_origin("https://xn--fa-hia.example/")
    fass = parse_origin("https://fass.example/")
    assert sharp_s is not None and origin_allowed(sharp_s, patterns)
    assert fass is not None and not origin_allowed(fass, patterns)
