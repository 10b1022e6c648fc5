"""The JavaScript API page, docs/loader-api.md, documents exactly the loader's
public surface as ``jsonp.d.ts`` declares it: each option, each default, each
error code, each property of the error and of the deprecation notice, and each
exported name. A name added to the types and not to the page, or left on the
page after it left the types, fails here.
"""

from __future__ import annotations

import re

import pytest

from tests.test_docs import ROOT

TYPES = (ROOT / "flask_jsonp" / "static" / "jsonp.d.ts").read_text(encoding="utf-8")
PAGE_PATH = ROOT / "docs" / "loader-api.md"
PAGE = PAGE_PATH.read_text(encoding="utf-8")

#: A member of an interface or class body, at its top level (two spaces in).
MEMBER = re.compile(r"^  (?:readonly )?(\w+)\??:", re.MULTILINE)

#: What ``JsonpError`` has from ``Error`` rather than from its own declaration.
INHERITED_FROM_ERROR = {"message"}


def declaration(opening: str) -> str:
    """The body of the declaration that starts with ``opening``, up to the
    closing brace at the start of a line.
    """
    # \b: "interface Jsonp" is not the start of "interface JsonpOptions".
    match = re.search(
        rf"^{re.escape(opening)}\b[^\n]*\{{\n(.*?)^\}}",
        TYPES,
        re.MULTILINE | re.DOTALL,
    )
    assert match, opening
    return match[1]


def members(opening: str) -> set[str]:
    return set(MEMBER.findall(declaration(opening)))


def declared_error_codes() -> set[str]:
    match = re.search(r"^export type JsonpErrorCode =(.*?);", TYPES, re.M | re.S)
    assert match
    # The codes are the quoted strings; the comments between them quote none.
    return set(re.findall(r"'([\w-]+)'", match[1]))


def declared_exports() -> set[str]:
    return set(
        re.findall(
            r"^export (?:declare )?(?:type|interface|class|const) (\w+)",
            TYPES,
            re.MULTILINE,
        )
    )


def section(heading: str) -> str:
    """The text of the page under ``heading`` (a whole heading line), up to the
    next heading of the same or a higher level.
    """
    level = heading.split(" ", 1)[0]
    start = PAGE.index(f"\n{heading}\n") + len(heading) + 2
    ends = [
        match.start()
        for match in re.finditer(r"^(#+) ", PAGE[start:], re.MULTILINE)
        if len(match[1]) <= len(level)
    ]
    return PAGE[start : start + ends[0]] if ends else PAGE[start:]


def table_names(text: str) -> set[str]:
    """The names in backquotes that start the rows of the tables in ``text``."""
    return set(re.findall(r"^\| `\"?([\w.-]+)\"?` \|", text, re.MULTILINE))


def headings(text: str, prefix: str = "") -> set[str]:
    return set(re.findall(rf"^### `{re.escape(prefix)}(\w+)`$", text, re.MULTILINE))


DOCUMENTED = {
    "options": (
        lambda: members("export interface JsonpOptions"),
        lambda: headings(section("## Options")),
    ),
    "defaults": (
        lambda: members("export interface JsonpDefaults"),
        lambda: headings(section("## `jsonp.defaults`"), "jsonp.defaults."),
    ),
    "deprecation notice": (
        lambda: members("export interface JsonpDeprecation"),
        lambda: table_names(section("### `jsonp.defaults.onDeprecation`")),
    ),
    "error properties": (
        lambda: members("export declare class JsonpError") | INHERITED_FROM_ERROR,
        lambda: table_names(section("## `JsonpError`").split("\n### ")[0]),
    ),
    "error codes": (
        declared_error_codes,
        lambda: table_names(section("### Error codes")),
    ),
    "exported names": (
        declared_exports,
        lambda: set(re.findall(r"^- `(\w+)`", section("## Exported names"), re.M)),
    ),
}


@pytest.mark.parametrize("kind", list(DOCUMENTED))
def test_the_page_documents_exactly_what_the_types_declare(kind: str) -> None:
    declared, documented = (read() for read in DOCUMENTED[kind])
    assert len(declared) >= 2, f"the {kind} of jsonp.d.ts were not found"
    assert sorted(declared - documented) == [], f"{kind} missing from the page"
    assert sorted(documented - declared) == [], f"{kind} the types do not declare"


def test_the_types_are_read_in_full() -> None:
    # The parsing above would pass on an empty page and empty types: these are
    # the names of 0.1, counted.
    assert len(members("export interface JsonpOptions")) == 10
    assert "preferCors" in members("export interface JsonpOptions")
    assert "onDeprecation" in members("export interface JsonpDefaults")
    assert declared_error_codes() == {
        "network",
        "no-callback",
        "timeout",
        "http",
        "setup",
    }
    assert {"jsonp", "JsonpError"} <= declared_exports()


@pytest.mark.parametrize("document", ["docs/loader-api.md", "docs/loader.md"])
def test_the_pages_name_only_defaults_that_exist(document: str) -> None:
    text = (ROOT / document).read_text(encoding="utf-8")
    named = set(re.findall(r"jsonp\.defaults\.(\w+)", text))
    assert named
    assert sorted(named - members("export interface JsonpDefaults")) == []


def test_the_page_names_the_loaders_own_properties() -> None:
    # jsonp.JsonpError and jsonp.defaults, the members of the Jsonp interface.
    properties = members("export interface Jsonp")
    assert properties == {"JsonpError", "defaults"}
    for name in properties:
        assert f"jsonp.{name}" in PAGE


def test_the_page_is_in_the_docs_next_to_the_loader_guide() -> None:
    index = (ROOT / "docs" / "index.md").read_text(encoding="utf-8")
    assert "\nloader\nloader-api\n" in index
    assert "{doc}`loader-api`" in (ROOT / "docs" / "loader.md").read_text("utf-8")
