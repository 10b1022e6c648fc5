"""Building the JSONP answer: from a view's return value in one step, or from a
response that Flask has already made.

These functions are given everything they need (the app, the plan, the callback,
the WSGI environ) by :mod:`flask_jsonp.wrapping`, which decides when they run.
"""

from __future__ import annotations

import hashlib
import logging
import zlib
from collections.abc import Mapping
from typing import Any
from typing import NamedTuple

from flask import Flask
from flask import Response
from flask.json.provider import DefaultJSONProvider
from flask.json.provider import JSONProvider
from werkzeug.datastructures import Headers
from werkzeug.exceptions import default_exceptions
from werkzeug.exceptions import HTTPException
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.http import parse_etags

from .errors import add_nosniff
from .errors import NOSNIFF
from .errors import REFERRER_HEADERS
from .json_bytes import orjson_bytes
from .json_bytes import ORJSON_PROVIDER
from .plan import JsonpPlan
from .response import JAVASCRIPT_MIMETYPE
from .response import joined_script
from .response import jsonp_body
from .response import JsonpBody
from .state import MAX_WARNED_ENDPOINTS
from .state import state_for

#: Messages about JSONP use that deserves a look (credentialed answers).
logger = logging.getLogger("flask_jsonp")

#: Content type of JSONP answers.
JAVASCRIPT_CONTENT_TYPE = f"{JAVASCRIPT_MIMETYPE}; charset=utf-8"

#: Headers of every JSONP answer besides its type and length: nosniff, and CORP
#: to let pages that require it (Cross-Origin-Embedder-Policy) load the script.
JSONP_HEADERS = (
    ("X-Content-Type-Options", NOSNIFF),
    ("Cross-Origin-Resource-Policy", "cross-origin"),
)

#: Werkzeug keeps a response's headers as a list of pairs, and checks every
#: value it is given for newlines, on each ``add`` and again when the response
#: is sent. The headers flask-jsonp adds to a new answer are its own constants
#: and hex digests, which need no check: where Werkzeug keeps that list, they
#: are appended to it, which saves about 2 % of a small JSONP answer's
#: instructions. Decided once; elsewhere, ``Headers.add``.
_APPEND_TO_HEADER_LIST = isinstance(getattr(Headers(), "_list", None), list)


def append_headers(headers: Headers, pairs: tuple[tuple[str, str], ...]) -> None:
    """Add ``pairs`` of flask-jsonp's own making (no newline in a value) to
    ``headers``.
    """
    if _APPEND_TO_HEADER_LIST:
        headers._list.extend(pairs)
    else:
        for name, value in pairs:
            headers.add(name, value)


#: Headers of the view's response that a JSONP answer replaces or drops: its
#: type and length, and what described the JSON bytes (their entity tag, their
#: encoding), which the script no longer is.
_REPLACED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "content-encoding",
        "etag",
        *(name.lower() for name, _ in JSONP_HEADERS),
    }
)

#: Headers that tell a CDN or a reverse proxy how long to keep a response, in
#: place of its ``Cache-Control``. A cache that obeys one of them may store an
#: answer that ``Cache-Control: private`` keeps out of shared caches, and many do
#: not key their entries on ``Vary: Referer``: a page-dependent answer loses them
#: all, so that every cache falls back on ``Cache-Control``. Lower case, as
#: compared.
CDN_CACHE_HEADERS = frozenset(
    {
        # RFC 9213, Targeted HTTP Cache Control: for every CDN that implements it
        # (Cloudflare, Akamai, Vercel, Netlify...).
        "cdn-cache-control",
        # Cloudflare's own targeted field, read before CDN-Cache-Control.
        "cloudflare-cdn-cache-control",
        # Akamai's own targeted field, and its older Edge-Control.
        "akamai-cache-control",
        "edge-control",
        # Vercel's and Netlify's own targeted fields, read before the others.
        "vercel-cdn-cache-control",
        "netlify-cdn-cache-control",
        # The W3C Edge Architecture note (2001), for reverse proxies and CDNs;
        # Fastly prefers it over Cache-Control.
        "surrogate-control",
        # nginx (proxy_cache, fastcgi_cache): a TTL that overrides
        # Cache-Control, private included.
        "x-accel-expires",
        # LiteSpeed Web Server's cache, which follows it whatever Cache-Control
        # says.
        "x-litespeed-cache-control",
    }
)

