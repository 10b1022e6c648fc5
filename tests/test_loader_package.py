"""The loader as an npm package (``flask_jsonp/static/package.json``): its version
follows the Python package's, ``npm pack`` ships the loader files with a README and
the license, Node.js loads it by name with ``import`` and ``require``, and
TypeScript 5.9 finds the types of both forms through ``exports``, with
``moduleResolution`` ``nodenext`` and ``bundler``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import NODE_MODULES
from tests.browser.vendor import TYPESCRIPT_PACKAGES
from tests.loader_package import install_loader_package
from tests.loader_package import manifest
from tests.loader_package import npm_version
from tests.loader_package import PACKAGE_DIR
from tests.loader_package import python_version
from tests.loader_package import ROOT
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


def export_targets(entry: Any) -> set[str]:
    """Every file an ``exports`` entry names, through nested conditions."""
    if isinstance(entry, str):
        return {entry}
    assert isinstance(entry, dict)
    return set().union(*(export_targets(value) for value in entry.values()))


def test_manifest_points_at_the_shipped_files() -> None:
    data = manifest()
    assert data["license"] == "BSD-3-Clause"
    # The classic script is no ES module: .js must not be read as one.
    assert "type" not in data
    exports = data["exports"]
    assert isinstance(exports, dict)
    # import gets the ES module; require (bundlers, Node.js) the classic script.
    assert exports["."] == {
        "import": {"types": "./jsonp.d.mts", "default": "./jsonp.mjs"},
        "require": {"types": "./jsonp.d.ts", "default": "./jsonp.js"},
    }
    assert exports["./jsonp.js"] == {"types": "./jsonp.d.ts", "default": "./jsonp.js"}
    assert data["main"] == "./jsonp.js"
    files = data["files"]
    assert isinstance(files, list)
    assert {"README.md", "LICENSE"} <= set(files)
    targets = {data["types"], data["main"]} | export_targets(exports)
    for target in targets:
        assert (PACKAGE_DIR / target).is_file(), target
        assert target == "./package.json" or target[2:] in files


def test_package_license_is_the_projects() -> None:
    # If this fails: cp LICENSE.txt flask_jsonp/static/LICENSE
    license_text = (ROOT / "LICENSE.txt").read_bytes()
    assert (PACKAGE_DIR / "LICENSE").read_bytes() == license_text


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
        "LICENSE", "README.md", "jsonp.d.mts", "jsonp.d.ts", "jsonp.js", "jsonp.mjs",
        "package.json",
    ]  # fmt: skip
    for name in names[:-1]:
        assert (package / name).read_bytes() == (PACKAGE_DIR / name).read_bytes()


# Loads the installed package by name in Node.js, as CommonJS (`require`) and as
# an ES module (`import`), and calls jsonp() in each, where there is no DOM.
NODE_BY_NAME = """
const outcome = (jsonp) => jsonp('https://api.test/').then(
  () => 'resolved',
  (error) => `${error.name} ${error.code}`,
);
const required = require('flask-jsonp-loader');
import('flask-jsonp-loader').then(async (imported) => {
  console.log(JSON.stringify({
    required: [typeof required, required.jsonp === required,
               typeof required.JsonpError, await outcome(required)],
    imported: [Object.keys(imported).sort(), await outcome(imported.jsonp)],
    different: imported.jsonp !== required,
  }));
});
"""


@pytest.mark.node
def test_installed_package_loads_in_node_by_name(installed: Path) -> None:
    # ERR_PACKAGE_PATH_NOT_EXPORTED for require() before it had a require condition.
    node = require_executable("node")
    result = subprocess.run(
        [node, "--input-type=commonjs", "-e", NODE_BY_NAME],
        cwd=installed,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "required": ["function", True, "function", "JsonpError setup"],
        "imported": [["JsonpError", "jsonp"], "JsonpError setup"],
        "different": True,
    }


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


#: CommonJS in TypeScript: `require` resolves to the classic script and its types.
COMMONJS_USAGE = """\
import loader = require("flask-jsonp-loader");

const { jsonp, JsonpError } = loader;
const loaded: Promise<number[]> = jsonp<number[]>("https://api.test/", {
  preferCors: true,
});
const error = new JsonpError("setup", "bad", "https://api.test/");
// @ts-expect-error: not an option
jsonp("https://api.test/", { callback: "x" });

export = { loaded, error };
"""


@pytest.mark.node
def test_installed_package_type_checks_under_commonjs(installed: Path) -> None:
    install_npm_packages(TYPESCRIPT_PACKAGES)
    (installed / "commonjs.cts").write_text(COMMONJS_USAGE, encoding="utf-8")
    tsc = NODE_MODULES / "typescript" / "bin" / "tsc"
    command = [require_executable("node"), str(tsc), "--strict", "--noEmit"]
    command += ["--target", "es2020", "--lib", "es2020,dom"]
    command += [*RESOLUTIONS["nodenext"], "commonjs.cts"]
    result = subprocess.run(
        command, cwd=installed, capture_output=True, text=True, timeout=TSC_TIMEOUT
    )
    assert result.returncode == 0, result.stdout + result.stderr
