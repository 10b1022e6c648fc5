"""HTTP errors raised when a JSONP request is refused.

They are Werkzeug :class:`~werkzeug.exceptions.HTTPException` subclasses, so the
application's error handlers can reshape them (``@app.errorhandler(InvalidCallback)``
or ``@app.errorhandler(400)``). Their default answer is a short JSON object, never a
script, and never echoes the callback the client sent.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from werkzeug.exceptions import BadRequest
from werkzeug.exceptions import Forbidden
from werkzeug.exceptions import Gone
from werkzeug.exceptions import HTTPException
from werkzeug.exceptions import MethodNotAllowed
from werkzeug.sansio.response import Response as SansIOResponse

#: JSONP is answered to these methods only: a ``<script>`` tag can only GET.
JSONP_METHODS = ("GET", "HEAD")

#: Answers that depend on the referrer allowlist vary with these request headers.
REFERRER_HEADERS = ("Referer", "Sec-Fetch-Site")


#: ``X-Content-Type-Options`` of every answer of a JSONP view.
NOSNIFF = "nosniff"


def add_nosniff(response: SansIOResponse) -> None:
    """Forbid browsers to guess another content type than the declared one."""
    response.headers["X-Content-Type-Options"] = NOSNIFF


class JsonpRequestError(HTTPException):
    """Base class of the refusals of a JSONP request.

    .. versionadded:: 0.1
    """

    #: A stable, machine-readable reason, the ``"error"`` member of the body.
    error = "jsonp_refused"

    def get_response(
        self, environ: Any = None, scope: dict[str, Any] | None = None
    ) -> Any:
        """Build the refusal's answer: ``{"error": ..., "message": ...}`` as
        ``application/json``, with the error's status, its headers (``Allow``,
        ``Vary``) and ``X-Content-Type-Options: nosniff``. Werkzeug calls it
        when the error reaches no handler of the app; it needs an app context,
        for the app's JSON provider.

        :param environ: the WSGI environment of the request, if any.
        :param scope: the ASGI scope of the request, if any.
        :return: a new response of the app's
            :attr:`~flask.Flask.response_class`.
        :rtype: ~flask.Response
        """
        response = current_app.json.response(
            {"error": self.error, "message": self.description}
        )
        response.status_code = self.code or 500
        for name, value in self.get_headers(environ, scope):
            if name.lower() != "content-type":
                response.headers[name] = value
        add_nosniff(response)
        return response


class InvalidCallback(JsonpRequestError, BadRequest):
    """The callback parameter is missing its value, repeated, too long, or not a
    valid JavaScript name.

    .. versionadded:: 0.1
    """

    error = "invalid_callback"
    description = (
        "The callback parameter must be a JavaScript function name such as"
        " 'onData' or 'app.callbacks.onData'."
    )


class CallbackNotAllowed(JsonpRequestError, Forbidden):
    """The callback is valid but not in the endpoint's ``allowed_callbacks``.

    .. versionadded:: 0.1
    """

    error = "callback_not_allowed"
    description = "This callback name is not allowed by this endpoint."


class ReferrerNotAllowed(JsonpRequestError, Forbidden):
    """The page asking (its ``Referer``) is not in ``allowed_referrers``, or the
    request carries no usable ``Referer``.

    .. versionadded:: 0.1
    """

    error = "referrer_not_allowed"
    description = "This endpoint answers JSONP only to pages of allowed origins."

    def get_headers(
        self, environ: Any = None, scope: dict[str, Any] | None = None
    ) -> list[tuple[str, str]]:
        """Say that the refusal depends on the page that asked, as the answers
        to allowed pages do, so no cache serves it to another page.
        """
        return [
            *super().get_headers(environ, scope),
            ("Vary", ", ".join(REFERRER_HEADERS)),
        ]


class JsonpMethodNotAllowed(JsonpRequestError, MethodNotAllowed):
    """A callback was given with another method than GET or HEAD.

    .. versionadded:: 0.1
    """

    error = "method_not_allowed"
    description = "JSONP is only answered to GET and HEAD requests."

    def __init__(self) -> None:
        super().__init__(valid_methods=list(JSONP_METHODS))


class JsonpGone(JsonpRequestError, Gone):
    """JSONP was retired from this endpoint: its ``sunset`` has passed.

    Only JSONP requests are refused; the same URL without a callback (plain JSON,
    CORS) is answered as before. With the envelope the page gets a script that
    passes ``meta.status`` 410 to its callback instead.

    .. versionadded:: 0.1
    """

    error = "gone"
    description = (
        "This endpoint no longer answers JSONP. Ask for JSON without the callback"
        " parameter (with CORS from a page of another origin)."
    )
