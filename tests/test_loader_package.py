"""The loader as an npm package (``flask_jsonp/static/package.json``): its version
follows the Python package's, ``npm pack`` ships the loader files, and TypeScript
5.9 finds the types of both forms through ``exports``, with ``moduleResolution``
``nodenext`` and ``bundler``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import NODE_MODULES
from tests.browser.vendor import TYPESCRIPT_PACKAGES
from tests.loader_package import install_loader_package
from tests.loader_package import manifest
from tests.loader_package import npm_version
from tests.loader_package import PACKAGE_DIR
from tests.loader_package import python_version
from tests.tools import require_executable

#: Seconds one type check may take.
TSC_TIMEOUT = 120


def test_npm_version_is_the_python_version() -> None:
    # If this fails after a version bump: set "version" in static/package.json.
    assert manifest()["version"] == npm_version(python_version())


@pytest.mark.parametrize(
    ("python", "npm"),
    [
        ("0.1.0.dev0", "0.1.0-dev.0"),
        ("0.1.0", "0.1.0"),
        ("1.2", "1.2.0"),
        ("1.0a1", "1.0.0-alpha.1"),
        ("1.0.0b2", "1.0.0-beta.2"),
        ("2.1.0rc1", "2.1.0-rc.1"),
        ("1.0a1.dev3", "1.0.0-alpha.1.dev.3"),
    ],
)
def test_npm_version_of_a_python_version(python: str, npm: str) -> None:
    assert npm_version(python) == npm


@pytest.mark.parametrize("python", ["1.0.post1", "1!1.0", "1.0+local", "1.2.3.4"])
def test_npm_version_refuses_what_the_project_does_not_use(python: str) -> None:
    with pytest.raises(ValueError):
        npm_version(python)


def test_manifest_points_at_the_shipped_files() -> None:
    data = manifest()
    assert data["license"] == "BSD-3-Clause"
    # The classic script is no ES module: .js must not be read as one.
    assert "type" not in data
    exports = data["exports"]
    assert isinstance(exports, dict)
    assert exports["."] == {"types": "./jsonp.d.mts", "import": "./jsonp.mjs"}
    assert exports["./jsonp.js"] == {"types": "./jsonp.d.ts", "default": "./jsonp.js"}
    files = data["files"]
    assert isinstance(files, list)
    targets = {data["types"]}
    for entry in exports.values():
        targets |= set(entry.values()) if isinstance(entry, dict) else {entry}
    for target in targets:
        assert (PACKAGE_DIR / target).is_file(), target
        assert target == "./package.json" or target[2:] in files


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project with the packed loader installed: its folder."""
    require_executable("node")
    project = tmp_path_factory.mktemp("loader-user")
    install_loader_package(project)
    return project


@pytest.mark.node
def test_npm_pack_ships_the_loader_files(installed: Path) -> None:
    package = installed / "node_modules" / "flask-jsonp-loader"
    names = sorted(path.name for path in package.iterdir())
    assert names == [
        "jsonp.d.mts", "jsonp.d.ts", "jsonp.js", "jsonp.mjs", "package.json"
    ]  # fmt: skip
    for name in names[:-1]:
        assert (package / name).read_bytes() == (PACKAGE_DIR / name).read_bytes()


#: The ES module, imported by package name and by file: `@ts-expect-error` lines
#: prove that mistakes are caught and that the module declares no global.
MODULE_USAGE = """\
import { jsonp, JsonpError, type JsonpDefaults, type JsonpErrorCode,
         type JsonpOptions } from "flask-jsonp-loader";
import { jsonp as sameJsonp } from "flask-jsonp-loader/jsonp.mjs";

interface User { name: string }

const options: JsonpOptions = { params: { id: 7 }, timeout: 5000, envelope: true };
jsonp.defaults.nonce = "abc";
const defaults: JsonpDefaults = jsonp.defaults;
const same: typeof jsonp = sameJsonp;

export async function load(): Promise<string> {
  try {
    const user = await jsonp<User>("https://api.test/user", options);
    return user.name;
  } catch (error) {
    if (error instanceof JsonpError) {
      const code: JsonpErrorCode = error.code;
      return `${code} ${error.url} ${error.status}`;
    }
    throw error;
  }
}

// @ts-expect-error: the module defines no global
window.jsonp("https://api.test/");
// @ts-expect-error: a nonce is a string
jsonp.defaults.nonce = 1;
// @ts-expect-error: not an option
jsonp("https://api.test/", { callback: "x" });

export { defaults, same };
"""

#: The classic script's global, its types found through the package's exports.
CLASSIC_USAGE = """\
/// <reference types="flask-jsonp-loader/jsonp.js" />

const loaded: Promise<number[]> = window.jsonp<number[]>("https://api.test/");
jsonp.defaults.nonce = document.querySelector<HTMLScriptElement>("script")?.nonce;
const error = new jsonp.JsonpError("setup", "bad", "https://api.test/");
// @ts-expect-error: not an error code
new jsonp.JsonpError("offline", "bad", "https://api.test/");

export { loaded, error };
"""

#: The options of each resolution mode users have (TypeScript's "module" must
#: match "moduleResolution": nodenext, or a bundler's esnext).
RESOLUTIONS = {
    "nodenext": ["--module", "nodenext", "--moduleResolution", "nodenext"],
    "bundler": ["--module", "esnext", "--moduleResolution", "bundler"],
}


@pytest.mark.node
@pytest.mark.parametrize("resolution", sorted(RESOLUTIONS))
@pytest.mark.parametrize(
    ("filename", "source"),
    [("module.ts", MODULE_USAGE), ("classic.ts", CLASSIC_USAGE)],
    ids=["module", "classic"],
)
def test_installed_package_type_checks(
    installed: Path, resolution: str, filename: str, source: str
) -> None:
    install_npm_packages(TYPESCRIPT_PACKAGES)
    (installed / filename).write_text(source, encoding="utf-8")
    tsc = NODE_MODULES / "typescript" / "bin" / "tsc"
    command = [require_executable("node"), str(tsc), "--strict", "--noEmit"]
    command += ["--target", "es2020", "--lib", "es2020,dom"]
    command += [*RESOLUTIONS[resolution], filename]
    result = subprocess.run(
        command, cwd=installed, capture_output=True, text=True, timeout=TSC_TIMEOUT
    )
    assert result.returncode == 0, result.stdout + result.stderr