#: Content codings whose body the standard library can decode before wrapping;
#: a body in another coding (``br``, ``zstd``) is left as it is.
_GZIP_WBITS = 16 + zlib.MAX_WBITS
_WBITS = {"gzip": _GZIP_WBITS, "x-gzip": _GZIP_WBITS, "deflate": zlib.MAX_WBITS}


def dumps(app: Flask, obj: Any) -> bytes:
    """Serialize ``obj`` as :func:`flask.json.jsonify` would, to UTF-8 bytes.

    A provider whose ``response()`` is Flask's own is asked for ``dumps()``
    with the arguments that ``response()`` would pass, which saves building a
    response only to read its body; any other provider is asked for its
    response. flask-orjson's provider (exactly that class) is asked for nothing:
    its ``dumps()`` decodes the bytes of ``orjson.dumps`` to a string, which
    would be encoded again here; :func:`~flask_jsonp.json_bytes.orjson_bytes`
    calls ``orjson.dumps`` as it does, and keeps the bytes.
    """
    # Any: Flask 2.3 and 3 type providers and their responses differently.
    # (No typing.cast on this path: it is a call at run time.)
    provider: Any = app.json
    provider_class = type(provider)
    response_method = provider_class.response
    text: Any
    if response_method is DefaultJSONProvider.response:
        compact = provider.compact
        if compact is False or (compact is None and app.debug):
            text = provider.dumps(obj, indent=2)
        else:
            text = provider.dumps(obj, separators=(",", ":"))
    elif response_method is JSONProvider.response:
        if provider_class is ORJSON_PROVIDER:
            return orjson_bytes(provider, obj)
        text = provider.dumps(obj)
    else:
        data: bytes = provider.response(obj).get_data()
        return data
    encoded: bytes = text.encode()
    return encoded


def error_data(
    response: Response, error: HTTPException | None, trust_body: bool
) -> Any:
    """What an enveloped error passes to the callback.

    :param response: the error answer.
    :param error: the HTTP error it answers, if known.
    :param trust_body: whether the response's JSON may be passed on: only for
        errors raised by the view, whose handlers are the app's. Otherwise the
        callback gets the status's standard name and description, never a body
        that could hold a traceback.
    """
    if trust_body and response.is_json:
        return response.get_json(silent=True)
    if error is None:
        error_class = default_exceptions.get(response.status_code)
        if error_class is not None:
            error = error_class()
    if error is not None:
        return {"name": error.name, "description": error.description}
    return {"name": HTTP_STATUS_CODES.get(response.status_code, "Unknown Error")}


def warn_credentialed(app: Flask, endpoint: str | None) -> None:
    """Log once per endpoint that it answered JSONP to a request that carries
    credentials (cookies, ``Authorization``), without a referrer allowlist.
    """
    warned = state_for(app).warned_endpoints
    if endpoint in warned or len(warned) >= MAX_WARNED_ENDPOINTS:
        return
    warned.add(endpoint)
    logger.warning(
        "JSONP endpoint %r answered a request that carries cookies or an"
        " Authorization header, without a referrer allowlist: any web page can"
        " read this answer with the visitor's credentials. Set allowed_referrers"
        " or serve only public data.",
        endpoint,
    )


def copy_response(response: Response) -> Response:
    """Return a response that can be changed without changing ``response``,
    which the view that returned it may reuse (a memoized or module-level
    response): the same body and status, headers of its own.
    """
    copied = _shallow_copy(response)
    copied.headers = response.headers.copy()
    return copied


def _shallow_copy(response: Response) -> Response:
    """A new response object with the attributes of ``response``, whose
    headers and callbacks on close are still shared: the caller gives it its
    own headers.
    """
    # What copy.copy does for an object with a __dict__, without its
    # protocol's detour.
    copied = object.__new__(type(response))
    copied.__dict__.update(response.__dict__)
    on_close = getattr(response, "_on_close", None)
    if on_close is not None:
        copied._on_close = list(on_close)
    return copied


