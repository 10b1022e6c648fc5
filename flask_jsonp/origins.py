"""One origin allowlist for JSONP and CORS.

A site that moves its pages from JSONP to CORS keeps one list of the pages it
serves, in the syntax of ``allowed_referrers``, and hands it to flask-cors through
:func:`cors_origins`. :func:`matching_entry` tells which entry of that list a page
belongs to, to count usage by a bounded set of labels.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from .options import ANY_PAGE
from .referrer import DEFAULT_PORTS
from .referrer import OriginPattern
from .referrer import parse_origin
from .referrer import parse_origin_pattern
from .referrer import url_host

#: One label of a host name as a browser writes it in an ``Origin``: ASCII
#: without the WHATWG URL standard's forbidden domain code points, nor a dot.
_LABEL = r"[^\x00-\x20\x7f-\U0010ffff./:?#@<>\[\]\\^|%]+"

#: Hosts and schemes are compared without case, as by the referrer allowlist,
#: but only ASCII letters fold: with Unicode folding, ``k`` would match the
#: Kelvin sign, and flask-cors' own ``casefold`` reads ``ß`` as ``ss``.
_FLAGS = re.IGNORECASE | re.ASCII

#: How many distinct allowlists :func:`matching_entry` keeps parsed.
_PARSED_ALLOWLISTS = 64


def _origin_regex(pattern: OriginPattern) -> str:
    """The regular expression of the ``Origin`` values that ``pattern`` allows.

    It accepts every spelling of an allowed origin that the referrer allowlist
    accepts in a ``Referer``: any case, one trailing dot on a host name, the
    default port written out (``:443``, ``:0443``, or an empty ``:``).
    """
    origin = pattern.origin
    if ":" in origin.host:  # an IPv6 address: no trailing dot, no subdomains
        host = re.escape(url_host(origin.host))
    else:
        host = re.escape(origin.host) + r"\.?"
        if pattern.subdomains:
            host = rf"(?:{_LABEL}\.)+{host}"
    port = rf":0*{origin.port}"
    if origin.port == DEFAULT_PORTS[origin.scheme]:
        port = rf"(?::(?:0*{origin.port})?)?"
    return rf"\A{re.escape(origin.scheme)}://{host}{port}\Z"


def cors_origins(entries: str | Iterable[str]) -> list[str | re.Pattern[str]]:
    """Turn a referrer allowlist into flask-cors' ``origins`` option, so that
    one list decides which pages may read an endpoint by JSONP and by CORS.

    .. code-block:: python

        PAGES = ["https://app.example", "https://*.partner.example"]
        CORS(app, origins=cors_origins(PAGES))

        @app.get("/api/items")
        @jsonp(allowed_referrers=PAGES)
        def items(): ...

    The patterns match whole origins:

    >>> from flask_jsonp import cors_origins
    >>> (pattern,) = cors_origins(["https://*.partner.example"])
    >>> bool(pattern.fullmatch("https://shop.partner.example"))
    True
    >>> bool(pattern.fullmatch("https://xpartner.example"))
    False
    >>> cors_origins("*")
    ['*']

    flask-cors reads any string holding ``*``, ``?``, ``$``, brackets or
    parentheses as a regular expression, and matches it at the start only:
    given ``"https://*.example.com"`` as such, it allows
    ``https://xexample.com`` and refuses ``https://a.example.com``. This
    function returns compiled patterns, anchored at both ends, that allow
    exactly the origins the referrer allowlist allows: the scheme, the host and
    the port of an exact entry, subdomains of any depth (but not the domain
    itself) for a ``*.`` entry, internationalised hosts in the ``xn--`` form
    browsers send. As with ``allowed_referrers``, case, a trailing dot and a
    default port written out do not matter.

    Being patterns rather than strings, they also make flask-cors add
    ``Vary: Origin`` to the answers it allows, even for a list of one origin,
    and send no ``Access-Control-Allow-Origin`` to a request without an
    ``Origin`` header (it sends such a request every plain string it is given).

    :param entries: the entries of ``allowed_referrers``: ``"*"`` for every
        page, or origins such as ``"https://app.example"``,
        ``"https://*.example.com"`` or ``"https://bücher.example"``. An empty
        list allows no page.
    :return: a list for flask-cors' ``origins``: ``["*"]`` for ``"*"``,
        otherwise one compiled pattern per entry.
    :raise ValueError: for an entry that ``allowed_referrers`` refuses too.

    .. versionadded:: 0.1
    """
    if entries == ANY_PAGE:
        return [ANY_PAGE]
    origins: list[str | re.Pattern[str]] = []
    for pattern in _parse(_entries(entries)):
        origins.append(re.compile(_origin_regex(pattern), _FLAGS))
    return origins


def matching_entry(origin: str | None, entries: str | Iterable[str]) -> str | None:
    """Return the entry of a referrer allowlist that allows ``origin``, as it
    is written in ``entries``, or ``None`` when none does.

    Use it to label usage metrics by page without letting every page mint a
    label: the entries are a fixed set, so a label taken from them stays
    bounded, whatever pages send requests.

    >>> from flask_jsonp import matching_entry
    >>> PAGES = ["https://app.example", "https://*.partner.example"]
    >>> matching_entry("https://shop.partner.example", PAGES)
    'https://*.partner.example'
    >>> matching_entry("https://evil.example", PAGES) is None
    True

    :param origin: the origin of a page, such as the ``origin`` argument of
        the :data:`~flask_jsonp.jsonp_answered` and
        :data:`~flask_jsonp.jsonp_refused` signals, or ``None``.
    :param entries: allowlist entries in the syntax of ``allowed_referrers``;
        the first entry that allows the origin is returned. ``"*"`` allows
        every origin.
    :raise ValueError: for an entry that ``allowed_referrers`` refuses too.

    .. versionadded:: 0.1
    """
    if origin is None:
        return None
    parsed = parse_origin(origin)
    if parsed is None:
        return None
    if entries == ANY_PAGE:
        return ANY_PAGE
    names = _entries(entries)
    for entry, pattern in zip(names, _parse(names), strict=True):
        if pattern.matches(parsed):
            return entry
    return None


def _entries(entries: str | Iterable[str]) -> tuple[str, ...]:
    """The entries as a tuple: a single string is one entry."""
    return (entries,) if isinstance(entries, str) else tuple(entries)


@lru_cache(maxsize=_PARSED_ALLOWLISTS)
def _parse(entries: tuple[str, ...]) -> tuple[OriginPattern, ...]:
    # Cached: metrics call matching_entry for every request, with one list.
    return tuple(parse_origin_pattern(entry) for entry in entries)
