"""The deploy guide's nginx configuration, run for real: Debian's nginx with
``docs/deploy/jsonp-api.conf`` in front of gunicorn serving
:mod:`tests.nginx_app`, so that what the guide says nginx stores, and never
stores, cannot drift from what nginx does.

The guide shows that file as it is. The tests change only what must differ on a
test machine (the ports, the upstream's address, the cache folder, and the
certificate: a self-signed one made with openssl), and wrap it in a minimal
``nginx.conf`` that keeps every file nginx writes in a temporary folder. nginx
and gunicorn start once for the module. Whether nginx asked the app, and what
the app answered, is read from nginx's access log.
"""

from __future__ import annotations

import gzip
import http.client
import importlib.metadata
import importlib.util
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any
from typing import NamedTuple

import pytest

from tests.nginx_app import APP_ORIGIN
from tests.nginx_app import SHORT_MAX_AGE
from tests.nginx_app import WIDGETS_CALLBACK
from tests.tools import missing_tool
from tests.tools import require_executable

pytestmark = pytest.mark.nginx

ROOT = Path(__file__).resolve().parent.parent
#: The configuration that docs/deploy.md shows.
GUIDE_CONFIG = ROOT / "docs" / "deploy" / "jsonp-api.conf"
APP = "tests.nginx_app:create_app()"

#: The bare nginx.conf around the guide's file, in place of the distribution's:
#: every path nginx writes under the test's folder, and an access log that says
#: what the cache did and what the app answered ("-" where nginx did not ask).
MAIN_CONFIG = """\
{user}
daemon off;
worker_processes 1;
pid {folder}/nginx.pid;
error_log {folder}/error.log warn;
events {{
    worker_connections 64;
}}
http {{
    log_format cache_test '$request_method $request_uri $status'
                          ' $upstream_cache_status $upstream_status';
    access_log {folder}/access.log cache_test;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {folder}/jsonp-api.conf;
}}
"""

#: Seconds: how long nginx and gunicorn may take to start, and to stop.
START_TIMEOUT = 30
STOP_TIMEOUT = 10
#: Seconds: nginx writes the access log line just after the answer.
LOG_TIMEOUT = 5


class Answer(NamedTuple):
    """What a client got from nginx, and what nginx did for it."""

    status: int
    headers: Message
    body: bytes
    #: The ``X-Cache-Status`` header the guide adds: ``MISS``, ``HIT``...
    cache_status: str | None
    #: What the app answered nginx for this request; ``-`` where nginx did not
    #: ask the app.
    upstream_status: str


@dataclass
class Deployment:
    """nginx with the guide's configuration, in front of gunicorn."""

    port: int
    upstream_port: int
    tls: ssl.SSLContext
    access_log: Path

    def fetch(
        self, path: str, method: str = "GET", headers: dict[str, str] | None = None
    ) -> Answer:
        """Ask nginx for ``path`` over HTTPS, on a new connection."""
        log_size = self.access_log.stat().st_size
        connection = http.client.HTTPSConnection(
            "127.0.0.1", self.port, context=self.tls, timeout=10
        )
        try:
            connection.request(method, path, headers=headers or {})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        logged_uri, cache_status, upstream_status = self.logged(log_size)
        assert logged_uri == path
        assert response.getheader("X-Cache-Status") in (None, cache_status)
        return Answer(
            response.status,
            response.headers,
            body,
            response.getheader("X-Cache-Status"),
            upstream_status,
        )

    def logged(self, log_size: int) -> tuple[str, str, str]:
        """The URI, cache status and upstream status of the one request that
        nginx logged after the first ``log_size`` bytes.
        """
        deadline = time.monotonic() + LOG_TIMEOUT
        while True:
            with self.access_log.open("rb") as log:
                log.seek(log_size)
                added = log.read()
            if added.endswith(b"\n"):
                break
            if time.monotonic() > deadline:
                raise AssertionError("nginx logged no line for the request")
            time.sleep(0.01)
        (line,) = added.decode().splitlines()
        _, uri, _, cache_status, upstream_status = line.split(" ", 4)
        return uri, cache_status, upstream_status

    def from_app(self, path: str) -> bytes:
        """The app's own answer to ``path``, asked without nginx."""
        url = f"http://127.0.0.1:{self.upstream_port}{path}"
        with urllib.request.urlopen(url, timeout=10) as answer:
            body: bytes = answer.read()
        return body