def make_private(response: Response) -> None:
    """Keep shared caches from serving an answer that depends on the page to
    another page, merged with the view's own ``Vary`` and ``Cache-Control``,
    without the view's :data:`CDN_CACHE_HEADERS`.
    """
    headers = response.headers
    response.vary.update(REFERRER_HEADERS)
    response.cache_control.public = False
    response.cache_control.private = True
    # One pass over the headers; a removal only for those the view set.
    for name in CDN_CACHE_HEADERS.intersection(headers.keys(lower=True)):
        headers.remove(name)


def add_notice(response: Response, plan: JsonpPlan) -> None:
    """Add the headers that announce the end of JSONP, if any."""
    for name, value in plan.notice_headers:
        if name == "Link":
            response.headers.add(name, value)
        else:
            response.headers[name] = value


class _ViewHeaders(NamedTuple):
    """What a JSONP answer takes from the headers of the view's response."""

    #: Those it keeps: all but :data:`_REPLACED_HEADERS`.
    kept: list[tuple[str, str]]
    #: The view's ``ETag``, if any.
    etag: str | None
    #: The body's content coding.
    coding: str


def _read_view_headers(headers: Headers) -> _ViewHeaders:
    """Read the headers of the view's response in one pass. (Werkzeug's
    ``Headers.get`` raises and catches an HTTP exception for a name that is
    not there, which costs more than this whole pass.)
    """
    kept = []
    etag = None
    coding = "identity"
    for name, value in headers:
        lower = name.lower()
        if lower not in _REPLACED_HEADERS:
            kept.append((name, value))
        elif lower == "etag" and etag is None:
            etag = value
        elif lower == "content-encoding" and coding == "identity":
            coding = value.strip().lower()
    return tuple.__new__(_ViewHeaders, (kept, etag, coding))


def _set_answer_headers(
    response: Response, plan: JsonpPlan, length: int, kept: list[tuple[str, str]]
) -> None:
    """Give a response the headers of a JSONP answer, keeping the view's
    ``kept`` ones.
    """
    # One new list: setting a header scans and rewrites the list each time.
    # The view's values were checked when they were set, and the others are
    # flask-jsonp's own: appended as they are.
    headers = Headers()
    append_headers(
        headers,
        (
            *kept,
            ("Content-Type", JAVASCRIPT_CONTENT_TYPE),
            ("Content-Length", str(length)),
            *JSONP_HEADERS,
        ),
    )
    response.headers = headers
    add_notice(response, plan)


#: JSON up to this many bytes is tagged with BLAKE2b, which Python implements
#: itself, over one string; more, with SHA-1 from OpenSSL, as Werkzeug tags
#: responses, fed piece by piece so that the body is not copied. In a request,
#: where the hash's code and state are cold in the caches, OpenSSL's SHA-1 costs
#: about 1 µs more than BLAKE2b to set up (2 % of a small JSONP answer, ``make
#: bench``); past about 2 KB its speed (1.9 GB/s against 0.8 GB/s on the machine
#: of BENCHMARKS.md) wins that back.
SMALL_TAG_JSON = 2048


def script_etag(
    seed: bytes,
    callback: str,
    envelope_status: int | None,
    json_body: bytes,
    view_etag: str | None = None,
) -> str:
    """The weak entity tag of a script answer: it differs per callback, per
    data and per announcement, and from any tag of the plain JSON answer.

    :param seed: the plan's :attr:`~flask_jsonp.plan.JsonpPlan.etag_seed`.
    :param json_body: the JSON the script passes on; not read when
        ``view_etag`` is given.
    :param view_etag: the view's own ``ETag`` (a version it keeps): the tag is
        derived from it, without hashing the body.
    """
    if view_etag is not None:
        json_body = b"view-etag\n" + view_etag.encode("latin-1")
    if envelope_status is not None:
        callback = f"{callback}\n{envelope_status}"
    head = seed + callback.encode() + b"\n"
    if len(json_body) <= SMALL_TAG_JSON:
        # One call on one string costs less than feeding a hash object.
        small = hashlib.blake2b(head + json_body, digest_size=20)
        return f'W/"{small.hexdigest()}"'
    big = hashlib.sha1(head)
    big.update(json_body)
    return f'W/"{big.hexdigest()}"'


