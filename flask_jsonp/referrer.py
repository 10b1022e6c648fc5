"""The referrer allowlist: which pages may read a JSONP endpoint.

A JSONP answer is a script any page can include, so the only signal of *who* asks
is the ``Referer`` header the browser sends with the script request. These pure
functions turn allowlist entries and ``Referer`` values into comparable origins.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

#: Ports a browser leaves out of an origin.
DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Origin:
    """A web origin: scheme, lower-case host and port (default port filled in).

    .. versionadded:: 0.1
    """

    scheme: str
    host: str
    port: int


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


def parse_origin(url: str) -> Origin | None:
    """Return the origin of an ``http(s)`` URL, or ``None`` if it has none.

    :param url: typically the value of the ``Referer`` header.

    .. versionadded:: 0.1
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return None
    return Origin(scheme, parts.hostname.lower(), port or DEFAULT_PORTS[scheme])


def parse_origin_pattern(entry: str) -> OriginPattern:
    """Parse an allowlist entry such as ``https://app.example`` or
    ``https://*.example.com``.

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
    origin = parse_origin(entry.replace("://*.", "://", 1) if subdomains else entry)
    if origin is None or "*" in origin.host:
        raise error
    return OriginPattern(origin, subdomains)


def origin_allowed(origin: Origin, patterns: tuple[OriginPattern, ...]) -> bool:
    """Tell whether any of ``patterns`` matches ``origin``.

    .. versionadded:: 0.1
    """
    return any(pattern.matches(origin) for pattern in patterns)
