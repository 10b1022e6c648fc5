"""The one mechanism that turns a JSON answer into a JSONP answer.

Every entry point (:func:`~flask_jsonp.jsonp`, :func:`~flask_jsonp.jsonpify` and
:meth:`~flask_jsonp.JSONP.enable_blueprint`) calls :func:`prepare` before the view
runs and :func:`finish` on the response it produced. :func:`prepare` refuses bad
requests before the view can have any effect; :func:`finish` builds the script.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from flask import request
from flask import Response
from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES

from .callback import is_valid_callback
from .errors import add_nosniff
from .errors import CallbackNotAllowed
from .errors import InvalidCallback
from .errors import JSONP_METHODS
from .errors import JsonpMethodNotAllowed
from .errors import REFERRER_HEADERS
from .errors import ReferrerNotAllowed
from .options import JsonpOptions
from .options import options_for
from .referrer import origin_allowed
from .referrer import parse_origin
from .response import JAVASCRIPT_MIMETYPE
from .response import jsonp_body
from .state import state_for


@dataclass(frozen=True)
class JsonpRequest:
    """The outcome of :func:`prepare`: the checked callback, if any, and the
    options that apply.

    .. versionadded:: 0.1
    """

    #: ``None`` when the request asked for plain JSON.
    callback: str | None
    options: JsonpOptions


def _callback_from_query(options: JsonpOptions) -> str | None:
    query = request.environ.get("QUERY_STRING", "")
    encoded = "%" in query or "+" in query
    if not (encoded or any(param in query for param in options.callback_params)):
        # Parsing the query costs more than the rest of a plain JSON request's
        # check; a parameter name can hide only behind percent or plus encoding.
        return None
    try:
        args = request.args
    except UnicodeDecodeError:
        # Werkzeug refuses to guess the encoding of a query string that is not
        # UTF-8; no valid callback can be in it.
        raise InvalidCallback("The query string is not valid UTF-8.") from None
    for param in options.callback_params:
        values = args.getlist(param)
        if len(values) > 1:
            # Two callbacks are ambiguous, and front ends and back ends may
            # disagree on which one wins (HTTP parameter pollution).
            raise InvalidCallback(f"The {param!r} parameter is given more than once.")
        if values:
            return values[0]
    return None


def _referrer_allowed(options: JsonpOptions) -> bool:
    if options.allowed_referrers is None:
        return True
    origin = parse_origin(request.referrer or "")
    if origin is None:
        # Fail closed: no usable Referer (stripped by a Referrer-Policy, a proxy or
        # a privacy tool) is refused, unless the browser says the request comes
        # from this very origin.
        return request.headers.get("Sec-Fetch-Site") == "same-origin"
    return origin_allowed(origin, options.allowed_referrers)


def prepare(overrides: Mapping[str, Any]) -> JsonpRequest:
    """Read and check the JSONP part of the current request.

    Call it before the view runs: a refused request must not reach the view.

    :param overrides: options given in code (decorator or blueprint mode).
    :raise InvalidCallback: the callback is empty, repeated, too long or not a
        valid JavaScript name.
    :raise JsonpMethodNotAllowed: a callback was given with a method other than
        GET or HEAD.
    :raise CallbackNotAllowed: the callback is not in ``allowed_callbacks``.
    :raise ReferrerNotAllowed: the page's origin is not in ``allowed_referrers``.

    .. versionadded:: 0.1
    """
    options = options_for(current_app, overrides)
    callback = _callback_from_query(options)
    if callback is None:
        return JsonpRequest(None, options)
    if request.method not in JSONP_METHODS:
        raise JsonpMethodNotAllowed()
    if not is_valid_callback(callback, options.max_callback_length):
        raise InvalidCallback()
    if (
        options.allowed_callbacks is not None
        and callback not in options.allowed_callbacks
    ):
        raise CallbackNotAllowed()
    if not _referrer_allowed(options):
        raise ReferrerNotAllowed()
    return JsonpRequest(callback, options)


def _error_data(response: Response, error: HTTPException | None) -> Any:
    """What an enveloped error passes to the callback: the error handler's JSON
    if it answered JSON, else the error's name and description (never a body
    that could hold a traceback).
    """
    if response.is_json:
        return response.get_json(silent=True)
    if error is None:
        error_class = default_exceptions.get(response.status_code)
        if error_class is not None:
            error = error_class()
    if error is not None:
        return {"name": error.name, "description": error.description}
    return {"name": HTTP_STATUS_CODES.get(response.status_code, "Unknown Error")}


def _warn_credentialed(options: JsonpOptions) -> None:
    if options.allowed_referrers is not None:
        return
    # The environ, not request.cookies: parsing cookies on every answer is costly.
    environ = request.environ
    if "HTTP_COOKIE" not in environ and "HTTP_AUTHORIZATION" not in environ:
        return
    endpoint = request.endpoint or request.path
    warned = state_for(current_app).warned_endpoints
    if endpoint in warned:
        return
    warned.add(endpoint)
    current_app.logger.warning(
        "JSONP endpoint %r answered a request that carries cookies or an"
        " Authorization header, without a referrer allowlist: any web page can"
        " read this answer with the visitor's credentials. Set allowed_referrers"
        " or serve only public data.",
        endpoint,
    )


def finish(
    response: Response,
    jsonp_request: JsonpRequest,
    error: HTTPException | None = None,
) -> Response:
    """Turn a JSON response into a JSONP response, in place, when the request
    asked for one.

    Without a callback, and for responses that are not JSON (HTML, files,
    redirects, streams), the response is left as it is, with
    ``X-Content-Type-Options: nosniff`` added. Error responses (status >= 400)
    are wrapped only with the envelope, which answers 200 and reports the status
    to the callback.

    :param response: the view's response, after the app's error handlers.
    :param jsonp_request: what :func:`prepare` returned for this request.
    :param error: the HTTP error the response answers, if known.

    .. versionadded:: 0.1
    """
    add_nosniff(response)
    callback, options = jsonp_request.callback, jsonp_request.options
    if callback is None:
        return response
    status = response.status_code
    if options.envelope and status >= 400:
        json_body = current_app.json.dumps(_error_data(response, error)).encode()
    elif (
        response.is_json
        and not (response.is_streamed or response.direct_passthrough)
        and (options.envelope or status < 400)
    ):
        json_body = response.get_data() or b"null"
    else:
        return response
    _warn_credentialed(options)
    body = jsonp_body(
        callback, json_body, envelope_status=status if options.envelope else None
    )
    if options.envelope:
        response.status_code = 200
    response.response = body.chunks
    response.content_length = body.length
    response.content_type = f"{JAVASCRIPT_MIMETYPE}; charset=utf-8"
    # Let pages that require CORP (Cross-Origin-Embedder-Policy) load the script.
    response.headers["Cross-Origin-Resource-Policy"] = "cross-origin"
    if options.allowed_referrers is not None:
        # The answer depends on the page that asked: keep shared caches from
        # serving it to another page.
        response.vary.update(REFERRER_HEADERS)
        response.cache_control.public = False
        response.cache_control.private = True
    return response
