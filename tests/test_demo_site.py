"""The two-origin demo (``demo_site``): its apps under Flask's test client, and
its command line.

The page is tested in Chromium by ``tests/browser/test_demo.py``.
"""

from __future__ import annotations

import itertools
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.request import urlopen

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from demo_site import create_api_app
from demo_site import create_page_app
from demo_site.api import DEFAULT_DELAY_SECONDS
from demo_site.api import MAX_DELAY_SECONDS
from demo_site.api import slow_delay
from demo_site.cli import DEFAULT_API_PORT
from demo_site.cli import DEFAULT_PAGE_PORT
from demo_site.cli import main
from demo_site.cli import parse_args
from demo_site.page import check_origin
from demo_site.page import HOSTILE_CALLBACK
from flask_jsonp.loader import STATIC_FOLDER
from tests.helpers import assert_refused
from tests.helpers import run_jsonp
from tests.node import NodeRunner

ROOT = Path(__file__).resolve().parents[1]

#: Where the page app believes the API is, in the tests that do not serve it.
API_ORIGIN = "http://127.0.0.1:5001"

#: Seconds the command-line tests wait for the demo to start or stop.
PROCESS_TIMEOUT = 15.0


@pytest.fixture
def page_app() -> Flask:
    app = create_page_app(API_ORIGIN)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def page_client(page_app: Flask) -> FlaskClient:
    return page_app.test_client()


@pytest.fixture
def api_client() -> FlaskClient:
    app = create_api_app()
    app.config["TESTING"] = True
    return app.test_client()


@pytest.fixture
def live_api() -> Iterator[str]:
    """Serve the API app on an ephemeral loopback port; yield its origin."""
    server = make_server("127.0.0.1", 0, create_api_app(), threaded=True)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def busy_port() -> Iterator[int]:
    """A loopback port that another socket listens on."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield listener.getsockname()[1]


class TagCollector(HTMLParser):
    """Every start tag of a document, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.script_text: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script and data.strip():
            self.script_text.append(data)


def parse_tags(html: str) -> TagCollector:
    collector = TagCollector()
    collector.feed(html)
    collector.close()
    return collector


def csp_directives(header: str) -> dict[str, list[str]]:
    directives = {}
    for directive in header.split(";"):
        name, *values = directive.split()
        directives[name] = values
    return directives


# --- The page app ---


def test_page_scripts_carry_the_nonce_of_their_response(
    page_client: FlaskClient,
) -> None:
    response = page_client.get("/")
    assert response.status_code == 200
    (script_source,) = csp_directives(response.headers["Content-Security-Policy"])[
        "script-src"
    ]
    nonce = re.fullmatch(r"'nonce-([A-Za-z0-9_-]{22,})'", script_source)
    assert nonce is not None
    scripts = [
        attrs for tag, attrs in parse_tags(response.text).tags if tag == "script"
    ]
    assert [script["src"] for script in scripts] == [
        "/_jsonp/jsonp.js",
        "/static/demo.js",
    ]
    assert all(script["nonce"] == nonce[1] for script in scripts)


def test_page_nonce_is_new_for_every_response(page_client: FlaskClient) -> None:
    policies = {
        page_client.get("/").headers["Content-Security-Policy"] for _ in range(3)
    }
    assert len(policies) == 3


def test_page_policy_allows_nonce_scripts_and_fetches_to_the_api(
    page_client: FlaskClient,
) -> None:
    header = page_client.get("/").headers["Content-Security-Policy"]
    directives = csp_directives(header)
    assert directives["default-src"] == ["'self'"]
    assert directives["connect-src"] == ["'self'", API_ORIGIN]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'none'"]
    assert "unsafe" not in header


def test_page_has_no_inline_script_handler_or_style(page_client: FlaskClient) -> None:
    document = parse_tags(page_client.get("/").text)
    assert document.script_text == []
    for tag, attrs in document.tags:
        assert tag != "style"
        assert not [
            name for name in attrs if name.startswith("on") or name == "style"
        ], tag


def test_page_tells_its_script_where_the_api_is(page_app: Flask) -> None:
    page_app.config.update(DEMO_TIMEOUT_MS=250, DEMO_SLOW_DELAY=1.5)
    html = page_app.test_client().get("/").text
    (main,) = [attrs for tag, attrs in parse_tags(html).tags if tag == "main"]
    assert main["data-api-origin"] == API_ORIGIN
    assert main["data-timeout-ms"] == "250"
    assert main["data-slow-delay"] == "1.5"
    assert main["data-hostile-callback"] == HOSTILE_CALLBACK


