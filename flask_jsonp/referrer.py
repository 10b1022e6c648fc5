"""The referrer allowlist: which pages may read a JSONP endpoint.

A JSONP answer is a script any page can include, so the only signal of *who* asks
is the ``Referer`` header the browser sends with the script request. These pure
functions turn allowlist entries and ``Referer`` values into comparable origins.

Hosts are compared as browsers send them: ASCII, with internationalised names in
their punycode form (``xn--bcher-kva.example`` for ``bücher.example``), lower
case, without a trailing dot. Allowlist entries may be written in Unicode; they
are converted with IDNA.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from encodings import idna
from urllib.parse import urlsplit

#: Ports a browser leaves out of an origin.
DEFAULT_PORTS = {"http": 80, "https": 443}

#: The characters for which IDNA 2003 (Python's ``idna`` codec) and the UTS #46
#: processing of browsers (WHATWG URL, non-transitional) disagree: IDNA 2003 maps
#: sharp s to "ss" and final sigma to sigma and drops the joiners, browsers keep
#: them, so ``faß.example`` is ``fass.example`` to one and ``xn--fa-hia.example``
#: to the other: two different domains. Entries with them must be written in
#: their ``xn--`` form.
IDNA_DEVIATIONS = frozenset("\u00df\u03c2\u200c\u200d")

#: The full stops IDNA separates labels with.
_IDNA_DOTS = re.compile("[.\u3002\uff0e\uff61]")


def url_host(host: str) -> str:
    """Write a host as URLs do: an IPv6 address in brackets
    (``[2001:db8::1]``), a name or an IPv4 address as it is.

    .. versionadded:: 0.1
    """
    # Only IPv6 addresses hold a colon: urlsplit gives them without brackets.
    return f"[{host}]" if ":" in host else host


@dataclass(frozen=True)
class Origin:
    """A web origin: scheme, lower-case host and port (default port filled in).

    .. versionadded:: 0.1
    """

    scheme: str
    host: str
    port: int

    def serialize(self) -> str:
        """Write the origin as browsers do in an ``Origin`` header:
        ``https://app.example``, with the port only when it is not the scheme's
        default, an IPv6 host in brackets, and never a path or a query.

        .. versionadded:: 0.1
        """
        host = url_host(self.host)
        if self.port == DEFAULT_PORTS[self.scheme]:
            return f"{self.scheme}://{host}"
        return f"{self.scheme}://{host}:{self.port}"


@dataclass(frozen=True)
class OriginPattern:
    """One allowlist entry: an exact origin, or every subdomain of a host.

    .. versionadded:: 0.1
    """

    origin: Origin
    #: ``https://*.example.com``: any subdomain of ``example.com`` (at any
    #: depth), but not ``example.com`` itself.
    subdomains: bool = False

    def matches(self, origin: Origin) -> bool:
        """Tell whether ``origin`` is allowed by this entry."""
        if (origin.scheme, origin.port) != (self.origin.scheme, self.origin.port):
            return False
        if self.subdomains:
            return origin.host.endswith("." + self.origin.host)
        return origin.host == self.origin.host


def _ascii_host(host: str) -> str | None:
    """Lower-case an ASCII host and drop one trailing dot; ``None`` for a host
    that is not ASCII or has an empty label.
    """
    if not host.isascii():
        return None
    host = host.lower()
    if host.endswith("."):
        host = host[:-1]
    if not host or "" in host.split("."):
        return None
    return host


def _idna_host(host: str) -> str:
    """Convert an allowlist entry's host to the ASCII form browsers send.

    :raise ValueError: where IDNA 2003 and browsers could disagree, or the host
        cannot be converted.
    """
    if host.isascii():
        ascii_host = _ascii_host(host)
        if ascii_host is None:
            raise ValueError(f"{host!r} has an empty label")
        return ascii_host
    if not IDNA_DEVIATIONS.isdisjoint(host):
        raise ValueError(
            f"{host!r} has a character (ß, ς or a joiner) that browsers and IDNA"
            " 2003 convert differently; write the host in its xn-- form"
        )
    labels = _IDNA_DOTS.split(host)
    if labels[-1] == "":
        labels.pop()
    converted = []
    for label in labels:
        try:
            ascii_label = idna.ToASCII(label).decode("ascii")
        except UnicodeError:
            raise ValueError(
                f"{host!r} cannot be converted with IDNA; write it in its xn-- form"
            ) from None
        # NFKC can turn one character into a dot (U+2488 is "1."): that would
        # be another host than the one written, which browsers refuse.
        if not ascii_label or "." in ascii_label:
            raise ValueError(f"{host!r} is not a valid host name")
        converted.append(ascii_label.lower())
    return ".".join(converted)


def _parse_origin(url: str, *, unicode_host: bool) -> Origin | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    if unicode_host:
        host: str | None = _idna_host(parts.hostname)
    else:
        host = _ascii_host(parts.hostname)
    if host is None:
        return None
    return Origin(scheme, host, port or DEFAULT_PORTS[scheme])


def parse_origin(url: str) -> Origin | None:
    """Return the origin of an ``http(s)`` URL, or ``None`` if it has none.

    The host is lower-cased and loses a trailing dot (``example.com.`` is
    ``example.com``). A host that is not ASCII gives ``None``: browsers send
    internationalised hosts in their ``xn--`` form, so such a ``Referer`` does not
    come from a browser.

    :param url: typically the value of the ``Referer`` header.

    .. versionadded:: 0.1
    """
    return _parse_origin(url, unicode_host=False)


def parse_origin_pattern(entry: str) -> OriginPattern:
    """Parse an allowlist entry such as ``https://app.example``,
    ``https://*.example.com`` or ``https://bücher.example``.

    A Unicode host is converted to the ``xn--`` form browsers send, with IDNA
    2003 (the standard library's codec); hosts with the few characters where that
    differs from what browsers do (ß, ς, joiners) must be written in ``xn--``
    form. Case and one trailing dot do not matter.

    :raise ValueError: if the entry is not a bare ``http(s)`` origin.

    .. versionadded:: 0.1
    """
    error = ValueError(
        f"allowed referrer {entry!r} must be an origin such as"
        " 'https://app.example' or 'https://*.example.com'"
    )
    parts = urlsplit(entry)
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise error
    subdomains = (parts.hostname or "").startswith("*.")
    try:
        origin = _parse_origin(
            entry.replace("://*.", "://", 1) if subdomains else entry,
            unicode_host=True,
        )
    except ValueError as reason:
        raise ValueError(f"allowed referrer {entry!r}: {reason}") from None
    if origin is None or "*" in origin.host:
        raise error
    return OriginPattern(origin, subdomains)


def origin_allowed(origin: Origin, patterns: tuple[OriginPattern, ...]) -> bool:
    """Tell whether any of ``patterns`` matches ``origin``.

    .. versionadded:: 0.1
    """
    return any(pattern.matches(origin) for pattern in patterns)
