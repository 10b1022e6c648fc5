"""The two-origin demo (``demo_site``): its apps under Flask's test client, and
its command line.

The page is tested in Chromium by ``tests/browser/test_demo.py``.
"""

from __future__ import annotations

import importlib.metadata
import itertools
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from datetime import timedelta
from datetime import timezone
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.request import urlopen

import pytest
from flask import Flask
from flask.testing import FlaskClient
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from werkzeug.serving import make_server

from demo_site import create_api_app
from demo_site import create_page_app
from demo_site.answers import ANSWER_LOG_SIZE
from demo_site.answers import MAX_BODY_CHARS
from demo_site.api import DEFAULT_DELAY_SECONDS
from demo_site.api import MAX_DELAY_SECONDS
from demo_site.api import retirement_dates
from demo_site.api import slow_delay
from demo_site.cli import DEFAULT_API_PORT
from demo_site.cli import DEFAULT_PAGE_PORT
from demo_site.cli import main
from demo_site.cli import parse_args
from demo_site.page import check_origin
from demo_site.page import DOCS_POLICY
from demo_site.page import heading_anchor
from demo_site.page import HOSTILE_CALLBACK
from flask_jsonp.loader import STATIC_FOLDER
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner
from tests.tools import require_executable

ROOT = Path(__file__).resolve().parents[1]

#: Where the page app believes the API is, in the tests that do not serve it.
API_ORIGIN = "http://127.0.0.1:5001"

#: Where the API app believes the page is.
PAGE_ORIGIN = "http://localhost:5000"

#: Seconds the command-line tests wait for the demo to start or stop.
PROCESS_TIMEOUT = 15.0

#: The pages of the documentation that the demo's page links to.
LINKED_DOCS = [
    "index",
    "quickstart",
    "loader",
    "security",
    "callbacks",
    "demo",
    "retiring",
]


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    """A stand-in for ``docs/_build/html``: an index and one page."""
    (tmp_path / "index.html").write_text("<h1>flask-jsonp</h1>")
    (tmp_path / "loader.html").write_text("<h1>The loader</h1>")
    return tmp_path


@pytest.fixture
def page_app(docs_dir: Path) -> Flask:
    app = create_page_app(API_ORIGIN, docs_dir=docs_dir)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def page_client(page_app: Flask) -> FlaskClient:
    return page_app.test_client()