def _finish_answer(
    response: Response,
    plan: JsonpPlan,
    callback: str,
    envelope_status: int | None,
    json_body: bytes,
    view_etag: str | None,
    private: bool,
    environ: Mapping[str, Any] | None,
) -> Response:
    """Make a script answer private where the page decided it, give a 200 its
    tag, and make it a 304 Not Modified when the request's ``If-None-Match``
    matches (weak comparison, as :rfc:`9110` asks for ``If-None-Match``).
    """
    if private:
        make_private(response)
    seed = plan.etag_seed
    if seed is None or response.status_code != 200:
        return response
    tag = script_etag(seed, callback, envelope_status, json_body, view_etag)
    append_headers(response.headers, (("ETag", tag),))
    if environ is not None:
        _revalidate(response, tag, environ.get("HTTP_IF_NONE_MATCH"))
    return response


def etag_matches(if_none_match: str, tag: str) -> bool:
    """Tell whether an ``If-None-Match`` value names the weak tag ``tag``
    (weak comparison, as :rfc:`9110` asks for ``If-None-Match``).
    """
    # A browser sends back the tag it was given: no list to parse.
    return if_none_match == tag or parse_etags(if_none_match).contains_weak(tag[3:-1])


def _revalidate(response: Response, tag: str, if_none_match: str | None) -> None:
    """Make a tagged answer a 304 Not Modified when the request's
    ``If-None-Match`` matches its tag.
    """
    if if_none_match and etag_matches(if_none_match, tag):
        response.status_code = 304
        response.response = []
        # It keeps the tag, Cache-Control, Vary, the announcements and
        # nosniff; not the length of a body it does not have. Werkzeug sends
        # no Content-Type with a 304, and no other header of a body.
        del response.headers["Content-Length"]


def _script_response(
    app: Flask,
    built: JsonpBody,
    status: int | None,
    headers: tuple[tuple[str, str], ...],
) -> Response:
    """A response with a JSONP body as its content, its type and length, and
    ``headers`` of flask-jsonp's own making.
    """
    response = app.response_class(status=status, content_type=JAVASCRIPT_CONTENT_TYPE)
    # The body set as Werkzeug's set_data() sets bytes, and the length appended
    # with the other headers: setting a header scans and checks the list, which
    # costs 2 % of a small answer.
    response.response = built.chunks
    if response.automatically_set_content_length:
        headers = (("Content-Length", str(built.length)), *headers)
    append_headers(response.headers, headers)
    return response


def script_only_answer(
    app: Flask,
    plan: JsonpPlan,
    callback: str,
    data: dict[str, Any] | list[Any],
    environ: Mapping[str, Any],
) -> Response:
    """Build the answer to a dict or a list for a plan whose answers need no
    more than the script, its headers and its tag (:attr:`JsonpPlan.script_only
    <flask_jsonp.plan.JsonpPlan.script_only>`): the same answer as
    :func:`answer_from_value`, in fewer steps, for the request most JSONP
    endpoints get. A 304 is made without building the script.
    """
    json_body = dumps(app, data)
    seed = plan.etag_seed
    headers: tuple[tuple[str, str], ...] = JSONP_HEADERS
    if seed is not None:
        tag = script_etag(seed, callback, None, json_body)
        headers = (*JSONP_HEADERS, ("ETag", tag))
        if_none_match = environ.get("HTTP_IF_NONE_MATCH")
        if if_none_match and etag_matches(if_none_match, tag):
            return _not_modified(app, headers)
    script = joined_script(callback, json_body)
    if script is None:
        built = jsonp_body(callback, json_body)
    else:
        built = tuple.__new__(JsonpBody, ((script,), len(script)))
    return _script_response(app, built, None, headers)


def _not_modified(app: Flask, headers: tuple[tuple[str, str], ...]) -> Response:
    """The 304 Not Modified of a script answer with ``headers`` (its tag
    among them), as :func:`_revalidate` leaves one.
    """
    response = app.response_class(status=304, content_type=JAVASCRIPT_CONTENT_TYPE)
    append_headers(response.headers, headers)
    return response


