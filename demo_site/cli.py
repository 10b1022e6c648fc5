"""``python -m demo_site``: serve the page and the API, two origins, in one
process.

Both servers listen on the loopback interface only. The page is announced as
``http://localhost:<page port>`` and the API as ``http://127.0.0.1:<api port>``:
two host names and two ports, so the browser sees two origins.
"""

from __future__ import annotations

import argparse
import errno
import signal
import socket
import sys
import threading
from collections.abc import Sequence
from types import FrameType
from typing import Any
from typing import NoReturn

from flask import Flask
from werkzeug.serving import BaseWSGIServer
from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

from .api import create_api_app
from .page import create_page_app

#: The ports of the Makefile's ``make demo`` and of the README.
DEFAULT_PAGE_PORT = 5000
DEFAULT_API_PORT = 5001

#: The servers never listen beyond this machine.
BIND_ADDRESS = "127.0.0.1"

#: Host names of the two origins; both reach :data:`BIND_ADDRESS`.
PAGE_HOST = "localhost"
API_HOST = "127.0.0.1"

#: Exit status for a command line that cannot be served, as argparse uses.
USAGE_ERROR = 2


class PortUnavailable(Exception):
    """A port given on the command line cannot be listened on."""


def port_number(value: str) -> int:
    """Parse a TCP port for argparse; ``0`` lets the system pick a free one."""
    try:
        port = int(value)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number (0-65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of the demo's command line."""
    parser = argparse.ArgumentParser(
        prog="python -m demo_site",
        description=(
            "Serve the flask-jsonp demo: a page on http://localhost:PAGE_PORT that"
            " reads an API on http://127.0.0.1:API_PORT, another origin, by JSONP."
        ),
    )
    parser.add_argument(
        "--page-port",
        type=port_number,
        default=DEFAULT_PAGE_PORT,
        metavar="PORT",
        help=f"port of the page (default {DEFAULT_PAGE_PORT}; 0: any free port)",
    )
    parser.add_argument(
        "--api-port",
        type=port_number,
        default=DEFAULT_API_PORT,
        metavar="PORT",
        help=f"port of the API (default {DEFAULT_API_PORT}; 0: any free port)",
    )
    return parser


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line; exit with status 2 and a usage message on errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.page_port == args.api_port != 0:
        parser.error("--page-port and --api-port must differ")
    return args


def listen(port: int, flag: str) -> socket.socket:
    """Open a listening socket on ``port`` of :data:`BIND_ADDRESS`.

    :param flag: the option that chose the port, named in the error.
    :raise PortUnavailable: with a one-line message for the user.
    """
    try:
        return socket.create_server((BIND_ADDRESS, port))
    except OSError as error:
        if error.errno == errno.EADDRINUSE:
            message = f"port {port} is already in use; choose another with {flag}"
        else:
            message = (
                f"cannot listen on {BIND_ADDRESS}:{port} ({error.strerror});"
                f" choose another port with {flag}"
            )
        raise PortUnavailable(message) from None


def labelled_handler(label: str) -> type[WSGIRequestHandler]:
    """Return a request handler whose log lines say which origin answered."""

    class LabelledRequestHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            super().log(type, f"[{label}] {message}", *args)

    return LabelledRequestHandler


def start_server(listener: socket.socket, app: Flask, label: str) -> BaseWSGIServer:
    """Serve ``app`` on ``listener`` from a daemon thread; return the server.

    The server works on a duplicate of the socket, so ``listener`` is closed.
    """
    with listener:
        server = make_server(
            BIND_ADDRESS,
            listener.getsockname()[1],
            app,
            threaded=True,
            request_handler=labelled_handler(label),
            fd=listener.fileno(),
        )
    threading.Thread(
        target=server.serve_forever, name=f"demo {label} server", daemon=True
    ).start()
    return server


def stop_on_sigterm(signum: int, frame: FrameType | None) -> NoReturn:
    """Stop on ``kill`` as on Ctrl-C: shut the servers down cleanly."""
    # A second SIGTERM (``timeout make demo`` sends one to make and one to us)
    # must not interrupt the shutdown the first one started.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo until Ctrl-C; return the exit status."""
    args = parse_args(argv)
    listeners: list[socket.socket] = []
    try:
        listeners.append(listen(args.page_port, "--page-port"))
        listeners.append(listen(args.api_port, "--api-port"))
    except PortUnavailable as error:
        for listener in listeners:
            listener.close()
        print(f"error: {error}", file=sys.stderr)
        return USAGE_ERROR
    page_listener, api_listener = listeners
    page_url = f"http://{PAGE_HOST}:{page_listener.getsockname()[1]}"
    api_url = f"http://{API_HOST}:{api_listener.getsockname()[1]}"
    servers = [
        start_server(api_listener, create_api_app(page_url), "api"),
        start_server(page_listener, create_page_app(api_url), "page"),
    ]
    print(
        "flask-jsonp demo, two origins on this machine:\n"
        f"  page  {page_url}  <- open this one in a browser\n"
        f"  API   {api_url}\n"
        "Press Ctrl-C to stop.",
        flush=True,
    )
    previous_sigterm_handler = signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopped", flush=True)
    finally:
        signal.signal(signal.SIGTERM, previous_sigterm_handler)
        for server in servers:
            server.shutdown()
            server.server_close()
    return 0
