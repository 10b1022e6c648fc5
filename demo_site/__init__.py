"""The two-origin demo of flask-jsonp: run ``python -m demo_site`` (or
``make demo``) and open the page it prints.

:func:`create_page_app` serves an HTML page under a strict Content-Security-Policy;
:func:`create_api_app` serves JSON that also answers JSONP.
The page shows a plain ``fetch`` to the API failing, the same data arriving by
JSONP, how the loader reports HTTP errors, timeouts, aborts and a refused
callback, and an endpoint moving to CORS; under each step, the answer that
arrived.
"""

from __future__ import annotations

from .api import create_api_app
from .page import create_page_app

__all__ = ["create_api_app", "create_page_app"]
