"""The loader's sources: jsonp.mjs and jsonp.d.mts are generated from jsonp.js and
jsonp.d.ts, the scripts stay small, both load in Node.js without touching globals
(the classic script as a CommonJS module), ``jsonp()`` there rejects with "setup",
and the declarations type-check.
"""

from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests import loader_source
from tests.browser.vendor import install_npm_packages
from tests.browser.vendor import NODE_MODULES
from tests.browser.vendor import TYPESCRIPT_PACKAGES
from tests.loader_source import CLASSIC_PATH
from tests.loader_source import DECLARATIONS_PATH
from tests.loader_source import module_declarations
from tests.loader_source import MODULE_DECLARATIONS_PATH
from tests.loader_source import MODULE_PATH
from tests.loader_source import module_source
from tests.tools import require_executable

#: The size budget of each loader file, gzipped at level 9: 3 KB (issue 16).
MAX_GZIPPED_BYTES = 3_072

#: A classic script in the shape of jsonp.js, for the generator's own tests.
SAMPLE = """\
(function () {
  'use strict';
  // --- BEGIN SHARED LOADER (sample)
  class JsonpError extends Error {}

  function jsonp() {
    return 1;
  }
  // --- END SHARED LOADER
  window.jsonp = jsonp;
})();
"""


#: Declarations in the shape of jsonp.d.ts.
SAMPLE_DECLARATIONS = """\
export declare const jsonp: () => number;

// --- BEGIN CLASSIC SCRIPT GLOBAL (sample)
declare global {
  var jsonp: () => number;
}
// --- END CLASSIC SCRIPT GLOBAL
"""


def test_shipped_module_is_generated_from_the_classic_script() -> None:
    # If this fails: make loader
    classic = CLASSIC_PATH.read_text(encoding="utf-8")
    assert MODULE_PATH.read_text(encoding="utf-8") == module_source(classic)


def test_shipped_module_declarations_are_generated_from_jsonp_d_ts() -> None:
    # If this fails: make loader
    declarations = DECLARATIONS_PATH.read_text(encoding="utf-8")
    generated = module_declarations(declarations)
    assert MODULE_DECLARATIONS_PATH.read_text(encoding="utf-8") == generated
    assert "declare global" in declarations
    assert "declare global" not in generated


def test_module_declarations_drop_the_global_block() -> None:
    assert module_declarations(SAMPLE_DECLARATIONS) == (
        loader_source.DECLARATIONS_HEADER
        + "\nexport declare const jsonp: () => number;\n"
    )


@pytest.mark.parametrize("path", [CLASSIC_PATH, MODULE_PATH], ids=lambda p: p.name)
def test_loader_is_small_when_gzipped(path: Path) -> None:
    size = len(gzip.compress(path.read_bytes(), compresslevel=9))
    assert size <= MAX_GZIPPED_BYTES


def test_module_source_takes_the_body_dedented_and_exports() -> None:
    assert module_source(SAMPLE) == (
        loader_source.MODULE_HEADER
        + "\nclass JsonpError extends Error {}\n\nfunction jsonp() {\n  return 1;\n}\n"
        + "\nexport { jsonp, JsonpError };\n"
    )


def test_module_header_says_where_it_comes_from() -> None:
    module = MODULE_PATH.read_text(encoding="utf-8")
    assert "generated from jsonp.js" in module.lower()
    assert "do not edit" in module.lower()
    assert module.endswith("export { jsonp, JsonpError };\n")
    assert "window.jsonp =" not in module


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(SAMPLE.replace("BEGIN", "START"), id="no-begin"),
        pytest.param(SAMPLE.replace("END", "STOP"), id="no-end"),
        pytest.param(SAMPLE + "// --- END SHARED LOADER\n", id="two-ends"),
        pytest.param(
            "// --- END SHARED LOADER\n// --- BEGIN SHARED LOADER\n", id="reversed"
        ),
    ],
)
def test_module_source_refuses_bad_markers(source: str) -> None:
    with pytest.raises(ValueError, match="marker"):
        module_source(source)


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(SAMPLE_DECLARATIONS.replace("BEGIN", "START"), id="no-begin"),
        pytest.param(
            SAMPLE_DECLARATIONS + "// --- END CLASSIC SCRIPT GLOBAL\n", id="two-ends"
        ),
    ],
)
def test_module_declarations_refuse_bad_markers(source: str) -> None:
    with pytest.raises(ValueError, match="marker"):
        module_declarations(source)


