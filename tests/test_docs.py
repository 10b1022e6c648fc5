"""The documents point at things that exist."""

from __future__ import annotations

import importlib
import inspect
import re
import subprocess
import sys
import textwrap
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import click
import pytest
from flask import Flask
from flask import request

import flask_jsonp
from flask_jsonp import jsonp
from flask_jsonp import loader

ROOT = Path(__file__).parent.parent

#: ``tests/test_x.py::test_name`` or ``tests/test_x.py::TestClass::test_name``.
TEST_LINK = re.compile(r"tests/([\w/]+)\.py::(\w+(?:::\w+)*)")


def linked_tests() -> list[tuple[str, str]]:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    return sorted(set(TEST_LINK.findall(text)))


def test_security_md_links_tests() -> None:
    assert len(linked_tests()) >= 20


@pytest.mark.parametrize(("module_path", "name"), linked_tests())
def test_every_test_security_md_links_exists(module_path: str, name: str) -> None:
    module = importlib.import_module("tests." + module_path.replace("/", "."))
    target: object = module
    for part in name.split("::"):
        target = getattr(target, part)
    assert callable(target)
    assert name.split("::")[-1].startswith("test_")


@pytest.mark.parametrize(
    "document", ["SECURITY.md", "BENCHMARKS.md", "docs/deploy.md", "docs/loader.md"]
)
def test_documents_the_readme_links_exist(document: str) -> None:
    assert f"({document})" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / document).is_file()


#: A fenced code block in a Markdown document: its language and its code.
CODE_BLOCK = re.compile(r"^ *```(\w+)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)

#: The Markdown documents whose Python examples the tests below run. The pages
#: written for Sphinx use ``{testcode}`` and ``{doctest}``, which ``make
#: doctest`` runs; they must hold no plain Python blocks.
RUN_HERE = {
    "README.md": 1,
    "PYPI.md": 1,
    "docs/configuration.md": 1,
    "docs/deploy.md": 1,
}


def code_blocks(document: str, languages: tuple[str, ...]) -> list[str]:
    """The code of the fenced blocks of ``document`` in one of ``languages``."""
    text = (ROOT / document).read_text(encoding="utf-8")
    return [
        textwrap.dedent(code)
        for language, code in CODE_BLOCK.findall(text)
        if language in languages
    ]


def python_blocks(document: str) -> list[str]:
    return code_blocks(document, ("python", "py"))


def run_example(document: str, namespace: dict[str, Any]) -> dict[str, Any]:
    (block,) = python_blocks(document)
    # Flask(__name__) finds no root folder for a module named "builtins".
    namespace.setdefault("__name__", "docs_example")
    exec(compile(block, document, "exec"), namespace)
    return namespace


def test_every_python_example_is_run() -> None:
    pages = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))
    documents = ["README.md", "PYPI.md", *pages]
    found = {name: len(python_blocks(name)) for name in documents}
    assert {name: count for name, count in found.items() if count} == RUN_HERE


@pytest.mark.parametrize("document", ["README.md", "PYPI.md"])
def test_quickstart_answers_as_shown(document: str) -> None:
    readme = (ROOT / document).read_text(encoding="utf-8")
    app = run_example(document, {})["app"]
    client = app.test_client()
    plain = client.get("/api/user")
    assert plain.mimetype == "application/json"
    assert plain.get_data(as_text=True).strip() in readme
    script = client.get("/api/user?callback=onBack")
    assert script.mimetype == "text/javascript"
    assert script.get_data(as_text=True) in readme
    assert client.post("/api/user?callback=onBack").status_code == 405
    refused = client.get("/api/user?callback=alert(1)")
    assert refused.status_code == 400
    assert refused.json is not None and refused.json["error"] == "invalid_callback"


def test_deploy_caching_example_keeps_the_views_cache_header() -> None:
    app = Flask(__name__)
    namespace = run_example(
        "docs/deploy.md",
        {
            "app": app,
            "jsonp": jsonp,
            "request": request,
            "load_catalog": lambda page: {"page": page},
        },
    )
    assert "catalog" in namespace
    answer = app.test_client().get("/api/catalog?page=2&callback=onCatalogPage2")
    assert answer.headers["Cache-Control"] == "public, max-age=300"
    assert answer.get_data(as_text=True) == (
        '/**/typeof onCatalogPage2 === "function" && onCatalogPage2({"page":2});'
    )