@pytest.fixture
def api_client() -> FlaskClient:
    app = create_api_app(PAGE_ORIGIN)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def live_api() -> Iterator[str]:
    """Serve the API app on an ephemeral loopback port; yield its origin."""
    server = make_server("127.0.0.1", 0, create_api_app(PAGE_ORIGIN), threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port that another socket listens on."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


class TagCollector(HTMLParser):
    """Every start tag of a document, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


def parse_tags(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


# --- The page app ---


def test_page_scripts_carry_the_nonce_of_their_response(
    page_client: FlaskClient,
) -> None:
    response = page_client.get("/")
    assert response.status_code == 200
    (script_source,) = csp_directives(response.headers["Content-Security-Policy"])[
        "script-src"
    ]
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{22,})'", script_source)
    assert nonce is not None
    scripts = [
        attrs for tag, attrs in parse_tags(response.text).tags if tag == "script"
    ]
    assert [script["src"] for script in scripts] == [
        "/_jsonp/jsonp.js",
        "/static/demo.js",
    ]
    assert all(script["nonce"] == nonce[1] for script in scripts)


def test_page_nonce_is_new_for_every_response(page_client: FlaskClient) -> None:
    policies = {
        page_client.get("/").headers["Content-Security-Policy"] for _ in range(3)
    }
    assert len(policies) == 3


def test_page_policy_allows_nonce_scripts_and_fetches_to_the_api(
    page_client: FlaskClient,
) -> None:
    header = page_client.get("/").headers["Content-Security-Policy"]
    directives = csp_directives(header)
    assert directives["default-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'", API_ORIGIN]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "unsafe" not in header


def test_page_has_no_inline_script_handler_or_style(page_client: FlaskClient) -> None:
    document = parse_tags(page_client.get("/").text)
    assert document.script_text == []
    for tag, attrs in document.tags:
        assert tag != "style"
        assert not [
            name for name in attrs if name.startswith("on") or name == "style"
        ], tag


def test_page_tells_its_script_where_the_api_is(page_app: Flask) -> None:
    page_app.config.update(DEMO_TIMEOUT_MS=250, DEMO_SLOW_DELAY=1.5)
    html = page_app.test_client().get("/").text
    (main,) = [attrs for tag, attrs in parse_tags(html).tags if tag == "main"]
    assert main["data-api-origin"] == API_ORIGIN
    assert main["data-timeout-ms"] == "250"
    assert main["data-slow-delay"] == "1.5"
    assert main["data-hostile-callback"] == HOSTILE_CALLBACK


def test_page_serves_the_loader_from_the_package(page_client: FlaskClient) -> None:
    response = page_client.get("/_jsonp/jsonp.js")
    assert response.status_code == 200
    assert response.data == (STATIC_FOLDER / "jsonp.js").read_bytes()
    assert "Content-Security-Policy" in response.headers
    response.close()


@pytest.mark.parametrize("filename", ["demo.js", "demo.css", "favicon.svg"])
def test_page_static_files_are_served(page_client: FlaskClient, filename: str) -> None:
    response = page_client.get(f"/static/{filename}")
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001/", "http://127.0.0.1:5001"),
        ("https://api.example", "https://api.example"),
    ],
)
def test_page_app_accepts_an_api_origin(origin: str, expected: str) -> None:
    assert check_origin(origin) == expected
    assert create_page_app(origin).config["DEMO_API_ORIGIN"] == expected


@pytest.mark.parametrize(
    "origin",
    ["127.0.0.1:5001", "ftp://127.0.0.1", "http://", "http://a.example/api", ""],
)
def test_page_app_refuses_what_is_not_an_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        create_page_app(origin)


def page_links(client: FlaskClient, path: str = "/") -> set[str]:
    """The targets of the links and stylesheets of one page."""
    return {
        href
        for tag, attrs in parse_tags(client.get(path).text).tags
        if tag in ("a", "link") and (href := attrs.get("href"))
    }


def assert_every_link_works(client: FlaskClient, path: str = "/") -> set[str]:
    """Follow every link of a page: each answers 200, and each ``#fragment``
    names an element of its page. Return the links.
    """
    links = page_links(client, path)
    for link in links:
        assert link.startswith("/"), f"{link}: the page links off the demo"
        target, _, fragment = link.partition("#")
        response = client.get(target)
        assert response.status_code == 200, f"{path} links to {link}: 404"
        if fragment:
            ids = {attrs.get("id") for _, attrs in parse_tags(response.text).tags}
            assert fragment in ids, f"{path} links to {link}: no such section"
        response.close()
    return links


def test_every_link_of_the_page_works_in_a_fresh_checkout(tmp_path: Path) -> None:
    # Nothing built: the links show the Markdown sources of docs/.
    app = create_page_app(API_ORIGIN, docs_dir=tmp_path / "html")
    links = assert_every_link_works(app.test_client())
    docs = {link.partition("#")[0] for link in links if link.startswith("/docs/")}
    assert docs == {f"/docs/source/{page}.md" for page in LINKED_DOCS}
    assert "/docs/source/demo.md#what-arrived" in links


def test_every_link_of_the_page_works_with_the_docs_built(
    page_client: FlaskClient,
) -> None:
    links = assert_every_link_works(page_client)
    # The stand-in build has index.html and loader.html: those are linked as
    # HTML, the other pages as their sources.
    assert {
        "/docs/index.html",
        "/docs/loader.html",
        "/docs/source/quickstart.md",
    } <= links
    assert "/docs/quickstart.html" not in links
    assert "/docs/source/loader.md" not in links


@pytest.mark.parametrize("page", ["index", "demo", "retiring", "loader"])
def test_every_link_of_a_docs_source_page_works(tmp_path: Path, page: str) -> None:
    client = create_page_app(API_ORIGIN, docs_dir=tmp_path / "html").test_client()
    assert_every_link_works(client, f"/docs/source/{page}.md")


@pytest.mark.parametrize(
    ("title", "anchor"),
    [
        # As MyST writes them in docs/_build/html (myst_heading_anchors = 3).
        ("What arrived", "what-arrived"),
        ("Moving to CORS", "moving-to-cors"),
        ("The two-origin demo", "the-two-origin-demo"),
        ("Counting it with Prometheus", "counting-it-with-prometheus"),
        (
            "`jsonp_loader()` and the `JSONP` extension",
            "jsonp_loader-and-the-jsonp-extension",
        ),
        (
            "Tighten the allowlist in report-only",
            "tighten-the-allowlist-in-report-only",
        ),
        (
            "12. Usage signals, and what they carry",
            "12-usage-signals-and-what-they-carry",
        ),
    ],
)
def test_source_headings_carry_the_anchors_of_the_built_pages(
    title: str, anchor: str
) -> None:
    assert heading_anchor(title) == anchor


def test_docs_source_shows_the_markdown_as_text_with_its_headings(
    tmp_path: Path,
) -> None:
    source = tmp_path / "docs"
    source.mkdir()
    (source / "guide.md").write_text(
        "# A guide\n\n<script>alert(1)</script>\n\n"
        "```python\n# a comment, not a heading\n```\n\n## Next step ##\n"
    )
    client = create_page_app(
        API_ORIGIN, docs_dir=tmp_path / "html", docs_source=source
    ).test_client()
    response = client.get("/docs/source/guide.md")
    assert response.status_code == 200
    tags = parse_tags(response.text).tags
    assert "script" not in {tag for tag, _ in tags}
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    ids = [attrs["id"] for _, attrs in tags if "id" in attrs]
    assert ids == ["a-guide", "next-step"]
    assert "make docs" in response.text
    script_src = csp_directives(response.headers["Content-Security-Policy"])[
        "script-src"
    ]
    assert script_src[0].startswith("'nonce-")


@pytest.mark.parametrize(
    "path",
    [
        "/docs/source/missing.md",
        "/docs/source/..%2Fsetup.md",
        "/docs/source/../setup.md",
        "/docs/source/conf.py",
        "/docs/source/_build.md",
    ],
)
def test_docs_source_serves_only_the_markdown_pages(tmp_path: Path, path: str) -> None:
    client = create_page_app(API_ORIGIN, docs_dir=tmp_path / "html").test_client()
    assert client.get(path).status_code == 404


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("/docs/", "<h1>flask-jsonp</h1>"),
        ("/docs/index.html", "<h1>flask-jsonp</h1>"),
        ("/docs/loader.html", "<h1>The loader</h1>"),
    ],
)
def test_page_serves_the_built_docs_under_their_own_policy(
    page_client: FlaskClient, path: str, text: str
) -> None:
    response = page_client.get(path)
    assert response.status_code == 200
    assert response.text == text
    assert response.headers["Content-Security-Policy"] == DOCS_POLICY
    response.close()


def test_page_docs_refuse_paths_outside_the_build(page_client: FlaskClient) -> None:
    assert page_client.get("/docs/../page.py").status_code == 404
    assert page_client.get("/docs/missing.html").status_code == 404


def test_page_says_how_to_build_the_docs_when_they_are_not_built(
    tmp_path: Path,
) -> None:
    client = create_page_app(
        API_ORIGIN, docs_dir=tmp_path / "html", docs_source=tmp_path / "none"
    ).test_client()
    page = client.get("/")
    hrefs = {attrs.get("href") for tag, attrs in parse_tags(page.text).tags}
    # Neither HTML nor sources: every link leads to how to build the docs.
    assert "/docs/" in hrefs
    assert not [href for href in hrefs if href and href.endswith((".html", ".md"))]
    response = client.get("/docs/")
    assert response.status_code == 404
    assert "make docs" in response.text
    assert str(tmp_path / "html") in response.text


# --- The API app ---


@pytest.mark.node
def test_api_user_answers_jsonp(api_client: FlaskClient, node: NodeRunner) -> None:
    response = api_client.get("/api/user?callback=onUser")
    assert run_jsonp(node, response, "onUser")["name"] == "Ada Lovelace"


def test_api_user_answers_json_without_cors_headers(api_client: FlaskClient) -> None:
    response = api_client.get("/api/user", headers={"Origin": "http://localhost:5000"})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["username"] == "ada"
    assert not [
        name for name, _ in response.headers.items() if name.startswith("Access")
    ]


@pytest.mark.node
def test_api_unknown_user_is_an_enveloped_404(
    api_client: FlaskClient, node: NodeRunner
) -> None:
    response = api_client.get("/api/users/nobody?callback=onUser")
    assert response.status_code == 200
    payload = run_jsonp(node, response, "onUser")
    assert payload["meta"] == {"status": 404}
    assert payload["data"]["name"] == "Not Found"
    assert "nobody" in payload["data"]["description"]


@pytest.mark.node
def test_api_known_user_is_enveloped_data(
    api_client: FlaskClient, node: NodeRunner
) -> None:
    response = api_client.get("/api/users/grace?callback=onUser")
    payload = run_jsonp(node, response, "onUser")
    assert payload["meta"] == {"status": 200}
    assert payload["data"]["name"] == "Grace Hopper"


@pytest.mark.node
def test_api_slow_endpoint_answers_after_its_delay(
    api_client: FlaskClient, node: NodeRunner
) -> None:
    start = time.monotonic()
    response = api_client.get("/api/slow?delay=0.2&callback=onSlow")
    assert time.monotonic() - start >= 0.2
    assert run_jsonp(node, response, "onSlow") == {"slept_seconds": 0.2}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_DELAY_SECONDS),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("3600", MAX_DELAY_SECONDS),
        ("inf", DEFAULT_DELAY_SECONDS),
        ("nan", DEFAULT_DELAY_SECONDS),
        ("soon", DEFAULT_DELAY_SECONDS),
    ],
)
def test_api_slow_delay_is_bounded(value: str | None, expected: float) -> None:
    assert slow_delay(value) == expected


def test_api_refuses_a_hostile_callback(api_client: FlaskClient) -> None:
    response = api_client.get("/api/user", query_string={"callback": HOSTILE_CALLBACK})
    assert_refused(response, 400, "invalid_callback")


def test_api_index_lists_its_endpoints(api_client: FlaskClient) -> None:
    response = api_client.get("/")
    assert response.json is not None
    for endpoint in response.json["endpoints"]:
        assert api_client.get(endpoint.replace("delay=1", "delay=0")).status_code == 200


def logged_answer(client: FlaskClient, target: str) -> dict[str, Any] | None:
    """What the API's log says it answered to a GET of ``target``."""
    response = client.get("/_demo/answers", query_string={"target": target})
    assert response.status_code == 200
    assert response.json is not None
    answer: dict[str, Any] | None = response.json["answer"]
    return answer


@pytest.mark.parametrize(
    ("target", "status"),
    [
        ("/api/user?callback=onUser", "200 OK"),
        ("/api/users/nobody?callback=onUser", "200 OK"),
        ("/api/user", "200 OK"),
        ("/api/user?callback=alert(document.domain)%2F%2F", "400 BAD REQUEST"),
    ],
)
def test_api_log_has_the_exact_answer_to_a_request(
    api_client: FlaskClient, target: str, status: str
) -> None:
    sent = api_client.get(target)
    answer = logged_answer(api_client, target)
    assert answer is not None
    assert answer["request"] == f"GET {target}"
    assert answer["status"] == status == sent.status
    assert answer["body"] == sent.text
    assert answer["truncated"] is False
    assert ["Content-Type", sent.content_type] in answer["headers"]


def test_api_log_keeps_the_newest_answer_to_a_target(api_client: FlaskClient) -> None:
    api_client.get("/api/users/ada?callback=f")
    api_client.get("/api/users/ada?callback=f", headers={"Referer": "x"})
    first_status = api_client.get("/api/slow?delay=0&callback=f").status
    assert first_status == "200 OK"
    answer = logged_answer(api_client, "/api/users/ada?callback=f")
    assert answer is not None
    assert answer["body"].startswith('/**/typeof f === "function" && f(')


def test_api_log_is_empty_for_what_was_not_asked(api_client: FlaskClient) -> None:
    assert logged_answer(api_client, "/api/user?callback=never") is None
    # Reading the log is not logged.
    assert logged_answer(api_client, "/_demo/answers?target=x") is None


def test_api_log_is_bounded(api_client: FlaskClient) -> None:
    for number in range(ANSWER_LOG_SIZE + 1):
        api_client.get(f"/api/user?callback=f{number}")
    assert logged_answer(api_client, "/api/user?callback=f0") is None
    assert logged_answer(api_client, "/api/user?callback=f1") is not None


def test_api_log_cuts_long_bodies_short(api_client: FlaskClient) -> None:
    target = f"/api/users/{'x' * MAX_BODY_CHARS}?callback=f"
    api_client.get(target)
    answer = logged_answer(api_client, target)
    assert answer is not None
    assert len(answer["body"]) == MAX_BODY_CHARS
    assert answer["truncated"] is True


@pytest.mark.parametrize(
    ("origin", "allowed"), [(PAGE_ORIGIN, True), ("http://localhost:5002", False)]
)
def test_api_log_is_open_by_cors_to_the_demo_page_only(
    api_client: FlaskClient, origin: str, allowed: bool
) -> None:
    response = api_client.get(
        "/_demo/answers", query_string={"target": "/"}, headers={"Origin": origin}
    )
    assert response.headers.get("Access-Control-Allow-Origin") == (
        origin if allowed else None
    )


# --- Step 7: moving to CORS ---

#: The time the API app of these tests counts its retirement dates from.
NOW = datetime(2026, 12, 2, 15, 30, tzinfo=timezone.utc)
DEPRECATION = datetime(2026, 11, 2, tzinfo=timezone.utc)
SUNSET = datetime(2027, 5, 31, tzinfo=timezone.utc)

#: A page the allowlist does not name.
OTHER_PAGE = "http://localhost:5002"


@pytest.fixture
def cors_client() -> FlaskClient:
    app = create_api_app(PAGE_ORIGIN, now=NOW)
    app.config["TESTING"] = True
    return app.test_client()


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (NOW, (DEPRECATION, SUNSET)),
        (
            datetime(2026, 12, 2, 23, 59, tzinfo=timezone(timedelta(hours=-5))),
            (DEPRECATION + timedelta(days=1), SUNSET + timedelta(days=1)),
        ),
    ],
)
def test_api_retirement_dates_are_utc_midnights_around_now(
    now: datetime, expected: tuple[datetime, datetime]
) -> None:
    assert retirement_dates(now) == expected