def test_main_writes_the_generated_files_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    classic, module = tmp_path / "jsonp.js", tmp_path / "jsonp.mjs"
    types, module_types = tmp_path / "jsonp.d.ts", tmp_path / "jsonp.d.mts"
    classic.write_text(SAMPLE, encoding="utf-8")
    types.write_text(SAMPLE_DECLARATIONS, encoding="utf-8")
    monkeypatch.setattr(loader_source, "CLASSIC_PATH", classic)
    monkeypatch.setattr(loader_source, "MODULE_PATH", module)
    monkeypatch.setattr(loader_source, "DECLARATIONS_PATH", types)
    monkeypatch.setattr(loader_source, "MODULE_DECLARATIONS_PATH", module_types)
    assert loader_source.main() == 0
    assert module.read_text(encoding="utf-8") == module_source(SAMPLE)
    assert module_types.read_text(encoding="utf-8") == module_declarations(
        SAMPLE_DECLARATIONS
    )
    assert loader_source.main() == 0
    assert capsys.readouterr().out.splitlines() == [
        f"wrote {module}",
        f"wrote {module_types}",
        f"{module} is up to date",
        f"{module_types} is up to date",
    ]


# What a call to jsonp() in Node.js gives: a JsonpError with code "setup".
NODE_OUTCOME = """
const outcome = async (jsonp, JsonpError, options) => {
  try {
    return { resolved: await jsonp('https://api.test/data', options) };
  } catch (error) {
    return {
      isJsonpError: error instanceof JsonpError, name: error.name, code: error.code,
      url: error.url, message: error.message,
    };
  }
};
"""

# Imports the module in Node.js, where there is no DOM: it must load (server-side
# rendering imports modules) and leave globalThis as it was.
NODE_IMPORT = (
    NODE_OUTCOME
    + """
const before = new Set(Object.getOwnPropertyNames(globalThis));
const module = await import(process.argv[1]);
const error = new module.JsonpError('timeout', 'too slow', 'https://x.test/');
console.log(JSON.stringify({
  exports: Object.keys(module).sort(),
  newGlobals: Object.getOwnPropertyNames(globalThis).filter((n) => !before.has(n)),
  error: [error instanceof Error, error.name, error.code, error.url, error.message],
  attached: module.jsonp.JsonpError === module.JsonpError,
  calls: [
    await outcome(module.jsonp, module.JsonpError),
    await outcome(module.jsonp, module.JsonpError, { preferCors: true }),
  ],
}));
"""
)

# Requires the classic script as a CommonJS module in Node.js.
NODE_REQUIRE = (
    NODE_OUTCOME
    + """
(async () => {
  const before = new Set(Object.getOwnPropertyNames(globalThis));
  const jsonp = require(process.argv[1]);
  console.log(JSON.stringify({
    type: typeof jsonp,
    aliases: [jsonp.jsonp === jsonp, jsonp.JsonpError.prototype instanceof Error],
    newGlobals: Object.getOwnPropertyNames(globalThis).filter((n) => !before.has(n)),
    calls: [
      await outcome(jsonp, jsonp.JsonpError),
      await outcome(jsonp, jsonp.JsonpError, { preferCors: true }),
    ],
  }));
})();
"""
)

#: What jsonp() gives in Node.js, with and without preferCors.
SETUP_REJECTION = {
    "isJsonpError": True,
    "name": "JsonpError",
    "code": "setup",
    "url": "https://api.test/data",
    "message": "document is not defined",
}


def run_node(*arguments: str) -> dict[str, Any]:
    """Run ``node`` with ``arguments``; return what it printed, as JSON."""
    node = require_executable("node")
    result = subprocess.run(
        [node, *arguments], capture_output=True, text=True, check=True, timeout=30
    )
    output: dict[str, Any] = json.loads(result.stdout)
    return output


@pytest.mark.node
def test_module_imports_in_node_without_globals() -> None:
    output = run_node("--input-type=module", "-e", NODE_IMPORT, MODULE_PATH.as_uri())
    assert output == {
        "exports": ["JsonpError", "jsonp"],
        "newGlobals": [],
        "error": [True, "JsonpError", "timeout", "https://x.test/", "too slow"],
        "attached": True,
        "calls": [SETUP_REJECTION, SETUP_REJECTION],
    }


