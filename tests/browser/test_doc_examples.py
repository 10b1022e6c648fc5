"""The browser examples of README.md, docs/loader.md and docs/deploy.md, run in
Chromium and Firefox against the README's quickstart app, with the URLs they name
pointed at it.

Each example must make the request its text says it makes, and get the answer.
The loader page's ways of getting the loader into a page (template helper,
classic and module; a copied file; npm with a bundler; TypeScript) each run as
the page shows them.
"""

from __future__ import annotations

import json
import re
import subprocess
import textwrap
import threading
from datetime import datetime
from datetime import timezone
from pathlib import Path
from typing import Any
from typing import TYPE_CHECKING

import pytest
from click.testing import CliRunner
from flask import Flask
from flask import g
from flask import render_template_string
from flask import request
from flask import Response
from flask import send_from_directory

from flask_jsonp import jsonp
from flask_jsonp.loader import cli
from tests.browser.live_server import LiveServer
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import INTEROP_PACKAGES
from tests.browser.vendor import NODE_MODULES
from tests.browser.vendor import TYPESCRIPT_PACKAGES
from tests.loader_package import install_loader_package
from tests.test_docs import code_blocks
from tests.test_docs import ROOT
from tests.test_docs import run_example
from tests.tools import require_executable

if TYPE_CHECKING:
    from collections.abc import Callable

    from _typeshed.wsgi import WSGIApplication

    from tests.browser.engines import BrowserPage

#: The origins the examples call, replaced by the live server's API origin.
EXAMPLE_ORIGINS = ["http://127.0.0.1:5001", "https://api.example.com"]
#: Seconds to wait for a request that an example sends without awaiting it.
REQUEST_TIMEOUT = 5
#: Seconds a bundle or a type check may take.
BUILD_TIMEOUT = 120

#: The bundler of the npm example; 0.28 runs on Node.js 20.
BUNDLER_PACKAGES = {"esbuild": "0.28"}

#: The nonce the example pages' Content-Security-Policy allows.
NONCE = "R2xhZCB5b3UgcmVhZCB0aGlz"
#: A strict policy, as the demo sends: the examples that write
#: ``nonce="{{ g.csp_nonce }}"`` must work under it.
STRICT_CSP = f"script-src 'nonce-{NONCE}' 'strict-dynamic'; object-src 'none'"

PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>examples</title>
{{ jsonp_loader() }}
<script src="/vendor/jquery/dist/jquery.min.js"></script>
</head><body></body></html>
"""

#: A page around one of the docs' template examples.
EXAMPLE_PAGE = """<!doctype html>
<html><head><meta charset="utf-8"><title>example</title></head>
<body>
{}
</body></html>
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

#: The announcement of the endpoint the loader page's deprecation hook hears of.
RETIRING_SINCE = datetime(2026, 11, 1, tzinfo=timezone.utc)
RETIRING_UNTIL = datetime(2099, 1, 1, tzinfo=timezone.utc)
RETIRING_LINK = "https://api.example.com/retiring-jsonp"

#: What every example shows in its ``<p id="user">``: the quickstart's answer.
SHOWS_THE_USER = "() => document.querySelector('#user')?.textContent === 'admin'"

#: A fenced block of Jinja templates in a Markdown document.
TEMPLATE_BLOCK = re.compile(r"^ *```html\+jinja\n(.*?)^ *```", re.MULTILINE | re.DOTALL)