def test_page_serves_the_loader_from_the_package(page_client: FlaskClient) -> None:
    response = page_client.get("/_jsonp/jsonp.js")
    assert response.status_code == 200
    assert response.data == (STATIC_FOLDER / "jsonp.js").read_bytes()
    assert "Content-Security-Policy" in response.headers
    response.close()


@pytest.mark.parametrize("filename", ["demo.js", "demo.css", "favicon.svg"])
def test_page_static_files_are_served(page_client: FlaskClient, filename: str) -> None:
    response = page_client.get(f"/static/{filename}")
    assert response.status_code == 200
    response.close()


@pytest.mark.parametrize(
    ("origin", "expected"),
    [
        ("http://127.0.0.1:5001", "http://127.0.0.1:5001"),
        ("http://127.0.0.1:5001/", "http://127.0.0.1:5001"),
        ("https://api.example", "https://api.example"),
    ],
)
def test_page_app_accepts_an_api_origin(origin: str, expected: str) -> None:
    assert check_origin(origin) == expected
    assert create_page_app(origin).config["DEMO_API_ORIGIN"] == expected


@pytest.mark.parametrize(
    "origin",
    ["127.0.0.1:5001", "ftp://127.0.0.1", "http://", "http://a.example/api", ""],
)
def test_page_app_refuses_what_is_not_an_origin(origin: str) -> None:
    with pytest.raises(ValueError, match="is not an origin"):
        create_page_app(origin)


def test_page_server_reports_the_api_answer_to_a_hostile_callback(
    live_api: str,
) -> None:
    client = create_page_app(live_api).test_client()
    answer = client.get("/server-side/hostile-callback").json
    assert answer is not None
    assert answer["status"] == 400
    assert answer["content_type"] == "application/json"
    assert answer["body"]["error"] == "invalid_callback"
    assert answer["url"].startswith(f"{live_api}/api/user?callback=alert")


def test_page_server_says_when_the_api_is_down() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listener:
        closed_port = listener.getsockname()[1]
    client = create_page_app(f"http://127.0.0.1:{closed_port}").test_client()
    response = client.get("/server-side/hostile-callback")
    assert response.status_code == 502
    assert response.json is not None
    assert response.json["error"].startswith("the API did not answer")


# --- The API app ---


@pytest.mark.node
def test_api_user_answers_jsonp(api_client: FlaskClient, node: NodeRunner) -> None:
    response = api_client.get("/api/user?callback=onUser")
    assert run_jsonp(node, response, "onUser")["name"] == "Ada Lovelace"


def test_api_user_answers_json_without_cors_headers(api_client: FlaskClient) -> None:
    response = api_client.get("/api/user", headers={"Origin": "http://localhost:5000"})
    assert response.status_code == 200
    assert response.json is not None
    assert response.json["username"] == "ada"
    assert not [
        name for name, _ in response.headers.items() if name.startswith("Access")
    ]


@pytest.mark.node
def test_api_unknown_user_is_an_enveloped_404(
    api_client: FlaskClient, node: NodeRunner
) -> None:
    response = api_client.get("/api/users/nobody?callback=onUser")
    assert response.status_code == 200
    payload = run_jsonp(node, response, "onUser")
    assert payload["meta"] == {"status": 404}
    assert payload["data"]["name"] == "Not Found"
    assert "nobody" in payload["data"]["description"]


@pytest.mark.node
def test_api_known_user_is_enveloped_data(
    api_client: FlaskClient, node: NodeRunner
) -> None:
    response = api_client.get("/api/users/grace?callback=onUser")
    payload = run_jsonp(node, response, "onUser")
    assert payload["meta"] == {"status": 200}
    assert payload["data"]["name"] == "Grace Hopper"