def test_api_profile_answers_the_page_by_cors_without_a_deprecation(
    cors_client: FlaskClient,
) -> None:
    response = cors_client.get("/api/profile", headers={"Origin": PAGE_ORIGIN})
    assert response.status_code == 200
    assert response.json == {"born": 1815, "name": "Ada Lovelace", "username": "ada"}
    assert response.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN
    exposed = response.headers["Access-Control-Expose-Headers"].split(", ")
    assert sorted(exposed) == ["Deprecation", "Link", "Sunset"]
    # Only JSONP is on its way out.
    assert "Deprecation" not in response.headers
    assert "Sunset" not in response.headers


def test_api_profile_refuses_cors_to_other_pages(cors_client: FlaskClient) -> None:
    response = cors_client.get("/api/profile", headers={"Origin": OTHER_PAGE})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_api_profile_preflight_is_answered(cors_client: FlaskClient) -> None:
    response = cors_client.options(
        "/api/profile?callback=f",
        headers={"Origin": PAGE_ORIGIN, "Access-Control-Request-Method": "GET"},
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == PAGE_ORIGIN


@pytest.mark.node
def test_api_profile_jsonp_announces_its_end(
    cors_client: FlaskClient, node: NodeRunner
) -> None:
    response = cors_client.get(
        "/api/profile?callback=onProfile", headers={"Referer": f"{PAGE_ORIGIN}/"}
    )
    assert response.headers["Deprecation"] == f"@{int(DEPRECATION.timestamp())}"
    assert response.headers["Sunset"] == "Mon, 31 May 2027 00:00:00 GMT"
    link = f"{PAGE_ORIGIN}/#step-cors"
    assert response.headers["Link"] == f'<{link}>; rel="deprecation"'
    payload = run_jsonp(node, response, "onProfile")
    assert payload["meta"] == {
        "status": 200,
        "deprecation": "2026-11-02T00:00:00Z",
        "sunset": "2027-05-31T00:00:00Z",
        "link": link,
    }
    assert payload["data"]["name"] == "Ada Lovelace"


@pytest.mark.parametrize("referer", [f"{OTHER_PAGE}/", None])
def test_api_profile_refuses_jsonp_to_other_pages(
    cors_client: FlaskClient, referer: str | None
) -> None:
    headers = {"Referer": referer} if referer else {}
    response = cors_client.get("/api/profile?callback=f", headers=headers)
    assert_refused(response, 403, "referrer_not_allowed")


def usage_counts(client: FlaskClient) -> dict[str, tuple[int, int]]:
    """The API's usage report, as ``{page: (jsonp, cors)}``."""
    report = client.get("/api/usage", headers={"Origin": PAGE_ORIGIN}).json
    assert report is not None
    return {row["page"]: (row["jsonp"], row["cors"]) for row in report["pages"]}


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        # JSONP answers, by the page of the Referer.
        ("/api/user?callback=f", {"Referer": f"{PAGE_ORIGIN}/x?token=1"}, (1, 0, 0, 0)),
        ("/api/profile?callback=f", {"Referer": f"{PAGE_ORIGIN}/"}, (1, 0, 0, 0)),
        ("/api/user?callback=f", {"Referer": f"{OTHER_PAGE}/"}, (0, 0, 1, 0)),
        ("/api/user?callback=f", {}, (0, 0, 1, 0)),
        # CORS answers, by the page of the Origin.
        ("/api/profile", {"Origin": PAGE_ORIGIN}, (0, 1, 0, 0)),
        # Not answers of either kind: refused, or without CORS headers.
        ("/api/profile?callback=f", {"Referer": f"{OTHER_PAGE}/"}, (0, 0, 0, 0)),
        ("/api/profile", {"Origin": OTHER_PAGE}, (0, 0, 0, 0)),
        ("/api/user", {"Origin": PAGE_ORIGIN}, (0, 0, 0, 0)),
        ("/api/user", {}, (0, 0, 0, 0)),
        # The page's own reads of the report and the log.
        ("/api/usage", {"Origin": PAGE_ORIGIN}, (0, 0, 0, 0)),
        ("/_demo/answers?target=/", {"Origin": PAGE_ORIGIN}, (0, 0, 0, 0)),
    ],
)
def test_api_usage_counts_jsonp_and_cors_answers_by_page(
    cors_client: FlaskClient,
    path: str,
    headers: dict[str, str],
    expected: tuple[int, int, int, int],
) -> None:
    cors_client.get(path, headers=headers)
    page_jsonp, page_cors, other_jsonp, other_cors = expected
    assert usage_counts(cors_client) == {
        PAGE_ORIGIN: (page_jsonp, page_cors),
        "other": (other_jsonp, other_cors),
    }