def test_configuration_example_opens_one_view_to_every_page() -> None:
    app = Flask(__name__)
    run_example("docs/configuration.md", {"app": app, "jsonp": jsonp})
    client = app.test_client()
    for page in ("https://app.example/", "https://elsewhere.example/"):
        answer = client.get("/api/status?callback=show", headers={"Referer": page})
        assert answer.status_code == 200, page
        assert answer.get_data(as_text=True).startswith("/**/typeof show")


@pytest.mark.parametrize(
    ("page", "document"),
    [
        ("security.md", "SECURITY.md"),
        ("benchmarks.md", "BENCHMARKS.md"),
        ("changes.md", "CHANGES.md"),
        ("contributing.md", "CONTRIBUTING.md"),
    ],
)
def test_docs_include_the_root_documents_rather_than_copy_them(
    page: str, document: str
) -> None:
    text = (ROOT / "docs" / page).read_text(encoding="utf-8")
    assert f"```{{include}} ../{document}" in text
    assert len(text.splitlines()) <= 3


@pytest.mark.parametrize(
    ("page", "marker"),
    [
        ("docs/callbacks.md", "```{include}"),
        ("docs/configuration.md", "```{include}"),
        ("docs/loader.md", "```{include}"),
        ("docs/callbacks.md", "(above)"),
        ("docs/configuration.md", "(above)"),
        ("docs/loader.md", "make loader"),
    ],
)
def test_guide_pages_are_written_for_the_docs(page: str, marker: str) -> None:
    # README slices left these pages pointing at text they do not hold.
    assert marker not in (ROOT / page).read_text(encoding="utf-8")


#: How the PyPI release is installed, once there is one.
RELEASE_INSTALL = re.compile(r"pip install '?flask-jsonp")


