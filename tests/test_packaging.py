"""What a user installs and what a packager downloads: the wheel and the sdist.

The wheel holds only the package. The sdist is the whole project: a packager can
unpack it and run the unit tests offline, which one test here does.
"""

from __future__ import annotations

import email.parser
import os
import re
import subprocess
import sys
import tarfile
import zipfile
from email.message import Message
from pathlib import Path

import pytest

from tests.tools import missing_tool

ROOT = Path(__file__).parent.parent
PACKAGE = ROOT / "flask_jsonp"
#: Moves to ``tests/loader_source.py``: a build tool, not part of the package.

#: What the sdist must hold besides the package, for its tests and docs to run.
SDIST_REQUIRED = [
    "LICENSE.txt",
    "README.md",
    "PYPI.md",
    "CHANGES.md",
    "SECURITY.md",
    "BENCHMARKS.md",
    "CONTRIBUTING.md",
    "Makefile",
    "noxfile.py",
    "pyproject.toml",
    "setup.cfg",
    "docs/conf.py",
    "docs/index.md",
    "docs/deploy.md",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/tools.py",
    "tests/node.py",
    "tests/js/jsonp_runner.js",
    "tests/browser/__init__.py",
    "tests/browser/conftest.py",
]

#: Tracked files that are no use outside a git checkout.
SDIST_OMITS = {".gitignore"}


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The sdist, and the wheel built from it as pip would, offline."""
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out),
         str(ROOT)],
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip
    (sdist,) = out.glob("flask_jsonp-*.tar.gz")
    (wheel,) = out.glob("flask_jsonp-*.whl")
    return sdist, wheel


@pytest.fixture(scope="module")
def wheel(dists: tuple[Path, Path]) -> zipfile.ZipFile:
    return zipfile.ZipFile(dists[1])


@pytest.fixture(scope="module")
def sdist_names(dists: tuple[Path, Path]) -> set[str]:
    """The sdist's member files, relative to its top folder."""
    with tarfile.open(dists[0]) as archive:
        return {
            member.name.split("/", 1)[1]
            for member in archive.getmembers()
            if member.isfile()
        }