def test_api_usage_labels_stay_bounded(cors_client: FlaskClient) -> None:
    for port in range(6000, 6050):
        cors_client.get(
            "/api/user?callback=f", headers={"Referer": f"http://localhost:{port}/"}
        )
    assert usage_counts(cors_client) == {PAGE_ORIGIN: (0, 0), "other": (50, 0)}


# --- The command line ---


def test_cli_defaults_are_the_readme_ports() -> None:
    args = parse_args([])
    assert (args.page_port, args.api_port) == (DEFAULT_PAGE_PORT, DEFAULT_API_PORT)
    assert (DEFAULT_PAGE_PORT, DEFAULT_API_PORT) == (5000, 5001)


def test_cli_takes_both_ports() -> None:
    args = parse_args(["--page-port", "8000", "--api-port", "0"])
    assert (args.page_port, args.api_port) == (8000, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--page-port", "http"], "'http' is not a port number"),
        (["--api-port", "65536"], "'65536' is not a port number"),
        (["--api-port", "-1"], "'-1' is not a port number"),
        (["--page-port", "8000", "--api-port", "8000"], "must differ"),
        (["--host", "0.0.0.0"], "unrecognized arguments"),
    ],
)
def test_cli_refuses_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--page-port", "--api-port"])
def test_cli_port_in_use_is_a_one_line_error(
    flag: str, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    other_flag = "--api-port" if flag == "--page-port" else "--page-port"
    status = main([flag, str(busy_port), other_flag, "0"])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: port {busy_port} is already in use; choose another with {flag}\n"
    )


