"""What a user installs: the wheel's files and metadata."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--no-build-isolation", "--wheel-dir", str(out), str(ROOT)],
        check=True,
        timeout=300,
    )  # fmt: skip
    (path,) = out.glob("flask_jsonp-*.whl")
    return zipfile.ZipFile(path)


def test_wheel_ships_the_package_types_and_loader(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for required in [
        "flask_jsonp/__init__.py",
        "flask_jsonp/py.typed",
        "flask_jsonp/static/jsonp.js",
        "flask_jsonp/static/jsonp.mjs",
        "flask_jsonp/static/jsonp.d.ts",
        "flask_jsonp/static/jsonp.d.mts",
        "flask_jsonp/static/package.json",
    ]:
        assert required in names
    # A development tool (make loader), not part of the package.
    assert not [name for name in names if "loader_source" in name]
    assert not [name for name in names if name.startswith(("tests/", "demo_site/"))]


def test_wheel_metadata(wheel: zipfile.ZipFile) -> None:
    (metadata_name,) = [n for n in wheel.namelist() if n.endswith("/METADATA")]
    metadata = wheel.read(metadata_name).decode()
    assert "Name: flask-jsonp" in metadata
    assert "Requires-Python: >=3.10" in metadata
    assert "Requires-Dist: flask>=2.3" in metadata
    assert "Requires-Dist: markupsafe>=2.1" in metadata
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    assert "jsonp = flask_jsonp.loader:cli" in wheel.read(entry_points).decode()
