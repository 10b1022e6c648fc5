"""Regenerate ``flask_jsonp/_browser_globals.py`` from the browsers themselves.

Run ``python -m tests.generate_browser_globals``. It serves an empty page (no
script of its own) on loopback, opens it in Debian's Chromium (Playwright) and in
Firefox ESR (puppeteer-core over WebDriver BiDi), and collects the own property
names of ``window`` and of every object on its prototype chain, up to ``null``.

The page is loaded twice per browser: once plainly and once cross-origin
isolated (COOP and COEP headers), because some globals (``SharedArrayBuffer``)
exist only there. Both loads are on ``http://localhost``, a secure context, so
the ``[SecureContext]`` globals that every HTTPS page has are counted too.

The union of both browsers is written as data; the callback policy refuses a
callback whose first segment is one of these names.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse
    from _typeshed.wsgi import WSGIEnvironment

#: Where the generated module goes.
OUTPUT = Path(__file__).resolve().parents[1] / "flask_jsonp" / "_browser_globals.py"

FIREFOX_PATH = os.environ.get("FIREFOX_PATH", "/usr/bin/firefox-esr")

#: puppeteer-core 25 needs Node 22.12; 24 runs on the Node 20 of this machine.
PUPPETEER_PACKAGES = {"puppeteer-core": "24"}

#: Seconds one browser may take to start, load both pages and answer.
BROWSER_TIMEOUT = 120

#: The page: nothing but markup, so every global on it is the browser's.
BLANK_PAGE = (
    b"<!doctype html><html><head><title>blank</title></head><body></body></html>"
)

#: The headers that make a document cross-origin isolated.
ISOLATION_HEADERS = [
    ("Cross-Origin-Opener-Policy", "same-origin"),
    ("Cross-Origin-Embedder-Policy", "require-corp"),
]

#: Evaluated in the page: every own property name on the chain from ``window``.
WALK_SCRIPT = """() => {
  const names = new Set();
  for (let object = window; object !== null; object = Object.getPrototypeOf(object)) {
    for (const name of Object.getOwnPropertyNames(object)) names.add(name);
  }
  return {
    names: [...names],
    secure: window.isSecureContext,
    isolated: window.crossOriginIsolated,
  };
}"""

#: The Firefox side, run by Node with puppeteer-core's ES module path, the page
#: URLs and the executable; prints ``{"version", "pages": [walk results]}``.
FIREFOX_SCRIPT = """
const [modulePath, executablePath, ...urls] = process.argv.slice(1);
const puppeteer = (await import(modulePath)).default;
const walk = WALK;
const browser = await puppeteer.launch({
  browser: "firefox",
  protocol: "webDriverBiDi",
  executablePath,
  headless: true,
  timeout: 60000,
});
try {
  const pages = [];
  for (const url of urls) {
    const page = await browser.newPage();
    await page.goto(url);
    pages.push(await page.evaluate(walk));
    await page.close();
  }
  process.stdout.write(JSON.stringify({ version: await browser.version(), pages }));
} finally {
  await browser.close();
}
""".replace("WALK", WALK_SCRIPT)

#: The only names a callback segment can be (see ``CALLBACK_PATTERN``).
IDENTIFIER = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")

#: Globals that the automation itself could add to a page; none is expected, and
#: finding one stops the run rather than committing it as a browser global.
AUTOMATION_MARKERS = ("__playwright", "__pw", "__puppeteer", "cdc_", "__webdriver")


@dataclass(frozen=True)
class EngineGlobals:
    """What one browser exposes: its version and its global names."""

    browser: str
    version: str
    names: frozenset[str]


def blank_app(
    environ: WSGIEnvironment, start_response: StartResponse
) -> Iterable[bytes]:
    """The empty page, plain on ``/``, cross-origin isolated on ``/isolated``."""
    headers = [("Content-Type", "text/html; charset=utf-8")]
    if environ.get("PATH_INFO") == "/isolated":
        headers += ISOLATION_HEADERS
    start_response("200 OK", headers)
    return [BLANK_PAGE]


def _names(pages: Iterable[Mapping[str, Any]]) -> frozenset[str]:
    """Check that both loads were what they should be and merge their names."""
    pages = list(pages)
    if len(pages) != 2:
        raise RuntimeError(f"expected two page loads, got {len(pages)}")
    plain, isolated = pages
    if not (plain["secure"] and isolated["secure"]):
        raise RuntimeError("the blank page is not a secure context")
    if plain["isolated"] or not isolated["isolated"]:
        raise RuntimeError("cross-origin isolation is not as requested")
    names = frozenset(plain["names"]) | frozenset(isolated["names"])
    injected = sorted(n for n in names if n.startswith(AUTOMATION_MARKERS))
    if injected:
        raise RuntimeError(f"the automation added globals: {injected}")
    return frozenset(name for name in names if IDENTIFIER.fullmatch(name))


def chromium_globals(urls: list[str]) -> EngineGlobals:
    """Walk the page's globals in Chromium, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    from tests.tools import CHROMIUM_ARGS
    from tests.tools import CHROMIUM_PATH

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS, headless=True
        )
        try:
            pages = []
            for url in urls:
                page = browser.new_page()
                page.goto(url)
                pages.append(page.evaluate(WALK_SCRIPT))
                page.close()
            version = browser.version
        finally:
            browser.close()
    return EngineGlobals("Chromium", version, _names(pages))