@pytest.mark.node
def test_classic_script_is_a_commonjs_module_in_node() -> None:
    output = run_node("--input-type=commonjs", "-e", NODE_REQUIRE, str(CLASSIC_PATH))
    assert output == {
        "type": "function",
        "aliases": [True, True],
        "newGlobals": [],
        "calls": [SETUP_REJECTION, SETUP_REJECTION],
    }


# Runs the classic script as a plain script in a context with neither `window`
# nor `module` (a worker, a sandbox): it must load without an error.
NODE_PLAIN_SCRIPT = """
const vm = require('vm');
const source = require('fs').readFileSync(process.argv[1], 'utf8');
const context = vm.createContext({});
const before = new Set(Object.getOwnPropertyNames(context));
vm.runInContext(source, context);
const added = Object.getOwnPropertyNames(context).filter((n) => !before.has(n));
console.log(JSON.stringify({ newGlobals: added }));
"""


@pytest.mark.node
def test_classic_script_loads_where_there_is_no_window_nor_module() -> None:
    output = run_node("-e", NODE_PLAIN_SCRIPT, str(CLASSIC_PATH))
    assert output == {"newGlobals": []}


@pytest.mark.node
def test_classic_script_is_valid_javascript() -> None:
    node = require_executable("node")
    subprocess.run([node, "--check", str(CLASSIC_PATH)], check=True, timeout=30)


#: Uses the declarations as a page would, in both forms; `@ts-expect-error` lines
#: prove that mistakes are caught.
TYPES_USAGE = """\
import {
  jsonp, JsonpError, type JsonpDeprecation, type JsonpErrorCode, type JsonpOptions,
} from "./jsonp";

interface User { name: string }

const options: JsonpOptions = {
  params: { q: "x", page: 2, flags: [true, false], skip: undefined },
  callbackParam: "cb",
  callbackName: "onUser",
  timeout: 0,
  signal: new AbortController().signal,
  envelope: true,
  nonce: "abc",
  crossOrigin: "anonymous",
  referrerPolicy: "no-referrer",
  preferCors: true,
};
jsonp.defaults.nonce = "abc";
jsonp.defaults.nonce = undefined;
jsonp.defaults.onDeprecation = (notice: JsonpDeprecation) => {
  const sunset: Date | undefined = notice.sunset;
  const since: number | undefined = notice.deprecation?.getTime();
  const link: string | undefined = notice.link;
  console.log(notice.url.length, sunset, since, link);
};
jsonp.defaults.onDeprecation = undefined;

async function load(): Promise<string> {
  try {
    const user = await jsonp<User>("https://api.test/user", options);
    return user.name;
  } catch (error) {
    if (error instanceof JsonpError) {
      const code: JsonpErrorCode = error.code;
      const status: number | undefined = error.status;
      return `${code} ${status} ${error.url} ${String(error.data)}`;
    }
    throw error;
  }
}

// The classic script's global, and the class attached to it.
const viaGlobal: Promise<unknown> = window.jsonp(new URL("https://api.test/"));
const sameClass: typeof JsonpError = window.jsonp.JsonpError;
new JsonpError("setup", "bad", "https://api.test/", { status: 400 });

// @ts-expect-error: not an error code
const wrongCode: JsonpErrorCode = "offline";
// @ts-expect-error: not an option
jsonp("https://api.test/", { callback: "x" });
// @ts-expect-error: timeout is a number
jsonp("https://api.test/", { timeout: "10s" });
// @ts-expect-error: a nonce is a string
jsonp.defaults.nonce = 5;
// @ts-expect-error: not a default
jsonp.defaults.timeout = 5;
// @ts-expect-error: preferCors is a boolean
jsonp("https://api.test/", { preferCors: "yes" });
// @ts-expect-error: the notice's dates are Dates, not strings
jsonp.defaults.onDeprecation = (notice: { sunset?: string }) => notice;

export { load, viaGlobal, sameClass, wrongCode };
"""


@pytest.mark.node
def test_type_declarations_describe_the_loader(tmp_path: Path) -> None:
    require_executable("node")
    install_npm_packages(TYPESCRIPT_PACKAGES)
    shutil.copy(DECLARATIONS_PATH, tmp_path)
    (tmp_path / "usage.ts").write_text(TYPES_USAGE, encoding="utf-8")
    tsc = NODE_MODULES / "typescript" / "bin" / "tsc"
    command = [require_executable("node"), str(tsc), "--noEmit", "--strict"]
    command += ["--target", "es2017", "--lib", "es2017,dom", "--module", "es2015"]
    command += ["--moduleResolution", "node", "usage.ts"]
    result = subprocess.run(
        command, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
