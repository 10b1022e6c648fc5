"""The documents point at things that exist."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

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