def answer_from_value(
    app: Flask,
    plan: JsonpPlan,
    callback: str,
    rv: Any,
    private: bool,
    environ: Mapping[str, Any] | None = None,
) -> Response | None:
    """Build the answer to a dict or list return value (alone or in a tuple
    with an int status below 400) in one step; ``None`` for anything else.

    :param environ: the request's WSGI environ, for ``If-None-Match``.
    """
    status: Any = None
    headers: Any = None
    body = rv
    if type(rv) is tuple:
        # The shapes Flask accepts: (body, status, headers), (body, headers)
        # and (body, status).
        if len(rv) == 3:
            body, status, headers = rv
        elif len(rv) == 2:
            body, second = rv
            if isinstance(second, (Headers, dict, tuple, list)):
                headers = second
            else:
                status = second
        if not isinstance(body, (dict, list)) or not (
            status is None or (type(status) is int and status < 400)
        ):
            return None
    elif not isinstance(rv, (dict, list)):
        return None
    envelope_status = (status or 200) if plan.envelope else None
    json_body = dumps(app, body)
    built = jsonp_body(callback, json_body, envelope_status, plan.envelope_meta)
    if headers is None:
        response = _script_response(
            app, built, 200 if envelope_status else status, JSONP_HEADERS
        )
        if plan.notice_headers:
            add_notice(response, plan)
        view_etag = None
    else:
        chunks = built.chunks
        data: Any = chunks[0] if type(chunks) is tuple and len(chunks) == 1 else chunks
        response = app.response_class(
            data, status=200 if envelope_status else status, headers=headers
        )
        view = _read_view_headers(response.headers)
        view_etag = view.etag
        _set_answer_headers(response, plan, built.length, view.kept)
    return _finish_answer(
        response,
        plan,
        callback,
        envelope_status,
        json_body,
        view_etag,
        private,
        environ,
    )


def _json_bytes(response: Response, coding: str) -> bytes | None:
    """The JSON text of a response, decoded from its content ``coding``;
    ``None`` if it cannot be read without consuming a stream or is in a coding
    the standard library does not know.
    """
    if response.is_streamed or response.direct_passthrough:
        return None
    data = response.get_data()
    if coding == "identity":
        return data
    wbits = _WBITS.get(coding)
    if wbits is None:
        return None
    try:
        return zlib.decompress(data, wbits)
    except zlib.error:
        return None


def answer_from_response(
    app: Flask,
    plan: JsonpPlan,
    callback: str,
    response: Response,
    private: bool,
    envelope_error: Any = None,
    environ: Mapping[str, Any] | None = None,
) -> Response | None:
    """Build the JSONP answer for ``callback`` from a JSON response, as a new
    response: ``response`` itself is never changed, since the view that made
    it may reuse it.

    A response that is not JSON (HTML, files, redirects, streams) or is an
    error (status >= 400) gives ``None``, unless ``envelope_error`` is given:
    with the envelope, an error answers 200 and passes that to the callback
    with its status.

    :param environ: the request's WSGI environ, for ``If-None-Match``.
    :return: the JSONP answer, or ``None`` if the response cannot become one.
    """
    status = response.status_code
    envelope = plan.options.envelope
    view = _read_view_headers(response.headers)
    json_body: bytes | None
    if envelope_error is not None:
        json_body = dumps(app, envelope_error)
    elif status < 400 and response.is_json:
        json_body = _json_bytes(response, view.coding)
    else:
        json_body = None
    if json_body is None:
        return None
    envelope_status = status if envelope else None
    json_body = json_body or b"null"
    body = jsonp_body(callback, json_body, envelope_status, plan.envelope_meta)
    # _set_answer_headers gives it headers of its own.
    answer = _shallow_copy(response)
    if envelope:
        answer.status_code = 200
    answer.response = body.chunks
    view_etag = None if envelope_error is not None else view.etag
    _set_answer_headers(answer, plan, body.length, view.kept)
    return _finish_answer(
        answer, plan, callback, envelope_status, json_body, view_etag, private, environ
    )


def finished_copy(response: Response, private: bool) -> Response:
    """A copy of an answer that is not a script, with nosniff and, where the
    page decided it, private.
    """
    finished = copy_response(response)
    add_nosniff(finished)
    if private:
        make_private(finished)
    return finished
