"""Announcing the end of a JSONP endpoint: pure functions, no Flask.

An endpoint that is being retired says so in three ways: the ``Deprecation``
header of :rfc:`9745` (``@`` and a Unix time), the ``Sunset`` header of
:rfc:`8594` (an HTTP date) and a ``Link`` with ``rel="deprecation"`` to a page
that explains what to do. A ``<script>`` tag cannot read headers, so the
envelope's ``meta`` carries the same facts as JSON members.
"""

from __future__ import annotations

import json
from datetime import datetime
from datetime import timezone
from typing import NamedTuple

from werkzeug.http import http_date

from .response import escape_json_for_script


def as_utc(moment: datetime) -> datetime:
    """Return ``moment`` in UTC; a naive datetime is read as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return as_utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


class Notice(NamedTuple):
    """What an endpoint announces about its end, ready to be sent.

    .. versionadded:: 0.1
    """

    #: ``(name, value)`` pairs to add to each JSONP answer.
    headers: tuple[tuple[str, str], ...]
    #: JSON members to add to the envelope's ``meta``, each after a comma:
    #: ``b',"sunset":"2027-06-30T00:00:00Z"'``; empty if nothing is announced.
    meta: bytes


def make_notice(
    deprecation: datetime | None, sunset: datetime | None, link: str | None
) -> Notice:
    """Build the headers and envelope members that announce ``deprecation``,
    ``sunset`` and ``link``; those that are ``None`` are left out.

    >>> from datetime import datetime, timezone
    >>> notice = make_notice(
    ...     datetime(2026, 11, 1, tzinfo=timezone.utc),
    ...     datetime(2027, 6, 30, tzinfo=timezone.utc),
    ...     "https://api.example/retiring-jsonp",
    ... )
    >>> notice.headers  # doctest: +NORMALIZE_WHITESPACE
    (('Deprecation', '@1793491200'), ('Sunset', 'Wed, 30 Jun 2027 00:00:00 GMT'),
     ('Link', '<https://api.example/retiring-jsonp>; rel="deprecation"'))
    >>> notice.meta.decode()  # doctest: +NORMALIZE_WHITESPACE
    ',"deprecation":"2026-11-01T00:00:00Z","sunset":"2027-06-30T00:00:00Z",\
"link":"https://api.example/retiring-jsonp"'

    .. versionadded:: 0.1
    """
    headers: list[tuple[str, str]] = []
    members: dict[str, str] = {}
    if deprecation is not None:
        headers.append(("Deprecation", f"@{int(as_utc(deprecation).timestamp())}"))
        members["deprecation"] = _iso(deprecation)
    if sunset is not None:
        headers.append(("Sunset", http_date(as_utc(sunset))))
        members["sunset"] = _iso(sunset)
    if link is not None:
        headers.append(("Link", f'<{link}>; rel="deprecation"'))
        members["link"] = link
    meta = b"".join(
        b"," + json.dumps(name).encode() + b":" + json.dumps(value).encode()
        for name, value in members.items()
    )
    # The members are spliced into the script as they are: escaped as the
    # body is, though they come from the app's own settings.
    return Notice(tuple(headers), escape_json_for_script(meta))