def read_banner(process: subprocess.Popen[str], line_count: int) -> list[str]:
    """Read the first lines the demo prints, failing the test if they are late."""
    assert process.stdout is not None
    stdout = process.stdout
    banner: list[str] = []
    reader = threading.Thread(
        target=lambda: banner.extend(itertools.islice(stdout, line_count)),
        daemon=True,
    )
    reader.start()
    # If the demo hangs, killing it in the test's cleanup ends the thread.
    reader.join(PROCESS_TIMEOUT)
    if len(banner) < line_count:
        pytest.fail(f"the demo printed only {banner!r}")
    return banner


# SIGINT is what Ctrl-C sends; a shell ignores it in background jobs (and their
# children inherit that), so the demo runs with Python's default handler, as in a
# terminal.
RUN_WITH_DEFAULT_SIGINT = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " runpy.run_module('demo_site', run_name='__main__')"
)


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGINT, signal.SIGTERM], ids=lambda signum: signum.name
)
def test_cli_serves_both_origins_and_stops_cleanly(stop_signal: int) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN_WITH_DEFAULT_SIGINT,
            "--page-port",
            "0",
            "--api-port",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = read_banner(process, 4)
        page_url = re.search(r"page  (http://localhost:\d+)", banner[1])
        api_url = re.search(r"API   (http://127\.0\.0\.1:\d+)", banner[2])
        assert page_url is not None and api_url is not None, banner
        assert banner[3] == "Press Ctrl-C to stop.\n"
        with urlopen(page_url[1], timeout=PROCESS_TIMEOUT) as page:
            assert api_url[1] in page.headers["Content-Security-Policy"]
        with urlopen(f"{api_url[1]}/api/user?callback=f", timeout=5) as api:
            assert api.read().startswith(b'/**/typeof f === "function" && f(')
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out == "stopped\n"
    assert "Traceback" not in err
    assert '[page] "GET / HTTP/1.1" 200' in err
    assert "[api] " in err


