"""JSONP settings and where they come from.

Each setting is resolved in this order: the argument given to :func:`~flask_jsonp.jsonp`
(or to :meth:`~flask_jsonp.JSONP.enable_blueprint`), the defaults given to
:class:`~flask_jsonp.JSONP`, the application's ``JSONP_*`` config key, and finally the
built-in default below.
"""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Flask

from .callback import DEFAULT_MAX_CALLBACK_LENGTH
from .referrer import OriginPattern
from .referrer import parse_origin_pattern

#: Built-in defaults, by option name. The config key is ``JSONP_`` + the upper-case
#: name, e.g. ``JSONP_CALLBACK_PARAMS``.
DEFAULTS: dict[str, Any] = {
    "callback_params": ("callback",),
    "max_callback_length": DEFAULT_MAX_CALLBACK_LENGTH,
    "allowed_callbacks": None,
    "allowed_referrers": None,
    "envelope": False,
}

#: The extension's key in ``app.extensions``.
EXTENSION_KEY = "jsonp"


def config_key(name: str) -> str:
    """Return the config key of option ``name``: ``callback_params`` becomes
    ``JSONP_CALLBACK_PARAMS``.
    """
    return f"JSONP_{name.upper()}"


#: ``(name, config key, built-in default)`` of each option, computed once: options
#: are resolved on every request.
_SOURCES = tuple(
    (name, config_key(name), default) for name, default in DEFAULTS.items()
)


@dataclass(frozen=True)
class JsonpOptions:
    """Validated, resolved JSONP settings for one request.

    .. versionadded:: 0.1
    """

    #: Query parameter names that carry the callback; the first present wins.
    callback_params: tuple[str, ...]
    #: Longer callbacks are refused.
    max_callback_length: int
    #: ``None``: any valid name; otherwise only these exact names.
    allowed_callbacks: frozenset[str] | None
    #: ``None``: any page; otherwise only pages of these origins.
    allowed_referrers: tuple[OriginPattern, ...] | None
    #: Always answer 200 and pass ``{"meta": {"status": N}, "data": ...}``.
    envelope: bool


def _names(value: str | Iterable[str], option: str) -> tuple[str, ...]:
    names = (value,) if isinstance(value, str) else tuple(value)
    if not all(isinstance(name, str) and name for name in names):
        raise TypeError(
            f"{option} must be a string or an iterable of non-empty strings"
        )
    return names


def _freeze(value: Any) -> Any:
    """Make a setting hashable so resolved options can be cached."""
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(value)
    return value


@lru_cache(maxsize=256)
def _validated(settings: tuple[tuple[str, Any], ...]) -> JsonpOptions:
    values = dict(settings)
    callback_params = _names(values["callback_params"], "callback_params")
    if not callback_params:
        raise ValueError("callback_params must name at least one query parameter")
    max_length = values["max_callback_length"]
    if (
        isinstance(max_length, bool)
        or not isinstance(max_length, int)
        or max_length < 1
    ):
        raise ValueError("max_callback_length must be a positive integer")
    allowed_callbacks = values["allowed_callbacks"]
    if allowed_callbacks is not None:
        allowed_callbacks = frozenset(_names(allowed_callbacks, "allowed_callbacks"))
    allowed_referrers = values["allowed_referrers"]
    if allowed_referrers is not None:
        allowed_referrers = tuple(
            parse_origin_pattern(entry)
            for entry in _names(allowed_referrers, "allowed_referrers")
        )
    return JsonpOptions(
        callback_params=callback_params,
        max_callback_length=max_length,
        allowed_callbacks=allowed_callbacks,
        allowed_referrers=allowed_referrers,
        envelope=bool(values["envelope"]),
    )


def check_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Validate options given in code, so mistakes fail at import time.

    :return: the options that were given (not ``None``).
    :raise TypeError: for an unknown option name.
    :raise ValueError: for an invalid value.
    """
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise TypeError(f"unknown JSONP option(s): {', '.join(sorted(unknown))}")
    given = {name: value for name, value in overrides.items() if value is not None}
    resolve({}, {}, given)
    return given


def resolve(
    config: Mapping[str, Any],
    extension_defaults: Mapping[str, Any],
    overrides: Mapping[str, Any],
) -> JsonpOptions:
    """Merge the sources of settings in priority order and validate the result.

    :param config: the application's config.
    :param extension_defaults: keyword arguments given to :class:`~flask_jsonp.JSONP`.
    :param overrides: options given to the decorator or blueprint mode.
    """
    merged = {name: config.get(key, default) for name, key, default in _SOURCES}
    merged.update(extension_defaults)
    merged.update(overrides)
    return _validated(tuple([(name, _freeze(merged[name])) for name in DEFAULTS]))


def options_for(app: Flask, overrides: Mapping[str, Any]) -> JsonpOptions:
    """Resolve the options for a request to ``app``.

    Works whether or not :class:`~flask_jsonp.JSONP` was set up on the app.
    """
    state = app.extensions.get(EXTENSION_KEY)
    extension_defaults = state.defaults if state is not None else {}
    return resolve(app.config, extension_defaults, overrides)