@pytest.mark.node
def test_api_slow_endpoint_answers_after_its_delay(
    api_client: FlaskClient, node: NodeRunner
) -> None:
    start = time.monotonic()
    response = api_client.get("/api/slow?delay=0.2&callback=onSlow")
    assert time.monotonic() - start >= 0.2
    assert run_jsonp(node, response, "onSlow") == {"slept_seconds": 0.2}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, DEFAULT_DELAY_SECONDS),
        ("0", 0.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("3600", MAX_DELAY_SECONDS),
        ("inf", DEFAULT_DELAY_SECONDS),
        ("nan", DEFAULT_DELAY_SECONDS),
        ("soon", DEFAULT_DELAY_SECONDS),
    ],
)
def test_api_slow_delay_is_bounded(value: str | None, expected: float) -> None:
    assert slow_delay(value) == expected


def test_api_refuses_a_hostile_callback(api_client: FlaskClient) -> None:
    response = api_client.get("/api/user", query_string={"callback": HOSTILE_CALLBACK})
    assert_refused(response, 400, "invalid_callback")


def test_api_index_lists_its_endpoints(api_client: FlaskClient) -> None:
    response = api_client.get("/")
    assert response.json is not None
    for endpoint in response.json["endpoints"]:
        assert api_client.get(endpoint.replace("delay=1", "delay=0")).status_code == 200


# --- The command line ---


def test_cli_defaults_are_the_readme_ports() -> None:
    args = parse_args([])
    assert (args.page_port, args.api_port) == (DEFAULT_PAGE_PORT, DEFAULT_API_PORT)
    assert (DEFAULT_PAGE_PORT, DEFAULT_API_PORT) == (5000, 5001)


def test_cli_takes_both_ports() -> None:
    args = parse_args(["--page-port", "8000", "--api-port", "0"])
    assert (args.page_port, args.api_port) == (8000, 0)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--page-port", "http"], "'http' is not a port number"),
        (["--api-port", "65536"], "'65536' is not a port number"),
        (["--api-port", "-1"], "'-1' is not a port number"),
        (["--page-port", "8000", "--api-port", "8000"], "must differ"),
        (["--host", "0.0.0.0"], "unrecognized arguments"),
    ],
)
def test_cli_refuses_bad_arguments(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(argv)
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--page-port", "--api-port"])
def test_cli_port_in_use_is_a_one_line_error(
    flag: str, busy_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    other_flag = "--api-port" if flag == "--page-port" else "--page-port"
    status = main([flag, str(busy_port), other_flag, "0"])
    assert status == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: port {busy_port} is already in use; choose another with {flag}\n"
    )


def read_banner(process: subprocess.Popen[str], line_count: int) -> list[str]:
    """Read the first lines the demo prints, failing the test if they are late."""
    assert process.stdout is not None
    stdout = process.stdout
    banner: list[str] = []
    reader = threading.Thread(
        target=lambda: banner.extend(itertools.islice(stdout, line_count)),
        daemon=True,
    )
    reader.start()
    # If the demo hangs, killing it in the test's cleanup ends the thread.
    reader.join(PROCESS_TIMEOUT)
    if len(banner) < line_count:
        pytest.fail(f"the demo printed only {banner!r}")
    return banner


# SIGINT is what Ctrl-C sends; a shell ignores it in background jobs (and their
# children inherit that), so the demo runs with Python's default handler, as in a
# terminal.
RUN_WITH_DEFAULT_SIGINT = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler);"
    " runpy.run_module('demo_site', run_name='__main__')"
)


@pytest.mark.parametrize(
    "stop_signal", [signal.SIGINT, signal.SIGTERM], ids=lambda signum: signum.name
)
def test_cli_serves_both_origins_and_stops_cleanly(stop_signal: int) -> None:
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUN_WITH_DEFAULT_SIGINT,
            "--page-port",
            "0",
            "--api-port",
            "0",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = read_banner(process, 4)
        page_url = re.search(r"page  (http://localhost:\d+)", banner[1])
        api_url = re.search(r"API   (http://127\.0\.0\.1:\d+)", banner[2])
        assert page_url is not None and api_url is not None, banner
        assert banner[3] == "Press Ctrl-C to stop.\n"
        with urlopen(page_url[1], timeout=PROCESS_TIMEOUT) as page:
            assert api_url[1] in page.headers["Content-Security-Policy"]
        with urlopen(f"{api_url[1]}/api/user?callback=f", timeout=5) as api:
            assert api.read().startswith(b'/**/typeof f === "function" && f(')
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert out == "stopped\n"
    assert "Traceback" not in err
    assert '[page] "GET / HTTP/1.1" 200' in err
    assert "[api] " in err