class ExampleApp:
    """The README's quickstart app, run as the README writes it, plus the pages
    of the examples and the caching view of docs/deploy.md; it records the API
    requests it answers.
    """

    def __init__(self, static_folder: Path | None = None) -> None:
        app = run_example("README.md", {})["app"]
        assert isinstance(app, Flask)
        self.app = app
        if static_folder is not None:
            self.app.static_folder = str(static_folder)
        self.requests: list[str] = []
        self.arrived = threading.Event()
        #: The body of ``/example``, a template, and whether it runs under
        #: :data:`STRICT_CSP`.
        self.example = ""
        self.strict_csp = False

        @self.app.get("/")
        def page() -> str:
            return render_template_string(PAGE)

        @self.app.get("/example")
        def example() -> Response:
            if self.strict_csp:
                g.csp_nonce = NONCE
            response = Response(
                render_template_string(EXAMPLE_PAGE.format(self.example))
            )
            if self.strict_csp:
                response.headers["Content-Security-Policy"] = STRICT_CSP
            return response

        @self.app.get("/vendor/<path:filename>")
        def vendor(filename: str) -> Response:
            return send_from_directory(NODE_MODULES, filename)

        @self.app.get("/build/<path:filename>")
        def build(filename: str) -> Response:
            assert self.build_folder is not None
            return send_from_directory(
                self.build_folder, filename, mimetype="text/javascript"
            )

        self.build_folder: Path | None = None

        run_example(
            "docs/deploy.md",
            {
                "app": self.app,
                "jsonp": jsonp,
                "request": request,
                "load_catalog": lambda page: {"page": page},
            },
        )

        # The loader page's deprecation hook reports to the page's own server.
        self.warnings: list[Any] = []
        self.warned = threading.Event()

        @self.app.post("/client-warnings")
        def client_warnings() -> Response:
            self.warnings.append(json.loads(request.get_data()))
            self.warned.set()
            return Response(status=204)

        @self.app.get("/api/retiring-user")
        @jsonp(
            envelope=True,
            deprecation=RETIRING_SINCE,
            sunset=RETIRING_UNTIL,
            deprecation_link=RETIRING_LINK,
        )
        def retiring_user() -> Any:
            return {"user": "admin"}

        @self.app.after_request
        def record(response: Response) -> Response:
            if request.path.startswith("/api/"):
                self.requests.append(request.full_path)
                self.arrived.set()
            return response


@pytest.fixture
def example_server(
    serve_app: Callable[[WSGIApplication], LiveServer], tmp_path: Path
) -> tuple[ExampleApp, LiveServer]:
    example = ExampleApp(static_folder=tmp_path / "static")
    return example, serve_app(example.app)


@pytest.fixture
def example_page(
    page: BrowserPage, example_server: tuple[ExampleApp, LiveServer]
) -> tuple[BrowserPage, ExampleApp, LiveServer]:
    install_npm_packages({"jquery": INTEROP_PACKAGES["jquery"]})
    example, server = example_server
    page.goto(server.page_url("/"))
    page.evaluate(SPY_ON_JSONP)
    return page, example, server


def javascript(document: str) -> list[str]:
    return code_blocks(document, ("js", "javascript"))


def templates(document: str) -> list[str]:
    """The Jinja templates (``html+jinja`` blocks) of ``document``."""
    text = (ROOT / document).read_text(encoding="utf-8")
    return [textwrap.dedent(code) for code in TEMPLATE_BLOCK.findall(text)]


def point_at(code: str, server: LiveServer) -> str:
    for origin in EXAMPLE_ORIGINS:
        code = code.replace(origin, server.api_origin)
    return code


def show_example(
    page: BrowserPage, example: ExampleApp, server: LiveServer, template: str
) -> None:
    """Load a page made of ``template``, under the strict CSP if it uses the
    nonce, and wait until it shows the user.
    """
    example.example = point_at(template, server)
    example.strict_csp = "g.csp_nonce" in template
    page.goto(server.page_url("/example"))
    page.wait_for_function(SHOWS_THE_USER)


#: The loader page's examples, by the way each gets the loader into a page.
LOADER_TEMPLATES = {"classic": 0, "module": 1, "copied file": 2}


def test_every_example_is_run() -> None:
    # The README's one quickstart: the page is a template, with no other script.
    assert len(javascript("README.md")) == 0
    assert len(templates("README.md")) == 1
    assert len(javascript("docs/deploy.md")) == 2
    assert len(templates("docs/loader.md")) == len(LOADER_TEMPLATES)
    # The module's import line, the bundled script, require(), the call with
    # options, preferCors and the deprecation hook.
    assert len(javascript("docs/loader.md")) == 6
    assert len(code_blocks("docs/loader.md", ("ts", "typescript"))) == 1


@pytest.mark.browser
def test_loader_page_call_with_options(
    example_page: tuple[BrowserPage, ExampleApp, LiveServer],
) -> None:
    # The call with options, once the README's too, calls the quickstart view.
    page, example, server = example_page
    code = javascript("docs/loader.md")[3]
    page.evaluate(f"async () => {{\n{point_at(code, server)}\n}}")
    assert page.evaluate("window.outcomes") == [{"data": {"user": "admin"}}]
    (path,) = example.requests
    assert path.startswith("/api/user?id=7&callback=")


