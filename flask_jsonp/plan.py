"""The resolved options of a JSONP view and the checks they make.

A :class:`JsonpPlan` is made once per application and set of options, on first
use, and answers the questions every request asks: which callback does it
carry, and may this endpoint answer it? It knows nothing of how the answer is
built (:mod:`flask_jsonp.answer`) or where the checks run
(:mod:`flask_jsonp.wrapping`).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from flask import Flask
from flask import request

from .callback import callback_refusal
from .deprecation import make_notice
from .errors import CallbackNotAllowed
from .errors import InvalidCallback
from .errors import JSONP_METHODS
from .errors import JsonpGone
from .errors import JsonpMethodNotAllowed
from .errors import ReferrerNotAllowed
from .options import check_config
from .options import JsonpOptions
from .options import resolve
from .query import CallbackFinder
from .referrer import origin_allowed
from .referrer import OriginPattern
from .referrer import parse_origin
from .response import PREFIX_CACHE_SIZE
from .signals import jsonp_refused
from .signals import send_refused
from .state import MAX_PLANS
from .state import state_for

#: The options one layer gives in code, as sorted ``(name, value)`` pairs.
Overrides = tuple[tuple[str, Any], ...]


@dataclass(frozen=True)
class Layers:
    """The options given in code by each layer covering one view, outermost
    first. Compared by value, so views with the same options share a plan.

    .. versionadded:: 0.1
    """

    overrides: tuple[Overrides, ...] = ()

    @classmethod
    def of(cls, *layers: Mapping[str, Any]) -> Layers:
        """Build layers from option mappings, outermost first."""
        return cls(tuple(tuple(sorted(layer.items())) for layer in layers))

    def __add__(self, inner: Layers) -> Layers:
        return Layers(self.overrides + inner.overrides)

    def mappings(self) -> Sequence[Mapping[str, Any]]:
        """The layers as mappings of option names to values, outermost first."""
        return [dict(layer) for layer in self.overrides]


#: The layers of :func:`~flask_jsonp.jsonpify` outside any JSONP view: the app's
#: options alone.
APP_LAYERS = Layers()


@lru_cache(maxsize=PREFIX_CACHE_SIZE)
def _refusal(callback: str, policy: str) -> str | None:
    return callback_refusal(callback, policy)


def _referrer_allowed(
    environ: Mapping[str, Any], allowlists: tuple[tuple[OriginPattern, ...], ...]
) -> bool:
    origin = parse_origin(environ.get("HTTP_REFERER", ""))
    if origin is None:
        # Fail closed: no usable Referer (stripped by a Referrer-Policy, a proxy
        # or a privacy tool) is refused, unless the browser says the request
        # comes from this very origin.
        return environ.get("HTTP_SEC_FETCH_SITE") == "same-origin"
    return all(origin_allowed(origin, patterns) for patterns in allowlists)


class JsonpPlan:
    """What answering one view on one application needs, resolved once: the
    options and what follows from them.

    .. versionadded:: 0.1
    """

    def __init__(self, options: JsonpOptions) -> None:
        self.options = options
        self.finder = CallbackFinder(options.callback_params)
        #: Whether a referrer allowlist decides the answers: they are then
        #: private and vary with the page.
        self.private = bool(options.allowed_referrers)
        notice = make_notice(
            options.deprecation, options.sunset, options.deprecation_link
        )
        #: Headers that announce the end of JSONP, for each JSONP answer.
        self.notice_headers = notice.headers
        #: The same facts as members of the envelope's ``meta``.
        self.envelope_meta = notice.meta
        self._sunset = None if options.sunset is None else options.sunset.timestamp()
        #: Whether the callback gets the envelope.
        self.envelope = options.envelope
        self._max_length = options.max_callback_length
        self._policy = options.callback_policy
        #: Whether a check beyond the callback's name applies (an allowlist,
        #: a report-only allowlist, a sunset): most plans have none, and their
        #: requests skip them all with one test.
        self._more_checks = bool(
            options.allowed_callbacks
            or options.allowed_referrers
            or options.allowed_referrers_report_only
            or self._sunset is not None
        )
        #: For a plan with no check beyond the name and the method, the
        #: finder's ``name=`` prefix: :meth:`accepted` reads a query that is
        #: this and a callback without parsing it.
        self._plain_prefix = None if self._more_checks else self.finder.plain_prefix
        #: Whether an answer is no more than the script, its headers and its
        #: tag: no referrer allowlist (nothing private), no envelope, nothing
        #: announced. Most JSONP endpoints; their answers to a dict or a list
        #: are built in fewer steps (:func:`~flask_jsonp.answer.script_only_answer`).
        self.script_only = not (self.private or options.envelope or self.notice_headers)
        #: What every entity tag of this plan's answers starts from: the
        #: announcements, which are headers and not in the body; ``None`` when
        #: answers carry no tag.
        self.etag_seed: bytes | None = None
        if options.etag:
            announced = "\n".join(f"{name}: {value}" for name, value in notice.headers)
            self.etag_seed = f"jsonp\n{announced}\n".encode()

    def accepted(self, query: str, environ: Mapping[str, Any]) -> str | None:
        """The callback of a request in the plainest form (``?callback=name``
        alone, GET or HEAD) that every check of this plan accepts; ``None``
        for any other request, which :meth:`check` then decides, refusals
        included.

        :param query: the request's non-empty ``QUERY_STRING``.
        """
        prefix = self._plain_prefix
        if (
            prefix is None
            or not query.startswith(prefix)
            or environ.get("REQUEST_METHOD") not in JSONP_METHODS
        ):
            return None
        # The rest of the query is the callback if the grammar accepts it: it
        # then holds no "&" (no other parameter) and nothing to decode.
        callback = query[len(prefix) :]
        # The length first, so that long strings never enter the cache.
        if len(callback) > self._max_length or _refusal(callback, self._policy):
            return None
        return callback

    def check(self, app: Flask, callback: str, environ: Mapping[str, Any]) -> None:
        """Refuse a JSONP request that this view must not answer, and report
        a page outside ``allowed_referrers_report_only`` with
        :data:`~flask_jsonp.jsonp_refused` (the caller reports refusals).

        :raise JsonpMethodNotAllowed: the method is not GET or HEAD.
        :raise InvalidCallback: the callback is too long, not a valid name, or
            refused by the callback policy.
        :raise CallbackNotAllowed: an allowlist refuses the callback.
        :raise ReferrerNotAllowed: an allowlist refuses the page.
        :raise JsonpGone: the sunset has passed.
        """
        if environ.get("REQUEST_METHOD") not in JSONP_METHODS:
            raise JsonpMethodNotAllowed()
        if len(callback) > self._max_length:
            # Before the cache, so that long strings never enter it.
            raise InvalidCallback()
        reason = _refusal(callback, self._policy)
        if reason is not None:
            raise InvalidCallback(reason)
        if self._more_checks:
            self._check_more(app, callback, environ)

    def _check_more(
        self, app: Flask, callback: str, environ: Mapping[str, Any]
    ) -> None:
        options = self.options
        if options.allowed_callbacks and not all(
            allowlist.allows(callback) for allowlist in options.allowed_callbacks
        ):
            raise CallbackNotAllowed()
        if options.allowed_referrers and not _referrer_allowed(
            environ, options.allowed_referrers
        ):
            raise ReferrerNotAllowed()
        # Last: only a callback that may be answered gets the envelope's 410.
        if self._sunset is not None and time.time() >= self._sunset:
            raise JsonpGone()
        report_only = options.allowed_referrers_report_only
        if (
            report_only
            and jsonp_refused.receivers
            and not _referrer_allowed(environ, report_only)
        ):
            send_refused(
                app,
                request.endpoint,
                callback,
                environ,
                ReferrerNotAllowed.error,
                report_only=True,
            )


def plan_for(app: Flask, layers: Layers) -> JsonpPlan:
    """Return the plan of the view with ``layers`` on ``app``, resolving its
    options on first use.

    .. versionadded:: 0.1
    """
    state = state_for(app)
    plan = state.plans.get(layers)
    if plan is None:
        try:
            options = resolve(app.config, state.defaults, layers.mappings())
        except (TypeError, ValueError):
            # An app without the extension reads its config here: name the
            # config key if it is the culprit.
            check_config(app.config)
            raise
        plan = JsonpPlan(options)
        if len(state.plans) < MAX_PLANS:
            state.plans[layers] = plan
    return plan