def wheel_metadata(wheel: zipfile.ZipFile) -> Message:
    (name,) = [n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")]
    return email.parser.Parser().parsestr(wheel.read(name).decode())


def source_files(folder: Path) -> set[str]:
    return {
        path.relative_to(ROOT).as_posix()
        for path in folder.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts
    }


def test_wheel_holds_only_the_package(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    (dist_info,) = {n.split("/")[0] for n in names if ".dist-info/" in n}
    assert {n.split("/")[0] for n in names} == {"flask_jsonp", dist_info}
    for name in names:
        if not name.startswith("flask_jsonp/"):
            continue
        inside = name.removeprefix("flask_jsonp/")
        module = "/" not in inside and inside.endswith(".py")
        assert module or inside == "py.typed" or inside.startswith("static/"), name


def test_wheel_ships_every_module_the_types_and_the_loader(
    wheel: zipfile.ZipFile,
) -> None:
    names = set(wheel.namelist())
    modules = {n for n in source_files(PACKAGE) if n.count("/") == 1}
    assert {m for m in modules if m.endswith(".py")} <= names
    assert "flask_jsonp/py.typed" in names
    # Every file of the loader, whatever new ones the static folder gains.
    static = source_files(PACKAGE / "static")
    loader = {"jsonp.js", "jsonp.mjs", "jsonp.d.ts", "jsonp.d.mts", "package.json"}
    assert {f"flask_jsonp/static/{name}" for name in loader} <= static
    assert static <= names


def test_wheel_ships_no_build_tool(wheel: zipfile.ZipFile) -> None:
    # make loader's generator is a development tool, not part of the package.
    assert not [name for name in wheel.namelist() if "loader_source" in name]


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    metadata = wheel_metadata(wheel)
    assert metadata["Name"] == "flask-jsonp"
    assert metadata["Requires-Python"] == ">=3.10"
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE.txt"]
    classifiers = metadata.get_all("Classifier") or []
    assert "Framework :: Flask" in classifiers
    for minor in range(10, 14):
        assert f"Programming Language :: Python :: 3.{minor}" in classifiers
    # Only the users' extra is published; the tools are dependency groups.
    assert metadata.get_all("Provides-Extra") == ["orjson", "prometheus"]
    requires = metadata.get_all("Requires-Dist") or []
    assert "flask>=2.3" in requires
    assert "markupsafe>=2.1" in requires
    assert 'flask-orjson>=2.0; extra == "orjson"' in requires
    assert 'prometheus-client>=0.20; extra == "prometheus"' in requires
    assert len(requires) == 4, requires
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "jsonp = flask_jsonp.loader:cli" in wheel.read(entry_points).decode()
    (license_file,) = [n for n in wheel.namelist() if n.endswith("/LICENSE.txt")]
    assert "BSD 3-Clause License" in wheel.read(license_file).decode()


#: A Markdown link or image, or an HTML ``href``/``src``: its target.
LINK_TARGET = re.compile(r"\]\(([^)\s]+)[^)]*\)|(?:href|src)=[\"']([^\"']+)")


def test_long_description_is_the_pypi_page(wheel: zipfile.ZipFile) -> None:
    metadata = wheel_metadata(wheel)
    assert metadata["Description-Content-Type"] == "text/markdown"
    description = metadata.get_payload()
    assert isinstance(description, str)
    assert description.strip() == (ROOT / "PYPI.md").read_text("utf-8").strip()


def test_pypi_page_speaks_to_users_with_absolute_links() -> None:
    text = (ROOT / "PYPI.md").read_text(encoding="utf-8")
    targets = [markdown or html for markdown, html in LINK_TARGET.findall(text)]
    assert targets, "the page links to Flask's documentation"
    assert [t for t in targets if not t.startswith("https://")] == []
    # Contributors' commands belong to the repository's README, not to PyPI.
    for command in ("make ", "apt-get", ".ci/run", "pytest", "tox", "nox"):
        assert command not in text
    assert "pip install flask-jsonp" in text


def test_classifiers_describe_a_flask_extension(wheel: zipfile.ZipFile) -> None:
    classifiers = wheel_metadata(wheel).get_all("Classifier") or []
    assert "Framework :: Flask" in classifiers
    assert "Topic :: Internet :: WWW/HTTP :: Dynamic Content" in classifiers
    assert not [c for c in classifiers if "Application Frameworks" in c]


def test_twine_check_passes(dists: tuple[Path, Path]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, dists)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if "No module named twine" in result.stderr:
        missing_tool("twine is not installed (pip install --group test)")
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_sdist_holds_the_tests_docs_and_tools(sdist_names: set[str]) -> None:
    missing = [name for name in SDIST_REQUIRED if name not in sdist_names]
    assert not missing
    assert not [name for name in sdist_names if name.startswith("docs/_build/")]
    assert not [name for name in sdist_names if "__pycache__" in name]


def test_sdist_holds_every_tracked_file(sdist_names: set[str]) -> None:
    try:
        tracked = subprocess.run(
            ["git", "ls-files"],
            cwd=ROOT,
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout.split()
    except (OSError, subprocess.CalledProcessError):
        missing_tool("not a git checkout, or git is not installed")
    # Files deleted in the work tree but not yet in git are no loss.
    expected = {n for n in tracked if (ROOT / n).is_file()} - SDIST_OMITS
    assert sorted(expected - sdist_names) == []


def test_unit_tests_pass_from_the_unpacked_sdist(
    dists: tuple[Path, Path], tmp_path: Path
) -> None:
    with tarfile.open(dists[0]) as archive:
        archive.extractall(tmp_path, filter="data")
    (root,) = tmp_path.iterdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    # The sdist's own copy of the package is the one imported, not this one.
    where = subprocess.run(
        [sys.executable, "-c", "import flask_jsonp; print(flask_jsonp.__file__)"],
        cwd=root,
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert Path(where.stdout.strip()).is_relative_to(root)
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         # The unit tests, as the version matrix runs them (noxfile's
         # UNIT_TESTS: the short soak needs the bench group's gunicorn).
         "-m", "not browser and not node and not load and not nginx",
         # This file would build the sdist again from inside the sdist.
         "--ignore=tests/test_packaging.py"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
    assert " passed" in result.stdout.splitlines()[-1]