@pytest.mark.browser
def test_loader_page_prefer_cors_falls_back_where_cors_is_not_allowed(
    example_page: tuple[BrowserPage, ExampleApp, LiveServer],
) -> None:
    # The quickstart's API sends no CORS headers: the loader falls back to
    # JSONP, and the page gets the same data.
    page, example, server = example_page
    code = javascript("docs/loader.md")[4]
    user = page.evaluate(f"async () => {{\n{point_at(code, server)}\nreturn user;\n}}")
    assert user == {"user": "admin"}
    cors, script = example.requests
    assert cors == "/api/user?"
    assert script.startswith("/api/user?callback=")


@pytest.mark.browser
def test_loader_page_deprecation_hook_reports_the_notice(
    example_page: tuple[BrowserPage, ExampleApp, LiveServer],
) -> None:
    page, example, server = example_page
    code = javascript("docs/loader.md")[5]
    page.evaluate(f"() => {{\n{code}\n}}")
    url = server.api_url("/api/retiring-user")
    page.evaluate(f"async () => {{ await jsonp({url!r}, {{ envelope: true }}); }}")
    assert example.warned.wait(10)
    (notice,) = example.warnings
    assert notice == {
        "url": url,
        "deprecation": "2026-11-01T00:00:00.000Z",
        "sunset": "2099-01-01T00:00:00.000Z",
        "link": RETIRING_LINK,
    }


