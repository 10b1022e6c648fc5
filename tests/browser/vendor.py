"""npm packages for the tests (JSONP clients, TypeScript, puppeteer-core), installed
on demand.

They are installed once into a cache folder outside version control; the browser
tests serve ``node_modules`` to their pages under ``/vendor/``.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.tools import missing_tool
from tests.tools import require_executable

#: The JSONP clients of the interop tests, with the major version they are
#: written for.
INTEROP_PACKAGES = {"jquery": "4", "fetch-jsonp": "1"}

#: What drives Firefox over WebDriver BiDi. 24 is the last major that runs on
#: Node.js 20 (25 needs 22.12); it never downloads a browser of its own.
FIREFOX_DRIVER_PACKAGES = {"puppeteer-core": "24"}

#: The TypeScript that checks the loader's declarations: 5.9 is the release
#: users reported TS7016 ("could not find a declaration file") with.
TYPESCRIPT_PACKAGES = {"typescript": "5.9"}

#: Seconds ``npm install`` may take (a cold install needs a few).
NPM_INSTALL_TIMEOUT = 180

#: ``$XDG_CACHE_HOME/flask-jsonp/npm`` when set, else ``.cache/npm`` in the
#: repository (which .gitignore lists).
CACHE_DIR = (
    Path(os.environ["XDG_CACHE_HOME"]) / "flask-jsonp" / "npm"
    if os.environ.get("XDG_CACHE_HOME")
    else Path(__file__).resolve().parents[2] / ".cache" / "npm"
)

#: What ``/vendor/`` serves.
NODE_MODULES = CACHE_DIR / "node_modules"


def installed_version(package: str) -> str | None:
    """The version of ``package`` in the cache, or ``None``."""
    manifest = NODE_MODULES / package / "package.json"
    try:
        return str(json.loads(manifest.read_text(encoding="utf-8"))["version"])
    except (OSError, ValueError, KeyError):
        return None


def run_npm(
    arguments: list[str], cwd: Path | None = None, timeout: int = NPM_INSTALL_TIMEOUT
) -> str:
    """Run npm with ``arguments`` and return its output; skip the test (fail it
    under CI) if npm is missing, fails or takes longer than ``timeout`` seconds.
    """
    command = [require_executable("npm"), *arguments, "--no-audit", "--no-fund"]
    try:
        result = subprocess.run(
            command,
            cwd=cwd,
            # puppeteer-core never downloads; this says so to any helper.
            env={**os.environ, "PUPPETEER_SKIP_DOWNLOAD": "1"},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired:
        missing_tool(f"npm {' '.join(arguments)} timed out")
    if result.returncode != 0:
        missing_tool(f"npm {' '.join(arguments)} failed:\n{result.stderr}")
    return result.stdout


def install_npm_packages(packages: Mapping[str, str]) -> dict[str, str]:
    """Install ``packages`` (name to a version prefix: ``"4"``, ``"5.9"``) into
    :data:`CACHE_DIR`, unless they are there already; skip the test (fail it under
    CI) if npm cannot.

    :return: the installed version of each package.
    """
    wanted = [
        f"{package}@{prefix}"
        for package, prefix in packages.items()
        if not (installed_version(package) or "").startswith(f"{prefix}.")
    ]
    if wanted:
        CACHE_DIR.mkdir(parents=True, exist_ok=True)
        # Saved to the cache's package.json, so that a later install of other
        # packages does not remove these as extraneous.
        run_npm(["install", "--prefix", str(CACHE_DIR), "--no-package-lock", *wanted])
    versions = {package: installed_version(package) for package in packages}
    missing = [package for package, version in versions.items() if version is None]
    if missing:
        missing_tool(f"npm did not install {', '.join(missing)}")
    return {package: str(version) for package, version in versions.items()}
