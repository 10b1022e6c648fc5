"""The documents point at things that exist."""

from __future__ import annotations

import importlib
import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask import request

from flask_jsonp import jsonp

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


@pytest.mark.parametrize("document", ["SECURITY.md", "BENCHMARKS.md", "docs/deploy.md"])
def test_documents_the_readme_links_exist(document: str) -> None:
    assert f"({document})" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert (ROOT / document).is_file()


#: A fenced code block in a Markdown document: its language and its code.
CODE_BLOCK = re.compile(r"^ *```(\w+)\n(.*?)^ *```", re.MULTILINE | re.DOTALL)

#: The Markdown documents whose Python examples the tests below run. The pages
#: written for Sphinx use ``{testcode}`` and ``{doctest}``, which ``make
#: doctest`` runs; they must hold no plain Python blocks.
RUN_HERE = {"README.md": 1, "docs/deploy.md": 1}


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
    documents = ["README.md", *pages]
    found = {name: len(python_blocks(name)) for name in documents}
    assert {name: count for name, count in found.items() if count} == RUN_HERE


def test_readme_quickstart_answers_as_shown() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    app = run_example("README.md", {})["app"]
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
