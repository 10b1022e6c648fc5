"""The loader installed from its npm package (``npm pack`` of
``flask_jsonp/static``), loaded into a page from ``node_modules``: the classic
script and the ES module, and both in an app bundled with esbuild (``require``
gets the classic script, ``import`` the module), in Chromium and Firefox.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask import Response
from flask import send_from_directory

from flask_jsonp import jsonp
from tests.browser.engines import BrowserPage
from tests.browser.live_server import LiveServer
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import NODE_MODULES
from tests.loader_package import bundle
from tests.loader_package import BUNDLER_PACKAGES
from tests.loader_package import install_loader_package

pytestmark = pytest.mark.browser

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>npm package</title>
<script src="/node_modules/flask-jsonp-loader/jsonp.js"></script>
</head><body></body></html>
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the packed loader installed: its node_modules folder."""
    project = tmp_path_factory.mktemp("loader-user")
    install_loader_package(project)
    return project / "node_modules"


@pytest.fixture
def server(installed: Path, serve_app: Callable[[Flask], LiveServer]) -> LiveServer:
    app = Flask(__name__)

    @app.get("/")
    def page() -> str:
        return PAGE

    @app.get("/bundled")
    def bundled_page() -> str:
        return BUNDLED_PAGE

    @app.get("/bundle.js")
    def bundle_file() -> Response:
        return send_from_directory(installed.parent, "bundle.js")

    @app.get("/node_modules/<path:filename>")
    def node_modules(filename: str) -> Response:
        # Browsers refuse a module script without a JavaScript type.
        return send_from_directory(installed, filename, mimetype="text/javascript")

    @app.get("/api/user")
    @jsonp
    def user() -> dict[str, str]:
        return {"name": "Ada"}

    return serve_app(app)


def test_installed_classic_script_and_module_load_data(
    page: BrowserPage, server: LiveServer
) -> None:
    page.goto(server.page_url("/"))
    result = page.evaluate(
        """async ({ api, moduleUrl }) => {
            const module = await import(moduleUrl);
            return [
                await jsonp(api),
                await module.jsonp(api),
                module.jsonp === window.jsonp,
                module.JsonpError.name,
            ];
        }""",
        {
            "api": server.api_url("/api/user"),
            "moduleUrl": server.page_url("/node_modules/flask-jsonp-loader/jsonp.mjs"),
        },
    )
    assert result == [{"name": "Ada"}, {"name": "Ada"}, False, "JsonpError"]
    assert page.errors == []


#: An app's code, as a bundler sees it: the loader through require() and import.
BUNDLED_APP = """\
const required = require("flask-jsonp-loader");
import { jsonp as imported, JsonpError } from "flask-jsonp-loader";

window.bundled = { required, imported, JsonpError };
"""

BUNDLED_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>bundled</title>
<script src="/bundle.js"></script>
</head><body></body></html>
"""


def test_bundler_gives_require_the_classic_script_and_import_the_module(
    page: BrowserPage, installed: Path, server: LiveServer
) -> None:
    install_npm_packages(BUNDLER_PACKAGES)
    bundle(installed.parent, BUNDLED_APP, NODE_MODULES / "esbuild")
    page.goto(server.page_url("/bundled"))
    result = page.evaluate(
        """async (api) => {
            const { required, imported, JsonpError } = window.bundled;
            return {
                classic: [required.jsonp === required, required === window.jsonp],
                module: [imported !== required, imported.JsonpError === JsonpError],
                data: [await required(api), await imported(api, { preferCors: true })],
            };
        }""",
        server.api_url("/api/user"),
    )
    assert result == {
        "classic": [True, True],
        "module": [True, True],
        "data": [{"name": "Ada"}, {"name": "Ada"}],
    }
    assert page.errors == []