def require_nginx() -> str:
    """Return the path of nginx (Debian puts it in /usr/sbin), or skip/fail."""
    path = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if path is None:
        missing_tool("nginx is not installed (apt-get install nginx)")
    return path


def site_config(text: str, replacements: dict[str, str]) -> str:
    """The guide's configuration with each of ``replacements`` made; each must
    be found exactly once, so that the tests never run another configuration.
    """
    for guide, here in replacements.items():
        assert text.count(guide) == 1, f"{GUIDE_CONFIG} changed: no single {guide!r}"
        text = text.replace(guide, here)
    return text


def free_port() -> int:
    """A loopback TCP port that is free now."""
    with socket.create_server(("127.0.0.1", 0)) as probe:
        return int(probe.getsockname()[1])


def make_certificate(openssl: str, folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for api.example.com and 127.0.0.1, and its key."""
    certificate, key = folder / "api.pem", folder / "api.key"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec",
         "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
         "-subj", "/CN=api.example.com",
         "-addext", "subjectAltName=DNS:api.example.com,IP:127.0.0.1",
         "-keyout", str(key), "-out", str(certificate)],
        check=True,
        capture_output=True,
        timeout=30,
    )  # fmt: skip
    return certificate, key


def gunicorn_command(port: int) -> list[str]:
    """gunicorn serving the test app on ``port``, with the guide's worker class
    (two workers are plenty for one client).
    """
    # gunicorn >= 25 opens a control socket in ~/.gunicorn, which no test needs.
    major = int(importlib.metadata.version("gunicorn").split(".")[0])
    quiet = ["--log-level=warning", *(["--no-control-socket"] if major >= 25 else [])]
    return [
        *(sys.executable, "-m", "gunicorn", *quiet, "--workers=2"),
        *("--worker-class=sync", f"--bind=127.0.0.1:{port}", APP),
    ]


def stop(process: subprocess.Popen[Any]) -> None:
    """Stop a server started here, killing it if it does not stop in time."""
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def read_logs(*logs: Path) -> str:
    """What a server wrote to ``logs``, those that exist."""
    return "\n".join(log.read_text() for log in logs if log.is_file())


def wait_until_listening(
    name: str, process: subprocess.Popen[Any], port: int, *logs: Path
) -> None:
    """Wait until ``process`` accepts connections on ``port``; say what went
    wrong, from its ``logs``, if it does not.
    """
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{name} exited: {read_logs(*logs)}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"{name} is not listening on {port}: {read_logs(*logs)}")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    nginx = require_nginx()
    openssl = require_executable("openssl")
    if importlib.util.find_spec("gunicorn") is None:
        missing_tool("gunicorn is not installed (the bench dependency group)")
    folder = tmp_path_factory.mktemp("nginx")
    certificate, key = make_certificate(openssl, folder)
    port, upstream_port = free_port(), free_port()
    (folder / "jsonp-api.conf").write_text(
        site_config(
            GUIDE_CONFIG.read_text(),
            {
                "listen 443 ssl http2;": f"listen 127.0.0.1:{port} ssl http2;",
                "server 127.0.0.1:8000;": f"server 127.0.0.1:{upstream_port};",
                "/var/cache/nginx/jsonp": str(folder / "cache"),
                "/etc/ssl/certs/api.example.com.pem": str(certificate),
                "/etc/ssl/private/api.example.com.key": str(key),
            },
        )
    )
    # As root, nginx would run its workers as nobody, who cannot write here.
    user = "user root;" if os.geteuid() == 0 else ""
    (folder / "nginx.conf").write_text(MAIN_CONFIG.format(user=user, folder=folder))
    (folder / "access.log").touch()
    # nginx reports a configuration it refuses on stderr, then in error.log.
    output, error_log = folder / "output.log", folder / "error.log"
    servers: list[subprocess.Popen[Any]] = []
    with output.open("wb") as output_file:
        try:
            servers.append(
                subprocess.Popen(
                    gunicorn_command(upstream_port),
                    cwd=ROOT,
                    stdout=output_file,
                    stderr=subprocess.STDOUT,
                )
            )
            wait_until_listening("gunicorn", servers[-1], upstream_port, output)
            # The master listens before its workers have loaded the app.
            ready = f"http://127.0.0.1:{upstream_port}/api/catalog"
            urllib.request.urlopen(ready, timeout=START_TIMEOUT).close()
            servers.append(
                subprocess.Popen(
                    [nginx, "-p", folder, "-c", folder / "nginx.conf"],
                    stdout=output_file,
                    stderr=subprocess.STDOUT,
                )
            )
            wait_until_listening("nginx", servers[-1], port, output, error_log)
            tls = ssl.create_default_context(cafile=certificate)
            yield Deployment(port, upstream_port, tls, folder / "access.log")
        finally:
            for server in reversed(servers):
                stop(server)


def call_argument(body: bytes, callback: str) -> Any:
    """The value a JSONP answer passes to ``callback``."""
    script = body.decode()
    start = script.rindex(f"{callback}(") + len(callback) + 1
    return json.loads(script[start : script.rindex(");")])


def test_guide_shows_the_configuration_these_tests_run() -> None:
    guide = (ROOT / "docs" / "deploy.md").read_text()
    assert "```{literalinclude} deploy/jsonp-api.conf" in guide
    assert "```nginx" not in guide


@pytest.mark.parametrize(
    ("path", "other_path"),
    [
        pytest.param(
            "/api/catalog?page=2&callback=onCatalogPage2",
            "/api/catalog?page=2&callback=onCatalogPageTwo",
            id="another callback",
        ),
        pytest.param(
            "/api/catalog?page=3&callback=onCatalogPage3",
            "/api/catalog?page=4&callback=onCatalogPage3",
            id="another page",
        ),
        pytest.param(
            f"/api/widgets?callback={WIDGETS_CALLBACK}",
            f"/api/widgets?callback={WIDGETS_CALLBACK}&_=1700000000000",
            id="allowlisted callback, jQuery's timestamp",
        ),
    ],
)
def test_public_answer_is_stored_per_url(
    deployment: Deployment, path: str, other_path: str
) -> None:
    first = deployment.fetch(path)
    assert (first.status, first.cache_status, first.upstream_status) == (
        200,
        "MISS",
        "200",
    )
    assert first.body == deployment.from_app(path)

    again = deployment.fetch(path)
    assert (again.status, again.cache_status, again.upstream_status) == (
        200,
        "HIT",
        "-",
    )
    assert again.body == first.body
    for header in ("Content-Type", "X-Content-Type-Options", "Cache-Control"):
        assert again.headers[header] == first.headers[header]

    other = deployment.fetch(other_path)
    assert (other.status, other.cache_status, other.upstream_status) == (
        200,
        "MISS",
        "200",
    )
    assert other.body == deployment.from_app(other_path)


@pytest.mark.parametrize(
    "page_headers",
    [
        pytest.param({"Referer": f"{APP_ORIGIN}/dashboard"}, id="allowed referrer"),
        pytest.param({"Sec-Fetch-Site": "same-origin"}, id="same-origin request"),
    ],
)
def test_page_dependent_answer_is_never_stored(
    deployment: Deployment, page_headers: dict[str, str]
) -> None:
    path = "/api/account?callback=onAccount"
    for _ in range(2):
        answer = deployment.fetch(path, headers=page_headers)
        assert (answer.status, answer.cache_status, answer.upstream_status) == (
            200,
            "MISS",
            "200",
        )
        assert call_argument(answer.body, "onAccount") == {"plan": "team", "seats": 12}
        # The view asked for "public, max-age=300".
        assert "private" in answer.headers["Cache-Control"]
        assert "public" not in answer.headers["Cache-Control"]
        assert {"Referer", "Sec-Fetch-Site"} <= {
            name.strip() for name in answer.headers["Vary"].split(",")
        }


def test_page_dependent_answer_is_not_served_to_another_page(
    deployment: Deployment,
) -> None:
    path = "/api/account?callback=onAccountOther"
    allowed = deployment.fetch(path, headers={"Referer": f"{APP_ORIGIN}/"})
    assert allowed.status == 200
    refused = deployment.fetch(path, headers={"Referer": "https://other.example/"})
    assert (refused.status, refused.upstream_status) == (403, "403")
    assert b"onAccountOther" not in refused.body


@pytest.mark.parametrize(
    ("method", "path", "headers", "status"),
    [
        pytest.param("GET", "/api/catalog?callback=alert%281%29", {}, 400, id="400"),
        pytest.param("GET", "/api/widgets?callback=onGadgets", {}, 403, id="403"),
        pytest.param(
            "GET",
            "/api/account?callback=onAccount",
            {"Referer": "https://other.example/"},
            403,
            id="403 referrer",
        ),
        pytest.param("POST", "/api/orders?callback=onOrders", {}, 405, id="405"),
        pytest.param("GET", "/api/legacy?callback=onLegacy", {}, 410, id="410"),
    ],
)
def test_refusal_is_never_stored(
    deployment: Deployment,
    method: str,
    path: str,
    headers: dict[str, str],
    status: int,
) -> None:
    for _ in range(2):
        answer = deployment.fetch(path, method=method, headers=headers)
        assert answer.status == status
        assert answer.cache_status != "HIT"
        assert answer.upstream_status == str(status)
        assert answer.headers["Content-Type"] == "application/json"
        # The view asked for "public, max-age=300"; its refusals state no
        # lifetime (the allowlist's are private).
        assert answer.headers["Cache-Control"] in (None, "private")


def test_refusal_given_a_lifetime_by_a_hook_is_stored(deployment: Deployment) -> None:
    path = "/api/hooked?callback=alert%281%29"
    first = deployment.fetch(path)
    again = deployment.fetch(path)
    assert (first.status, first.cache_status) == (400, "MISS")
    assert (again.status, again.cache_status, again.upstream_status) == (
        400,
        "HIT",
        "-",
    )


def test_expired_answer_is_revalidated_with_the_app(deployment: Deployment) -> None:
    path = "/api/ticker?callback=onTicker"
    first = deployment.fetch(path)
    assert (first.status, first.cache_status) == (200, "MISS")
    assert (first.headers["ETag"] or "").startswith('W/"'), "no weak ETag to revalidate"
    # Ask until the entry has expired; nginx rounds lifetimes to whole seconds.
    deadline = time.monotonic() + SHORT_MAX_AGE + 3
    answer = deployment.fetch(path)
    while answer.cache_status == "HIT" and time.monotonic() < deadline:
        time.sleep(0.1)
        answer = deployment.fetch(path)
    assert answer.cache_status == "REVALIDATED"
    assert answer.upstream_status == "304"
    assert answer.status == 200
    assert answer.body == first.body
    assert call_argument(answer.body, "onTicker") == {"symbol": "JSONP", "price": 42}


def test_answer_is_compressed_for_clients_that_accept_gzip(
    deployment: Deployment,
) -> None:
    path = "/api/catalog?page=9&callback=onCatalogPage9"
    plain = deployment.fetch(path)
    compressed = deployment.fetch(path, headers={"Accept-Encoding": "gzip"})
    assert compressed.cache_status == "HIT"
    assert compressed.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(compressed.body) == plain.body
    assert plain.headers["Content-Encoding"] is None


def test_app_sees_the_client_request_through_proxy_fix(
    deployment: Deployment,
) -> None:
    answer = deployment.fetch("/api/request?callback=onRequest")
    assert call_argument(answer.body, "onRequest") == {
        "scheme": "https",
        "remote_addr": "127.0.0.1",
    }