def firefox_globals(urls: list[str]) -> EngineGlobals:
    """Walk the page's globals in Firefox, driven by puppeteer-core over BiDi."""
    import pytest

    from tests.browser.vendor import install_npm_packages
    from tests.browser.vendor import NODE_MODULES

    # puppeteer-core downloads nothing, but its install scripts look at this.
    os.environ["PUPPETEER_SKIP_DOWNLOAD"] = "1"
    try:
        install_npm_packages(PUPPETEER_PACKAGES)
    except (pytest.skip.Exception, pytest.fail.Exception) as error:
        raise RuntimeError(str(error)) from None
    module = NODE_MODULES / "puppeteer-core" / "lib" / "esm" / "puppeteer"
    result = subprocess.run(
        [
            *("node", "--input-type=module", "-e", FIREFOX_SCRIPT, "--"),
            *(str(module / "puppeteer-core.js"), FIREFOX_PATH, *urls),
        ],
        capture_output=True,
        text=True,
        timeout=BROWSER_TIMEOUT,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"Firefox via puppeteer-core failed:\n{result.stderr}")
    answer = json.loads(result.stdout)
    # "firefox/153.8.0" for the ESR build that says 153.8.0esr itself.
    version = answer["version"].partition("/")[2]
    return EngineGlobals("Firefox", version, _names(answer["pages"]))


def _lines(engines: list[EngineGlobals], union: frozenset[str]) -> Iterator[str]:
    yield '"""The global names of web browsers: the own property names of ``window``'
    yield "and of every object on its prototype chain, on an empty page."
    yield ""
    yield "Generated by ``python -m tests.generate_browser_globals``: do not edit."
    yield ""
    for engine in engines:
        yield f"- {engine.browser} {engine.version}: {len(engine.names)} names"
    yield f"- union: {len(union)} names"
    yield '"""'
    yield ""
    yield "from __future__ import annotations"
    yield ""
    yield "#: The browsers the names were read from, with their versions."
    yield "BROWSERS = {"
    for engine in engines:
        yield f'    "{engine.browser}": "{engine.version}",'
    yield "}"
    yield ""
    yield "#: Every global name of any of :data:`BROWSERS`."
    yield "BROWSER_GLOBALS = frozenset("
    yield "    {"
    for name in sorted(union):
        yield f'        "{name}",'
    yield "    }"
    yield ")"


def render(engines: list[EngineGlobals]) -> str:
    """Return the source of the generated module."""
    union = frozenset().union(*(engine.names for engine in engines))
    return "\n".join(_lines(engines, union)) + "\n"


def main() -> int:
    from tests.browser.live_server import LiveServer

    with LiveServer(blank_app) as server:
        urls = [server.page_url("/"), server.page_url("/isolated")]
        engines = [chromium_globals(urls), firefox_globals(urls)]
    OUTPUT.write_text(render(engines), encoding="utf-8")
    for engine in engines:
        print(f"{engine.browser} {engine.version}: {len(engine.names)} names")
    print(f"wrote {OUTPUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
