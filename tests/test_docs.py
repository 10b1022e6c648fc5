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
from flask_caching import Cache

import flask_jsonp
from flask_jsonp import jsonp
from flask_jsonp import loader
from tests.company.support import needs_caching_that_stores_refusals

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


def security_table() -> list[list[str]]:
    """The cells of each row of the table SECURITY.md opens with."""
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    lines = text.split("\n## ", 1)[0].splitlines()
    table = [line for line in lines if line.startswith("|")]
    header, rule, *rows = table
    assert set(rule) <= {"|", "-"}
    assert [cell.strip() for cell in header.strip("|").split("|")] == [
        "threat",
        "what flask-jsonp does",
        "what you must do",
        "shown by",
    ]
    return [[cell.strip() for cell in row.strip("|").split("|")] for row in rows]


def security_table_tests() -> list[tuple[str, str]]:
    return sorted(
        {test for row in security_table() for test in TEST_LINK.findall(row[3])}
    )


def test_security_md_opens_with_one_table_row_per_threat() -> None:
    text = (ROOT / "SECURITY.md").read_text(encoding="utf-8")
    # The table comes before any section: a reader meets it first.
    assert text.index("| threat |") < text.index("\n## ")
    sections = re.findall(r"^### (\d+)\. ", text, re.MULTILINE)
    rows = security_table()
    numbers = [re.match(r"\[(\d+)\. ", row[0]) for row in rows]
    assert [match[1] for match in numbers if match] == [
        n
        for n in sections
        if n != "13"  # what the package assumes: no threat
    ]
    for row in rows:
        assert len(row) == 4, row
        assert all(row), row
        # Every threat names at least one test, as a pytest node id.
        assert TEST_LINK.findall(row[3]), row[0]
        assert TEST_LINK.sub("", row[3]).strip(" `;") == "", row[3]


@pytest.mark.parametrize(("module_path", "name"), security_table_tests())
def test_every_test_the_security_table_names_exists(
    module_path: str, name: str
) -> None:
    module = importlib.import_module("tests." + module_path.replace("/", "."))
    function = getattr(module, name, None)
    assert callable(function), f"tests/{module_path}.py::{name}"
    assert name.startswith("test_")


@needs_caching_that_stores_refusals
def test_a_cache_above_jsonp_without_the_extension_serves_a_refusal_to_all() -> None:
    # What README.md, docs/quickstart.md and SECURITY.md warn of, and why they
    # say to set up JSONP(app) when anything is stacked above @jsonp.
    for with_extension in (False, True):
        app = Flask(__name__)
        cache = Cache(app, config={"CACHE_TYPE": "SimpleCache"})
        if with_extension:
            flask_jsonp.JSONP(app)

        def user() -> dict[str, str]:
            return {"user": "admin"}

        app.get("/api/user")(cache.cached()(jsonp(user)))
        client = app.test_client()
        assert client.get("/api/user?callback=alert(1)").status_code == 400
        # Then any page, with a good callback or none.
        statuses = [
            client.get(url).status_code
            for url in ("/api/user", "/api/user?callback=onUser")
        ]
        assert statuses == ([200, 200] if with_extension else [400, 400])


#: The extension object named like the decorator it hides: copying it gave
#: ``TypeError: 'JSONP' object is not callable`` at the first ``@jsonp``.
SHADOWING_NAME = re.compile(r"\bjsonp\s*=\s*JSONP\(")


def documentation_and_sources() -> list[Path]:
    paths = [ROOT / "README.md", ROOT / "PYPI.md", ROOT / "SECURITY.md"]
    for folder, patterns in [
        (ROOT / "docs", ("*.md", "*.rst", "*.py")),
        (ROOT / "flask_jsonp", ("*.py", "*.md")),
        (ROOT / "demo_site", ("*.py", "*.html", "*.md")),
    ]:
        for pattern in patterns:
            paths += [p for p in folder.rglob(pattern) if "_build" not in p.parts]
    return paths


