"""Serve a WSGI app on an ephemeral loopback port, in a background thread.

The same server answers on two origins: pages are loaded from
``http://localhost:PORT`` and the API is called on ``http://127.0.0.1:PORT``, so
every JSONP request a page makes is a cross-origin one, as in production.
"""

from __future__ import annotations

import threading
from types import TracebackType
from typing import TYPE_CHECKING

from werkzeug.serving import make_server
from werkzeug.serving import WSGIRequestHandler

if TYPE_CHECKING:
    from _typeshed.wsgi import WSGIApplication

#: Seconds to wait for the serving thread to stop.
SHUTDOWN_TIMEOUT = 5.0

#: Seconds between the serving thread's checks for a shutdown request (the
#: default, 0.5, would add that much to every test that starts a server).
POLL_INTERVAL = 0.02


class QuietRequestHandler(WSGIRequestHandler):
    """Log errors only: a line per request would bury a failure's output."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class LiveServer:
    """A running server for one WSGI app (a Flask app is one).

    Use it as a context manager, or call :meth:`close`::

        with LiveServer(app) as server:
            page.goto(server.page_url("/"))
            api = server.api_url("/api/data")
    """

    def __init__(self, app: WSGIApplication) -> None:
        # Port 0: the OS picks a free port, so parallel runs never collide.
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler
        )
        self.port: int = self._server.server_port
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            args=(POLL_INTERVAL,),
            name=f"live-server-{self.port}",
            daemon=True,
        )
        self._thread.start()

    @property
    def page_origin(self) -> str:
        """The origin pages are loaded from: ``http://localhost:PORT``."""
        return f"http://localhost:{self.port}"

    @property
    def api_origin(self) -> str:
        """The origin the API is called on: ``http://127.0.0.1:PORT``."""
        return f"http://127.0.0.1:{self.port}"

    def page_url(self, path: str = "/") -> str:
        """An absolute URL on the page origin."""
        return self.page_origin + path

    def api_url(self, path: str = "/") -> str:
        """An absolute URL on the API origin."""
        return self.api_origin + path

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(SHUTDOWN_TIMEOUT)

    def __enter__(self) -> LiveServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
