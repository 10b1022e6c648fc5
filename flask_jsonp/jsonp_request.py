"""What flask-jsonp knows of one request to a JSONP endpoint, and how it
finishes the response Flask makes for it.
"""

from __future__ import annotations

from typing import Any

from flask import after_this_request
from flask import Flask
from flask import request
from flask import Response
from werkzeug.exceptions import HTTPException

from .answer import add_notice
from .answer import answer_from_response
from .answer import copy_response
from .answer import error_data
from .answer import make_private
from .answer import warn_credentialed
from .errors import add_nosniff
from .errors import InvalidCallback
from .errors import JsonpGone
from .errors import JsonpRequestError
from .plan import JsonpPlan
from .plan import Layers
from .plan import plan_for
from .query import QueryError
from .signals import jsonp_answered
from .signals import send_answered
from .signals import send_refused

#: The attribute of Flask's request object holding the :class:`JsonpRequest` of
#: a request to a JSONP endpoint. Not a WSGI environ key: the JsonpRequest holds
#: the environ, and the environ holding it back would be a reference cycle,
#: which only the garbage collector frees, later, in another request's time
#: (Flask breaks its own request-environ cycle when the request ends). From the
#: request object nothing leads back once Flask has.
REQUEST_ATTR = "_flask_jsonp_request"

#: Set in the WSGI environ when a JSONP request is refused, so that
#: :func:`~flask_jsonp.jsonpify` in the error handler answers plain JSON.
REFUSED_KEY = "flask_jsonp.refused"


