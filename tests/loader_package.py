"""The loader as an npm package: ``flask_jsonp/static/package.json``, packed with
``npm pack`` and installed into a throwaway project, as a user would install it.
"""

from __future__ import annotations

import configparser
import json
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.browser.vendor import run_npm
from tests.tools import require_executable

ROOT = Path(__file__).parent.parent
PACKAGE_DIR = ROOT / "flask_jsonp" / "static"
MANIFEST_PATH = PACKAGE_DIR / "package.json"

#: Seconds ``npm pack`` or ``npm install`` of a local tarball may take.
NPM_TIMEOUT = 120

#: A PEP 440 version as this project writes them: release, pre-release, dev.
PYTHON_VERSION = re.compile(
    r"(?P<release>\d+(?:\.\d+)*)"
    r"(?:(?P<pre>a|b|rc)(?P<pre_number>\d+))?"
    r"(?:\.dev(?P<dev>\d+))?"
)

#: Semantic-versioning names of the PEP 440 pre-release kinds.
PRE_RELEASE_NAMES = {"a": "alpha", "b": "beta", "rc": "rc"}


def manifest() -> dict[str, Any]:
    """The loader's ``package.json``."""
    data: dict[str, Any] = json.loads(MANIFEST_PATH.read_text(encoding="utf-8"))
    return data


def python_version() -> str:
    """The Python package's version, from ``setup.cfg``."""
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg", encoding="utf-8")
    return config["metadata"]["version"]


def npm_version(version: str) -> str:
    """Map a PEP 440 version to semantic versioning, as npm requires.

    The release gets three numbers; a pre-release ``a1``, ``b1``, ``rc1`` becomes
    ``-alpha.1``, ``-beta.1``, ``-rc.1``; a dev release ``.dev0`` adds ``dev.0``:
    ``0.1.0.dev0`` is ``0.1.0-dev.0``, ``1.2rc1`` is ``1.2.0-rc.1``.

    :raise ValueError: for what this project does not use (post releases, epochs,
        local versions, more than three release numbers).
    """
    match = PYTHON_VERSION.fullmatch(version)
    if match is None:
        raise ValueError(f"{version!r} has no npm equivalent here")
    release = match["release"].split(".")
    if len(release) > 3:
        raise ValueError(f"{version!r} has more than three release numbers")
    semver = ".".join(release + ["0"] * (3 - len(release)))
    pre_release = []
    if match["pre"]:
        pre_release += [PRE_RELEASE_NAMES[match["pre"]], match["pre_number"]]
    if match["dev"] is not None:
        pre_release += ["dev", match["dev"]]
    return semver + ("-" + ".".join(pre_release) if pre_release else "")


def _npm(arguments: list[str], cwd: Path) -> str:
    return run_npm(arguments, cwd, NPM_TIMEOUT)


def install_loader_package(project: Path) -> Path:
    """Pack the loader with ``npm pack`` and install the tarball into a new npm
    project in ``project`` (an ES module project, ``"type": "module"``).

    :return: the installed package's folder in ``project/node_modules``.
    """
    project.mkdir(parents=True, exist_ok=True)
    output = _npm(
        ["pack", str(PACKAGE_DIR), "--pack-destination", str(project), "--json"],
        cwd=project,
    )
    (packed,) = json.loads(output)
    tarball = project / packed["filename"]
    (project / "package.json").write_text(
        json.dumps({"name": "loader-user", "private": True, "type": "module"}),
        encoding="utf-8",
    )
    _npm(["install", "--offline", "--no-package-lock", str(tarball)], cwd=project)
    return project / "node_modules" / str(manifest()["name"])


#: The bundler of the tests that bundle the installed package as an app would.
BUNDLER_PACKAGES = {"esbuild": "0.28"}


# esbuild's JavaScript API (its bin/esbuild is a native binary or a Node.js shim,
# depending on the platform): argv = [esbuild's folder, entry, output].
ESBUILD = """
const [esbuild, entryPoint, outfile] = process.argv.slice(1);
require(esbuild).buildSync({
  entryPoints: [entryPoint], outfile, bundle: true, format: 'iife',
  platform: 'browser', logLevel: 'warning',
});
"""


def bundle(project: Path, entry_source: str, esbuild: Path) -> Path:
    """Bundle ``entry_source`` (a script of ``project``, which has the loader
    installed) with esbuild for browsers, as one classic script.

    :param esbuild: esbuild's package folder.
    :return: the bundle's path.
    """
    entry = project / "entry.js"
    entry.write_text(entry_source, encoding="utf-8")
    output = project / "bundle.js"
    command = [require_executable("node"), "-e", ESBUILD]
    command += [str(esbuild), str(entry), str(output)]
    subprocess.run(command, cwd=project, check=True, timeout=NPM_TIMEOUT)
    return output