@pytest.mark.parametrize("document", ["README.md", "docs/index.md"])
def test_install_instructions_work_before_a_release(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    assert "not on PyPI yet" in text
    for command in ("pip install -e .", "python -m build", "dist/flask_jsonp-*.whl"):
        assert command in text
    # The release's command is offered only for when the release exists.
    paragraphs = text.split("\n\n")
    (when_released,) = [p for p in paragraphs if "Once a release" in p]
    assert RELEASE_INSTALL.search(when_released)
    assert not [
        p for p in paragraphs if p is not when_released and RELEASE_INSTALL.search(p)
    ]


class ApiEntries(HTMLParser):
    """A Sphinx page's entries: each documented object's id, kind (``class``,
    ``exception``, ``data``, ``option``...) and description text, its nested
    members' text included; and the page's ids and text.
    """

    def __init__(self) -> None:
        super().__init__()
        self.kinds: dict[str, str] = {}
        self.all_ids: set[str] = set()
        self._texts: dict[str, list[str]] = {}
        self._page: list[str] = []
        # [kind, id] of each open <dl>; the id comes with the entry's first <dt>.
        self._open: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        html_id = attributes.get("id")
        if html_id:
            self.all_ids.add(html_id)
        classes = (attributes.get("class") or "").split()
        if tag == "dl":
            domain = classes[:1] in (["py"], ["std"])
            self._open.append([classes[1] if domain and len(classes) > 1 else "", ""])
        elif tag == "dt" and html_id and self._open and self._open[-1][0]:
            entry = self._open[-1]
            if not entry[1]:
                entry[1] = html_id
                self.kinds[html_id] = entry[0]
                self._texts[html_id] = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "dl" and self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        self._page.append(data)
        for _, name in self._open:
            if name:
                self._texts[name].append(data)

    def text(self, name: str) -> str:
        """The text of entry ``name``, whitespace collapsed."""
        return " ".join("".join(self._texts[name]).split())

    @property
    def page_text(self) -> str:
        return " ".join("".join(self._page).split())


@pytest.fixture(scope="module")
def api_page(tmp_path_factory: pytest.TempPathFactory) -> ApiEntries:
    """The API reference page, built as ``make docs`` builds it."""
    pytest.importorskip("sphinx", reason="the docs dependency group is not installed")
    out = tmp_path_factory.mktemp("html")
    # ``-m sphinx`` from the root: autodoc imports this checkout's flask_jsonp.
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-q", "-E", "-W", "--keep-going", "-n",
         "-b", "html", "docs", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    parser = ApiEntries()
    parser.feed((out / "api.html").read_text(encoding="utf-8"))
    return parser


#: The first words of the docstrings of Python's own types, which autodoc shows
#: for a constant that has none of its own.
BUILTIN_DOCSTRINGS = [
    "Built-in immutable sequence",
    "Build an immutable unordered collection",
    "frozenset() -> empty frozenset",
    "str(object='') -> str",
    "dict() -> new empty dictionary",
]


@pytest.mark.parametrize("name", flask_jsonp.__all__)
def test_api_reference_describes_every_public_name(
    api_page: ApiEntries, name: str
) -> None:
    entry = f"flask_jsonp.{name}"
    assert entry in api_page.kinds, f"{name} has no entry in docs/api.rst"
    text = api_page.text(entry)
    assert len(text) > 40, text
    for builtin in BUILTIN_DOCSTRINGS:
        assert builtin not in text


@pytest.mark.parametrize(
    "entry",
    [
        "flask_jsonp.callback.BROWSER_GLOBALS",
        "flask_jsonp.callback.REFUSAL_REASONS",
        "flask_jsonp.callback.LIBRARY_GLOBALS",
        "flask_jsonp.callback.SINK_SEGMENTS",
    ],
)
def test_api_reference_constants_have_their_own_text(
    api_page: ApiEntries, entry: str
) -> None:
    text = api_page.text(entry)
    assert len(text) > 40, text
    for builtin in BUILTIN_DOCSTRINGS:
        assert builtin not in text


def test_api_reference_exceptions_have_no_return_type(api_page: ApiEntries) -> None:
    exceptions = [n for n, kind in api_page.kinds.items() if kind == "exception"]
    assert len(exceptions) >= 5
    for name in exceptions:
        assert "Return type: None" not in api_page.text(name), name
        # Werkzeug's constructor arguments are not what a user calls.
        assert "SansIOResponse" not in api_page.text(name), name


def test_api_reference_has_the_template_helper(api_page: ApiEntries) -> None:
    assert api_page.kinds.get("jsonp_loader") == "function"
    text = api_page.text("jsonp_loader")
    for parameter in inspect.signature(loader.jsonp_loader).parameters:
        assert parameter in text
    assert "flask_jsonp.loader_file" in text


def test_api_reference_has_every_cli_command_and_option(
    api_page: ApiEntries,
) -> None:
    html_ids = api_page.all_ids
    assert loader.cli.commands
    for name, command in loader.cli.commands.items():
        assert f"flask jsonp {name}" in api_page.page_text
        for parameter in command.params:
            if isinstance(parameter, click.Option):
                for option in parameter.opts:
                    assert (
                        f"cmdoption-flask-jsonp-{name}-{option.lstrip('-')}" in html_ids
                    )
            else:
                assert (parameter.name or "").upper() in api_page.page_text


#: The longest code line the docs' theme shows without a scroll bar, which hid
#: the end of the Trusted Types policy line.
MAX_CODE_LINE = 88


@pytest.mark.parametrize(
    "page", sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("docs/*.md"))
)
def test_docs_code_lines_fit_the_page(page: str) -> None:
    text = (ROOT / page).read_text(encoding="utf-8")
    blocks = [
        code
        for kind, code in CODE_BLOCK_ANY.findall(text)
        if not kind.startswith("{") or kind in CODE_DIRECTIVES
    ]
    long_lines = [
        line
        for code in blocks
        for line in code.splitlines()
        if len(line) > MAX_CODE_LINE
    ]
    assert long_lines == []


#: The MyST directives whose content is code; the others (``{list-table}``,
#: ``{toctree}``) hold Markdown, which wraps.
CODE_DIRECTIVES = ("{testcode}", "{testoutput}", "{doctest}", "{code-block}")

#: Any fenced block, whatever its language or directive (``html+jinja``,
#: ``{testcode}``).
CODE_BLOCK_ANY = re.compile(r"^ *```(\S*)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)