class JsonpRequest:
    """What flask-jsonp knows of one request to a JSONP endpoint.

    .. versionadded:: 0.1
    """

    # Class attributes are the defaults: a request sets only what happens to
    # it, which costs less than setting every attribute up front.

    #: A callback parameter is present (the request asks for JSONP).
    requested = False
    #: The callback asked for, once read; checked or not.
    callback: str | None = None
    #: The callback, once every check has accepted it.
    checked: str | None = None
    #: The refusal, if the request was refused.
    refusal: JsonpRequestError | None = None
    #: A JSONP view's call is under way: JSONP views it calls leave the
    #: wrapping to it.
    active = False
    #: The answer is built: nothing is left to do after the request.
    answered = False
    #: The view chain returned normally, so its JSON may be wrapped.
    returned = False
    #: The HTTP error the view raised, if any.
    error: HTTPException | None = None
    #: Something else than an HTTP error was raised (by the view, or by a
    #: signal receiver): the answer is Flask's, never a script.
    unhandled = False
    #: A JSONP view with a referrer allowlist was called along the way.
    depends_on_page = False
    #: :meth:`finish` will run on the response.
    finishing = False

    def __init__(
        self,
        app: Flask,
        environ: dict[str, Any],
        plan: JsonpPlan,
        covered: frozenset[Any] = frozenset(),
        top: Any = None,
    ) -> None:
        self.app = app
        self.environ = environ
        #: The options the request is checked and answered with.
        self.plan = plan
        #: The JSONP wrappers whose options :attr:`plan` holds.
        self.covered = covered
        #: The function that builds the answer: the endpoint's view function.
        self.top = top

    @property
    def private(self) -> bool:
        """Whether a referrer allowlist decided the answer."""
        return self.plan.private or self.depends_on_page

    def finish_later(self) -> None:
        """Have :meth:`finish` run on the response Flask makes, whatever makes
        it (the view, an error handler).
        """
        if not self.finishing:
            self.finishing = True
            after_this_request(self.finish)

    def check(self) -> None:
        """Read the callback and refuse the request if the plan says so.

        A :data:`~flask_jsonp.jsonp_refused` receiver that raises fails the
        request: Flask answers the error, with nosniff.

        :raise JsonpRequestError: the refusal, which the app's handlers answer.
        """
        environ = self.environ
        query = environ.get("QUERY_STRING")
        if not query:
            return
        plan = self.plan
        callback = plan.accepted(query, environ)
        if callback is not None:
            # Accepted by every check: nothing to refuse or report.
            self.requested = True
            self.callback = self.checked = callback
            return
        if environ.get("REQUEST_METHOD") == "OPTIONS":
            # A CORS preflight is never refused.
            return
        try:
            callback = plan.finder.find(query)
        except QueryError as error:
            self.requested = True
            refusal = InvalidCallback(str(error))
            self._refused(refusal)
            self._send_refused(None, refusal)
            raise refusal from None
        if callback is None:
            return
        self.requested = True
        self.callback = callback
        try:
            plan.check(self.app, callback, environ)
        except JsonpRequestError as refusal:
            self._refused(refusal)
            self._send_refused(callback, refusal)
            raise
        except Exception:
            # A report-only receiver raised.
            self._failed()
            raise
        self.checked = callback

    def check_nested(self, app: Flask, layers: Layers) -> None:
        """Check the options of a JSONP view called inside this request's
        JSONP view against the callback being answered, whatever parameter
        that view would read it from.
        """
        plan = plan_for(app, layers)
        if self.checked is not None:
            try:
                plan.check(app, self.checked, self.environ)
            except JsonpRequestError as refusal:
                self._refused(refusal)
                self._send_refused(self.checked, refusal)
                raise
        if plan.private:
            self.depends_on_page = True

    def _refused(self, refusal: JsonpRequestError) -> None:
        self.refusal = refusal
        self.environ[REFUSED_KEY] = True
        self.finish_later()

    def _send_refused(self, callback: str | None, refusal: JsonpRequestError) -> None:
        try:
            send_refused(
                self.app, request.endpoint, callback, self.environ, refusal.error
            )
        except Exception:
            self._failed()
            raise

    def _failed(self) -> None:
        """Something else than a refusal was raised: Flask answers it, and
        the answer gets nosniff.
        """
        self.unhandled = True
        self.finish_later()

    def answered_with(self, callback: str) -> None:
        """Record that a script answers ``callback`` and say so.

        A :data:`~flask_jsonp.jsonp_answered` receiver that raises fails the
        request: the script is not sent, and Flask answers the error.
        """
        environ = self.environ
        # The environ, not request.cookies: parsing cookies on every answer is
        # costly, and so is asking for the endpoint when nothing needs it.
        if not self.plan.private and (
            "HTTP_COOKIE" in environ or "HTTP_AUTHORIZATION" in environ
        ):
            warn_credentialed(self.app, request.endpoint)
        if jsonp_answered.receivers:
            try:
                send_answered(self.app, request.endpoint, callback, environ)
            except Exception:
                self.answered = False
                self._failed()
                raise
        self.answered = True

    def finish(self, response: Response) -> Response:
        """Finish the response Flask made for this request, as a new response
        (the one given may be the view's own, which it may reuse): nosniff
        always; for a JSONP request the headers that say whom it is for and
        what is announced, the JSONP answer for JSON the view chain returned,
        and with the envelope, errors as a status for the callback.
        """
        if self.answered:
            return response
        if not self.requested or self.unhandled:
            response = copy_response(response)
            add_nosniff(response)
            if self.requested and self.private:
                make_private(response)
            return response
        plan, app = self.plan, self.app
        callback = self.checked
        answer = None
        if callback is None:
            if (
                isinstance(self.refusal, JsonpGone)
                and plan.options.envelope
                and self.callback is not None
            ):
                # Every other check accepted the callback: it can be answered.
                envelope_error = error_data(response, self.refusal, trust_body=False)
                answer = answer_from_response(
                    app,
                    plan,
                    self.callback,
                    response,
                    self.private,
                    envelope_error,
                    self.environ,
                )
                if answer is not None:
                    return answer
        elif response.status_code >= 400 or self.error is not None:
            from_view = self.error is not None or self.returned
            if plan.options.envelope and (from_view or response.status_code < 500):
                # Errors of the view pass on their JSON; those made around it
                # (a rate limit, a login) only their status.
                envelope_error = error_data(response, self.error, trust_body=from_view)
                answer = answer_from_response(
                    app,
                    plan,
                    callback,
                    response,
                    self.private,
                    envelope_error,
                    self.environ,
                )
        elif self.returned:
            answer = answer_from_response(
                app, plan, callback, response, self.private, environ=self.environ
            )
        if answer is not None:
            assert callback is not None
            self.answered_with(callback)
            return answer
        response = copy_response(response)
        add_nosniff(response)
        add_notice(response, plan)
        if self.private:
            make_private(response)
        return response