# --- make demo: its own set-up, beside make test's ---

#: Stands in for Python in the Makefile's recipes: logs each call, and makes a
#: virtual environment whose tools are more of itself.
PYTHON_STUB = """#!/bin/sh
echo "$(basename "$0") $*" >> "$STUB_LOG"
if [ "$1 $2" = "-m venv" ]; then
    mkdir -p "$3/bin"
    for tool in python ruff mypy sphinx-build nox; do ln -sf "$0" "$3/bin/$tool"; done
fi
"""


@pytest.fixture
def make_checkout(tmp_path: Path) -> Path:
    """A directory with the project's Makefile and set-up files, and a stub
    Python in ``stub/``.
    """
    for name in ("Makefile", "setup.cfg", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    stub = tmp_path / "stub" / "python3"
    stub.parent.mkdir()
    stub.write_text(PYTHON_STUB)
    stub.chmod(0o755)
    return tmp_path


def run_make(checkout: Path, target: str) -> list[str]:
    """Run ``make target`` with the stub Python; return what it ran of it."""
    make = require_executable("make")
    log = checkout / "calls.log"
    log.write_text("")
    python = checkout / "stub" / "python3"
    subprocess.run(
        [make, "--no-print-directory", target, f"PYTHON={python}"],
        cwd=checkout,
        env={**os.environ, "STUB_LOG": str(log)},
        check=True,
        capture_output=True,
        timeout=PROCESS_TIMEOUT,
    )
    return log.read_text().splitlines()


def installs(calls: list[str]) -> list[str]:
    """The groups of the ``pip install`` calls, or ``pip`` for pip itself."""
    return [
        call.rpartition("--group ")[2] if "--group" in call else "pip"
        for call in calls
        if "-m pip install" in call
    ]


#: The last command of each target: what it is for, once set up.
LAST_CALL = {"demo": "python -m demo_site", "test": "python -m pytest"}


@pytest.mark.parametrize(
    "runs",
    [
        # (target, the groups its pip installs)
        [("demo", ["pip", "demo"]), ("demo", [])],
        [("demo", ["pip", "demo"]), ("test", ["pip", "dev"])],
        [("test", ["pip", "dev"]), ("demo", [])],
        [("test", ["pip", "dev"]), ("test", [])],
    ],
    ids=["demo twice", "demo then test", "test then demo", "test twice"],
)
def test_make_demo_and_make_test_each_install_their_own_set(
    make_checkout: Path, runs: list[tuple[str, list[str]]]
) -> None:
    for target, groups in runs:
        calls = run_make(make_checkout, target)
        assert installs(calls) == groups, f"make {target}: {calls}"
        assert calls[-1] == LAST_CALL[target]


def test_make_demo_sets_up_again_when_the_dependencies_change(
    make_checkout: Path,
) -> None:
    run_make(make_checkout, "test")
    pyproject = make_checkout / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "\n# changed\n")
    assert installs(run_make(make_checkout, "demo")) == ["pip", "demo"]
    assert installs(run_make(make_checkout, "test")) == ["pip", "dev"]