@pytest.mark.node
def test_loader_page_require_example_runs_in_node(tmp_path: Path) -> None:
    code = javascript("docs/loader.md")[2]
    install_loader_package(tmp_path)
    script = tmp_path / "example.cjs"
    script.write_text(
        code + "console.log(typeof jsonp, jsonp.name, typeof JsonpError);\n",
        encoding="utf-8",
    )
    result = subprocess.run(
        [require_executable("node"), str(script)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["function", "jsonp", "function"]


@pytest.mark.browser
def test_envelope_option_on_a_view_without_the_envelope_rejects(
    example_page: tuple[BrowserPage, ExampleApp, LiveServer],
) -> None:
    # What the README's example did before: the loader page says it rejects.
    page, _, server = example_page
    code = "await jsonp(URL, { envelope: true });"
    page.evaluate(
        f"async () => {{ try {{ {code} }} catch {{}} }}".replace(
            "URL", repr(server.api_url("/api/user"))
        )
    )
    assert page.evaluate("window.outcomes") == [{"error": "http"}]
    assert "not an envelope" in (ROOT / "docs/loader.md").read_text("utf-8")


@pytest.mark.browser
@pytest.mark.parametrize("document", ["README.md", "PYPI.md"])
def test_readme_template_example(
    page: BrowserPage, example_server: tuple[ExampleApp, LiveServer], document: str
) -> None:
    example, server = example_server
    (template,) = templates(document)
    show_example(page, example, server, template)
    assert page.errors == []


@pytest.mark.browser
@pytest.mark.parametrize("way", list(LOADER_TEMPLATES))
def test_loader_page_template_examples(
    page: BrowserPage,
    example_server: tuple[ExampleApp, LiveServer],
    tmp_path: Path,
    way: str,
) -> None:
    example, server = example_server
    template = templates("docs/loader.md")[LOADER_TEMPLATES[way]]
    if way == "copied file":
        # As the page says: the command, then the static file.
        (command,) = [
            line.split("jsonp ", 1)[1].split()
            for line in code_blocks("docs/loader.md", ("sh",))[0].splitlines()
            if "copy-loader" in line
        ]
        assert command[0] == "copy-loader"
        destination = tmp_path / command[1]
        result = CliRunner().invoke(cli, [command[0], str(destination)])
        assert result.exit_code == 0, result.output
        assert "url_for('static', filename='js/jsonp.js')" in template
    show_example(page, example, server, template)
    assert example.requests[0].startswith("/api/user?callback=")
    assert page.errors == []


def test_loader_page_shows_the_html_the_helper_writes() -> None:
    example = ExampleApp()
    page = (ROOT / "docs/loader.md").read_text(encoding="utf-8")
    (written,) = code_blocks("docs/loader.md", ("html",))
    import_line = javascript("docs/loader.md")[0]
    module_template = templates("docs/loader.md")[LOADER_TEMPLATES["module"]]
    with example.app.test_request_context("/"):
        g.csp_nonce = "R"
        assert render_template_string("{{ jsonp_loader() }}") == written.strip()
        assert 'where the app has set `g.csp_nonce = "R"`' in page
        rendered = render_template_string(module_template)
        assert " ".join(import_line.split()) in " ".join(rendered.split())
        module_tag = render_template_string("{{ jsonp_loader(module=True) }}")
    assert module_tag.replace(' nonce="R"', "") in page


@pytest.fixture(scope="module")
def npm_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the loader installed from its npm package, as the page
    says, and the bundler.
    """
    project = tmp_path_factory.mktemp("npm-user")
    install_loader_package(project)
    install_npm_packages({**BUNDLER_PACKAGES, **TYPESCRIPT_PACKAGES})
    return project


def bundle(project: Path, source: str, filename: str) -> Path:
    """Bundle ``source`` as the page says (esbuild, ES module format) into
    ``project/build``.
    """
    (project / "src").mkdir(exist_ok=True)
    (project / "src" / filename).write_text(source, encoding="utf-8")
    output = project / "build" / (Path(filename).stem + ".js")
    esbuild = NODE_MODULES / ".bin" / "esbuild"
    result = subprocess.run(
        [str(esbuild), f"src/{filename}", "--bundle", "--format=esm",
         f"--outfile={output}"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return output


@pytest.mark.browser
@pytest.mark.parametrize("language", ["js", "ts"])
def test_loader_page_npm_examples_bundled(
    page: BrowserPage,
    example_server: tuple[ExampleApp, LiveServer],
    npm_project: Path,
    language: str,
) -> None:
    example, server = example_server
    if language == "js":
        source = javascript("docs/loader.md")[1]
        assert "npx esbuild src/user.js --bundle --format=esm" in (
            ROOT / "docs/loader.md"
        ).read_text("utf-8")
    else:
        (source,) = code_blocks("docs/loader.md", ("ts", "typescript"))
    assert 'from "flask-jsonp-loader"' in source
    output = bundle(npm_project, point_at(source, server), f"user.{language}")
    example.build_folder = output.parent
    show_example(
        page,
        example,
        server,
        f'<p id="user"></p>\n<script type="module" src="/build/{output.name}">'
        "</script>",
    )
    assert page.errors == []


@pytest.mark.node
def test_loader_page_typescript_example_type_checks(npm_project: Path) -> None:
    (source,) = code_blocks("docs/loader.md", ("ts", "typescript"))
    (npm_project / "src").mkdir(exist_ok=True)
    (npm_project / "src" / "checked.ts").write_text(source, encoding="utf-8")
    tsc = NODE_MODULES / "typescript" / "bin" / "tsc"
    # The settings the page names: "moduleResolution": "bundler".
    assert '"moduleResolution": "bundler"' in (ROOT / "docs/loader.md").read_text(
        "utf-8"
    )
    result = subprocess.run(
        [require_executable("node"), str(tsc), "--strict", "--noEmit",
         "--target", "es2022", "--lib", "es2022,dom",
         "--module", "esnext", "--moduleResolution", "bundler",
         "src/checked.ts"],
        cwd=npm_project,
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.browser
def test_deploy_fixed_callback_name_example(
    example_page: tuple[BrowserPage, ExampleApp, LiveServer],
) -> None:
    page, example, server = example_page
    code = point_at(javascript("docs/deploy.md")[0], server)
    catalog = page.evaluate(f"async () => {{\n{code}\nreturn catalog;\n}}")
    assert catalog == {"page": 2}
    # The example's comment names the request it makes.
    assert f"// GET {server.api_url(example.requests[0])}" in code


@pytest.mark.browser
def test_deploy_jquery_example_sends_a_stable_url(
    example_page: tuple[BrowserPage, ExampleApp, LiveServer],
) -> None:
    page, example, server = example_page
    code = point_at(javascript("docs/deploy.md")[1], server)
    page.evaluate(f"() => {{\n{code}\n}}")
    assert example.arrived.wait(REQUEST_TIMEOUT)
    # A fixed name and no "_=" timestamp: the URL is the same on every call, so
    # caches can hit (jQuery puts the callback first).
    assert example.requests == ["/api/catalog?callback=onCatalogPage2&page=2"]
