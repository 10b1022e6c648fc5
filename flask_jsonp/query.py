"""Finding the callback in a query string: pure functions, no Flask.

Building :attr:`flask.Request.args` parses every parameter into a
:class:`~werkzeug.datastructures.MultiDict`, which costs more than everything else
a plain JSON request pays for JSONP. The callback is instead read from the raw
``QUERY_STRING`` with the same rules as :func:`urllib.parse.parse_qsl`, which
Werkzeug uses: ``&`` separates parameters, names and values are percent- and
plus-decoded (so ``%63allback`` names ``callback``), and a parameter without ``=``
has the empty value.
"""

from __future__ import annotations

from urllib.parse import unquote_plus


class QueryError(ValueError):
    """The query string cannot carry a callback unambiguously."""


class CallbackFinder:
    """Find the callback among the query parameters ``params``; the first name
    present wins.

    .. versionadded:: 0.1
    """

    def __init__(self, params: tuple[str, ...]) -> None:
        self.params = params
        # Parsing is needed only if a name is in the query, or may hide behind
        # percent encoding (or a "+", if it holds a space).
        encoded = ("%", "+") if any(" " in param for param in params) else ("%",)
        self._markers = (*params, *encoded)
        #: For one parameter name, ``name=``: a query that is this prefix and a
        #: value with nothing to decode (the common ``?callback=onData``) is
        #: read without parsing (:meth:`plain_callback`).
        self.plain_prefix: str | None = f"{params[0]}=" if len(params) == 1 else None

    def plain_callback(self, query: str) -> str | None:
        """The value of a query that is the one parameter alone, with nothing
        to decode (ASCII, no ``%``, no ``+``); ``None`` for any other query,
        which :meth:`find` parses. The value is not checked: it may be empty,
        or no valid callback.
        """
        prefix = self.plain_prefix
        if prefix is None or not query.startswith(prefix):
            return None
        value = query[len(prefix) :]
        if "&" in value or "%" in value or "+" in value or not value.isascii():
            return None
        return value

    def find(self, query: str) -> str | None:
        """Return the callback in ``query`` (the WSGI ``QUERY_STRING``), or
        ``None`` if none of the parameters is given.

        :raise QueryError: a parameter is given more than once, or the query
            string is not valid UTF-8.
        """
        if not query:
            return None
        value = self.plain_callback(query)
        if value is not None:
            return value
        # A loop, not any(): creating a generator costs more than the search.
        for marker in self._markers:
            if marker in query:
                break
        else:
            return None
        if not query.isascii():
            # WSGI hands over the raw bytes as latin-1; like Werkzeug, refuse
            # to guess the encoding of bytes that are not UTF-8.
            try:
                query = query.encode("latin-1").decode("utf-8")
            except UnicodeError:
                raise QueryError("The query string is not valid UTF-8.") from None
        if len(self.params) == 1:
            return self._find_one(query, self.params[0])
        values: dict[str, list[str]] = {}
        for field in query.split("&"):
            if not field:
                continue
            name, _, value = field.partition("=")
            if "%" in name or "+" in name:
                name = unquote_plus(name)
            if name in self.params:
                if "%" in value or "+" in value:
                    value = unquote_plus(value)
                values.setdefault(name, []).append(value)
        for param in self.params:
            given = values.get(param)
            if given is None:
                continue
            if len(given) > 1:
                # Two callbacks are ambiguous, and front ends and back ends
                # may disagree on which one wins (HTTP parameter pollution).
                raise QueryError(f"The {param!r} parameter is given more than once.")
            return given[0]
        return None

    @staticmethod
    def _find_one(query: str, param: str) -> str | None:
        # The common case of one parameter name, without the bookkeeping that
        # several names need.
        found = None
        for field in query.split("&"):
            name, _, value = field.partition("=")
            if name != param:
                if "%" not in name and "+" not in name:
                    continue
                if unquote_plus(name) != param:
                    continue
            if found is not None:
                raise QueryError(f"The {param!r} parameter is given more than once.")
            found = unquote_plus(value) if "%" in value or "+" in value else value
        return found