#: Imports demo_site with only the given top-level modules importable beside the
#: standard library, then serves one request of each kind to both apps.
RUN_DEMO_WITH_ONLY = """
import sys

allowed = set(sys.argv[1].split()) | set(sys.stdlib_module_names)


class OnlyTheDemoGroup:
    def find_spec(self, name, path=None, target=None):
        top = name.partition(".")[0]
        if top not in allowed:
            raise ImportError(f"the demo imported {name}: not in its group")
        return None


sys.meta_path.insert(0, OnlyTheDemoGroup())
from demo_site import create_api_app, create_page_app

page = create_page_app("http://127.0.0.1:5001").test_client()
api = create_api_app("http://localhost:5000").test_client()
assert page.get("/").status_code == 200
assert page.get("/static/demo.js").status_code == 200
assert page.get("/docs/source/index.md").status_code == 200
assert api.get("/api/user?callback=f").status_code == 200
assert api.get("/_demo/answers?target=/").status_code == 200
assert api.get("/api/profile", headers={"Origin": "http://localhost:5000"}).json
assert api.get("/api/usage").json["pages"][0]["cors"] == 1
print("served")
"""


def distribution_closure(names: list[str]) -> set[str]:
    """The distributions ``names`` install, with what they depend on."""
    seen: set[str] = set()
    pending = [Requirement(name) for name in names]
    while pending:
        requirement = pending.pop()
        # Only what this Python installs: Flask 2.3 asks for importlib-metadata
        # before Python 3.10, and extras are not installed.
        if requirement.marker is not None and not requirement.marker.evaluate(
            {"extra": ""}
        ):
            continue
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        pending += map(Requirement, importlib.metadata.requires(name) or [])
    return seen


def test_demo_runs_with_only_the_package_and_its_group() -> None:
    tomllib = pytest.importorskip("tomllib")
    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["dependency-groups"]
    distributions = distribution_closure(["flask-jsonp", *groups["demo"]])
    modules = {"demo_site", "flask_jsonp"} | {
        module
        for module, owners in importlib.metadata.packages_distributions().items()
        if {owner.lower() for owner in owners} & distributions
    }
    result = subprocess.run(
        [sys.executable, "-c", RUN_DEMO_WITH_ONLY, " ".join(sorted(modules))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
    )
    assert result.stdout == "served\n", result.stderr
