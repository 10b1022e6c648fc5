"""Validated, secure-by-default JSONP for Flask views."""

from __future__ import annotations

from .callback import CALLBACK_POLICIES
from .callback import callback_refusal
from .callback import CallbackAllowlist
from .callback import is_valid_callback
from .callback import parse_callback_allowlist
from .decorators import jsonp
from .decorators import jsonpify
from .errors import CallbackNotAllowed
from .errors import InvalidCallback
from .errors import JsonpGone
from .errors import JsonpMethodNotAllowed
from .errors import JsonpRequestError
from .errors import ReferrerNotAllowed
from .extension import JSONP
from .options import ANY_PAGE
from .origins import cors_origins
from .origins import matching_entry
from .signals import jsonp_answered
from .signals import jsonp_refused

__all__ = [
    "ANY_PAGE",
    "CALLBACK_POLICIES",
    "JSONP",
    "CallbackAllowlist",
    "CallbackNotAllowed",
    "InvalidCallback",
    "JsonpGone",
    "JsonpMethodNotAllowed",
    "JsonpRequestError",
    "ReferrerNotAllowed",
    "callback_refusal",
    "cors_origins",
    "is_valid_callback",
    "jsonp",
    "jsonp_answered",
    "jsonp_refused",
    "jsonpify",
    "matching_entry",
    "parse_callback_allowlist",
]
