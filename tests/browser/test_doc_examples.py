"""The JavaScript examples of README.md and docs/deploy.md, run in Chromium
against a live app, with the URLs they name pointed at it.

Each example must make the request its text says it makes, and get the answer.
"""

from __future__ import annotations

import threading
from typing import Any
from typing import TYPE_CHECKING

import pytest
from flask import Flask
from flask import render_template_string
from flask import request
from flask import Response
from flask import send_from_directory

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.browser.live_server import LiveServer
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import INTEROP_PACKAGES
from tests.browser.vendor import NODE_MODULES
from tests.test_docs import code_blocks
from tests.test_docs import run_example

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed.wsgi import WSGIApplication
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

#: The origins the examples call, replaced by the live server's API origin.
EXAMPLE_ORIGINS = ["http://127.0.0.1:5001", "https://api.example.com"]
#: Seconds to wait for a request that an example sends without awaiting it.
REQUEST_TIMEOUT = 5

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>examples</title>
{{ jsonp_loader() }}
<script src="/vendor/jquery/dist/jquery.min.js"></script>
</head><body></body></html>
"""

# Wrap the loader so that the test sees what each call resolved or rejected with,
# also where the example catches the error itself.
SPY_ON_JSONP = """
() => {
  const original = window.jsonp;
  window.outcomes = [];
  window.jsonp = Object.assign((...args) => original(...args).then(
    (data) => { window.outcomes.push({ data }); return data; },
    (error) => {
      window.outcomes.push({ error: error.code || error.name });
      throw error;
    },
  ), original);
}
"""


class ExampleApp:
    """The README's quickstart view with the envelope its loader example asks for,
    and the caching view of docs/deploy.md, on one app that records requests."""

    def __init__(self) -> None:
        self.app = Flask(__name__)
        JSONP(self.app)
        self.requests: list[str] = []
        self.arrived = threading.Event()

        @self.app.get("/")
        def page() -> str:
            return render_template_string(PAGE)

        @self.app.get("/vendor/<path:filename>")
        def vendor(filename: str) -> Response:
            return send_from_directory(NODE_MODULES, filename)

        @self.app.get("/api/user")
        @jsonp(envelope=True)
        def user() -> dict[str, Any]:
            return {"user": "admin", "id": request.args.get("id", type=int)}

        run_example(
            "docs/deploy.md",
            {
                "app": self.app,
                "jsonp": jsonp,
                "request": request,
                "load_catalog": lambda page: {"page": page},
            },
        )

        @self.app.after_request
        def record(response: Response) -> Response:
            if request.path.startswith("/api/"):
                self.requests.append(request.full_path)
                self.arrived.set()
            return response


@pytest.fixture
def example_page(
    page: Page, serve_app: Callable[[WSGIApplication], LiveServer]
) -> tuple[Page, ExampleApp, LiveServer]:
    install_npm_packages({"jquery": INTEROP_PACKAGES["jquery"]})
    example = ExampleApp()
    server = serve_app(example.app)
    page.goto(server.page_url("/"))
    page.evaluate(SPY_ON_JSONP)
    return page, example, server


def javascript(document: str) -> list[str]:
    return code_blocks(document, ("js", "javascript"))


def point_at(code: str, server: LiveServer) -> str:
    for origin in EXAMPLE_ORIGINS:
        code = code.replace(origin, server.api_origin)
    return code


def test_every_javascript_example_is_run() -> None:
    assert len(javascript("README.md")) == 1
    assert len(javascript("docs/deploy.md")) == 2


def test_readme_loader_example(
    example_page: tuple[Page, ExampleApp, LiveServer],
) -> None:
    page, example, server = example_page
    (code,) = javascript("README.md")
    page.evaluate(f"async () => {{\n{point_at(code, server)}\n}}")
    assert page.evaluate("window.outcomes") == [{"data": {"user": "admin", "id": 7}}]
    (path,) = example.requests
    assert path.startswith("/api/user?id=7&callback=")


def test_deploy_fixed_callback_name_example(
    example_page: tuple[Page, ExampleApp, LiveServer],
) -> None:
    page, example, server = example_page
    code = point_at(javascript("docs/deploy.md")[0], server)
    catalog = page.evaluate(f"async () => {{\n{code}\nreturn catalog;\n}}")
    assert catalog == {"page": 2}
    # The example's comment names the request it makes.
    assert f"// GET {server.api_url(example.requests[0])}" in code


def test_deploy_jquery_example_sends_a_stable_url(
    example_page: tuple[Page, ExampleApp, LiveServer],
) -> None:
    page, example, server = example_page
    code = point_at(javascript("docs/deploy.md")[1], server)
    page.evaluate(f"() => {{\n{code}\n}}")
    assert example.arrived.wait(REQUEST_TIMEOUT)
    # A fixed name and no "_=" timestamp: the URL is the same on every call, so
    # caches can hit (jQuery puts the callback first).
    assert example.requests == ["/api/catalog?callback=onCatalogPage2&page=2"]