def test_no_example_names_the_extension_jsonp() -> None:
    paths = documentation_and_sources()
    assert ROOT / "flask_jsonp" / "extension.py" in paths
    offenders = [
        f"{path.relative_to(ROOT)}: {line.strip()}"
        for path in paths
        for line in path.read_text(encoding="utf-8").splitlines()
        if SHADOWING_NAME.search(line)
    ]
    assert offenders == []


#: A Markdown link's target, without its ``#fragment``.
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]*)[^)]*\)")


def readme_local_links() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return [
        target
        for target in MARKDOWN_LINK.findall(text)
        if target and "://" not in target
    ]


def test_readme_local_links_exist() -> None:
    missing = [link for link in readme_local_links() if not (ROOT / link).exists()]
    assert readme_local_links()
    assert missing == []


#: The pages the README's short front door sends its readers to, for what it
#: no longer says itself.
README_SENDS_TO = [
    "SECURITY.md",
    "BENCHMARKS.md",
    "CONTRIBUTING.md",
    "docs/quickstart.md",
    "docs/configuration.md",
    "docs/callbacks.md",
    "docs/loader.md",
    "docs/loader-api.md",
    "docs/extensions.md",
    "docs/deploy.md",
    "docs/retiring.md",
    "docs/demo.md",
    "docs/api.rst",
]


@pytest.mark.parametrize("document", README_SENDS_TO)
def test_readme_links_the_documents(document: str) -> None:
    assert document in readme_local_links()


def test_readme_is_a_front_door() -> None:
    # A user found the 18 KB README a design document; Flask-CORS's is ~5 KB.
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert len(readme) < 8_000
    for command in ("make demo", "make test"):
        assert command in readme
    # One quickstart: the server's view and the page that calls it.
    assert len(python_blocks("README.md")) == 1
    kinds = [kind for kind, _ in CODE_BLOCK_ANY.findall(readme)]
    assert kinds.count("html+jinja") == 1


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


#: A directive of docs/api.rst that documents one public object, and its name.
API_DIRECTIVE = re.compile(
    r"^\.\. (?:auto)?(?:function|class|exception|data):: (\w+)", re.MULTILINE
)

#: What makes an example that ``make doctest`` runs: Sphinx's doctest builder
#: runs ``testcode`` and ``doctest`` blocks, and the ``>>>`` blocks of the
#: docstrings autodoc pulls in.
RUN_EXAMPLE_MARKERS = (".. testcode::", ".. doctest::", ">>> ")


def api_entries() -> dict[str, str]:
    """Each object documented in docs/api.rst: the text indented below its
    directive, which Sphinx shows after the docstring.
    """
    text = (ROOT / "docs" / "api.rst").read_text(encoding="utf-8")
    entries = {}
    for match in API_DIRECTIVE.finditer(text):
        body = []
        for line in text[match.end() :].splitlines()[1:]:
            if line and not line.startswith(" "):
                break
            body.append(line)
        entries[match[1]] = "\n".join(body)
    return entries


@pytest.mark.parametrize("name", flask_jsonp.__all__)
def test_every_public_name_has_an_example_that_doctest_runs(name: str) -> None:
    entries = api_entries()
    assert name in entries, f"{name} has no entry in docs/api.rst"
    documented = getattr(flask_jsonp, name)
    # Constants and signals have their text in api.rst; the rest, a docstring.
    own_docstring = inspect.isfunction(documented) or inspect.isclass(documented)
    texts = [entries[name], inspect.getdoc(documented) if own_docstring else ""]
    assert any(
        marker in (text or "") for text in texts for marker in RUN_EXAMPLE_MARKERS
    ), f"{name} has no example that make doctest runs"


@pytest.mark.parametrize("signal", ["jsonp_answered", "jsonp_refused"])
def test_signal_entries_show_a_receiver(signal: str) -> None:
    entry = api_entries()[signal]
    receiver = re.search(r"def (\w+)\(sender, [^)]*\*\*extra\):", entry)
    assert receiver, entry
    assert f"{signal}.connect({receiver[1]}, app)" in entry


def test_api_reference_gives_get_responses_return_type(api_page: ApiEntries) -> None:
    text = api_page.text("flask_jsonp.JsonpRequestError.get_response")
    assert "Return type: Response" in text, text
