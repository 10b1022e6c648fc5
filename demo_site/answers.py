"""The demo API's record of the answers it sent, so that the page can show what
arrived.

A page may run a cross-origin script but never read its text, and may not read
an answer that the same-origin policy withholds. The demo wants to show both: the
script a JSONP request got, and a refusal's status and JSON. So the API keeps its
last few answers, exactly as it sent them, and the page asks for the one to the
URL it requested, through an endpoint that CORS opens to the page. No request is
made twice. A real API has no such log: it exists to make the demo concrete.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any
from typing import TypedDict

from flask import Flask
from flask import request
from flask import Response
from flask.signals import request_finished

#: Answers kept: enough for every step of the page and the runs of other tabs.
ANSWER_LOG_SIZE = 64

#: Characters of a body kept; the demo's answers are a few hundred.
MAX_BODY_CHARS = 4000


class Answer(TypedDict):
    """One answer, as the page shows it."""

    #: The request line's method and target, e.g. ``GET /api/user?callback=f``.
    request: str
    #: The status line's code and reason, e.g. ``200 OK``.
    status: str
    #: The headers the app set, in order (the server adds ``Date`` and ``Server``).
    headers: list[tuple[str, str]]
    body: str
    truncated: bool


def request_target() -> str:
    """The path and query of the current request as the client wrote them."""
    # Werkzeug's server passes the raw target; the test client does not.
    raw = request.environ.get("RAW_URI")
    return str(raw) if raw else request.full_path.rstrip("?")


class AnswerLog:
    """The last :data:`ANSWER_LOG_SIZE` answers of an app, newest last.

    :param app: the app whose answers to record.
    :param skip_endpoints: endpoints whose answers are not recorded: the log's
        own, so that reading it does not push the answers out.
    """

    def __init__(self, app: Flask, skip_endpoints: frozenset[str]) -> None:
        self._answers: deque[Answer] = deque(maxlen=ANSWER_LOG_SIZE)
        self._lock = threading.Lock()
        self._skip_endpoints = skip_endpoints
        # A bound method: blinker holds it weakly, the app holds this log.
        request_finished.connect(self.record, app)

    def record(self, sender: Flask, response: Response, **extra: Any) -> None:
        """Keep ``response``, the final answer to the current request."""
        if request.endpoint in self._skip_endpoints or request.method == "OPTIONS":
            return
        if response.direct_passthrough:  # a file: its body is not in memory
            body, truncated = "(a file, not recorded)", False
        else:
            text = response.get_data().decode("utf-8", "replace")
            body, truncated = text[:MAX_BODY_CHARS], len(text) > MAX_BODY_CHARS
        answer = Answer(
            request=f"{request.method} {request_target()}",
            status=response.status,
            headers=list(response.headers.items()),
            body=body,
            truncated=truncated,
        )
        with self._lock:
            self._answers.append(answer)

    def find(self, target: str) -> Answer | None:
        """The newest answer to a GET of ``target`` (a path and query)."""
        wanted = f"GET {target}"
        with self._lock:
            for answer in reversed(self._answers):
                if answer["request"] == wanted:
                    return answer
        return None
