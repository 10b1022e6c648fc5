"""Flask-Login's ``@login_required`` stacked with JSONP, in every place a user
could write it: no anonymous request ever gets the data, and the referrer
allowlist still applies to logged-in users.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from flask import Blueprint
from flask import Flask
from flask.testing import FlaskClient
from flask_login import login_required

from flask_jsonp import JSONP
from flask_jsonp import jsonp
from tests.company.support import ALLOWED_REFERRERS
from tests.company.support import assert_no_secret
from tests.company.support import assert_nosniff
from tests.company.support import assert_private
from tests.company.support import assert_refused
from tests.company.support import callback_argument
from tests.company.support import FROM_ALLOWED_PAGE
from tests.company.support import FROM_EVIL_PAGE
from tests.company.support import run_in_node
from tests.company.support import SECRET
from tests.company.support import set_up_login
from tests.company.support import WITHOUT_REFERER
from tests.node import NodeRunner

DATA = {"secret": SECRET}


def blueprint_over_login_over_jsonp(app: Flask) -> None:
    api = JSONP.enable_blueprint(
        Blueprint("api", __name__), allowed_referrers=ALLOWED_REFERRERS
    )

    @api.get("/me")
    @login_required
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    def me() -> dict[str, str]:
        return DATA

    app.register_blueprint(api)


def jsonp_over_login_over_jsonp(app: Flask) -> None:
    @app.get("/me")
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    @login_required
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    def me() -> dict[str, str]:
        return DATA


def login_over_jsonp(app: Flask) -> None:
    @app.get("/me")
    @login_required
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    def me() -> dict[str, str]:
        return DATA


def jsonp_over_login(app: Flask) -> None:
    @app.get("/me")
    @jsonp(allowed_referrers=ALLOWED_REFERRERS)
    @login_required
    def me() -> dict[str, str]:
        return DATA


ARRANGEMENTS = [
    blueprint_over_login_over_jsonp,
    jsonp_over_login_over_jsonp,
    login_over_jsonp,
    jsonp_over_login,
]
#: Blueprint mode needs the extension; the decorator works without it.
SETUPS = [
    pytest.param(arrangement, with_extension, id=f"{arrangement.__name__}-{setup}")
    for arrangement in ARRANGEMENTS
    for with_extension, setup in [(True, "JSONP(app)"), (False, "decorator only")]
    if with_extension or arrangement is not blueprint_over_login_over_jsonp
]


def flask_jsonp_sees_first(
    arrangement: Callable[[Flask], None], with_extension: bool
) -> bool:
    """Whether flask-jsonp sees a request before Flask-Login can answer it:
    through the extension's hooks, or because a JSONP layer is outermost.
    Without either, Flask-Login's answer never passes through flask-jsonp.
    """
    return with_extension or arrangement is not login_over_jsonp


def make_client(
    app: Flask,
    arrangement: Callable[[Flask], None],
    with_extension: bool,
    login_view: str | None = None,
) -> FlaskClient:
    set_up_login(app, login_view)

    @app.get("/sign-in")
    def sign_in() -> str:
        return "sign in"

    if with_extension:
        JSONP(app)
    arrangement(app)
    return app.test_client()


#: What Flask-Login answers an anonymous request: 401, or a redirect to the
#: sign-in page when a login view is set.
UNAUTHORIZED = [
    pytest.param(None, 401, id="401"),
    pytest.param("sign_in", 302, id="redirect"),
]


@pytest.mark.parametrize(("login_view", "status"), UNAUTHORIZED)
@pytest.mark.parametrize("query", ["", "?callback=onData"])
@pytest.mark.parametrize(("arrangement", "with_extension"), SETUPS)
def test_anonymous_request_never_gets_the_data(
    app: Flask,
    arrangement: Callable[[Flask], None],
    with_extension: bool,
    query: str,
    login_view: str | None,
    status: int,
) -> None:
    client = make_client(app, arrangement, with_extension, login_view)
    response = client.get(f"/me{query}", headers=FROM_ALLOWED_PAGE)
    assert response.status_code == status
    assert_no_secret(response)
    if flask_jsonp_sees_first(arrangement, with_extension):
        assert_nosniff(response)
        if query:
            assert_private(response)


@pytest.mark.parametrize("page", [FROM_EVIL_PAGE, WITHOUT_REFERER])
@pytest.mark.parametrize(("arrangement", "with_extension"), SETUPS)
def test_anonymous_jsonp_request_from_another_page_never_gets_the_data(
    app: Flask,
    arrangement: Callable[[Flask], None],
    with_extension: bool,
    page: dict[str, str],
) -> None:
    client = make_client(app, arrangement, with_extension)
    response = client.get("/me?callback=onData", headers=page)
    assert_no_secret(response)
    if flask_jsonp_sees_first(arrangement, with_extension):
        assert_refused(response, 403, "referrer_not_allowed")
        assert_private(response)
    else:
        assert response.status_code == 401


@pytest.mark.parametrize(("arrangement", "with_extension"), SETUPS)
def test_logged_in_user_gets_the_data_as_json_and_as_jsonp(
    app: Flask, arrangement: Callable[[Flask], None], with_extension: bool
) -> None:
    client = make_client(app, arrangement, with_extension)
    client.post("/login")
    plain = client.get("/me")
    assert plain.status_code == 200
    assert plain.json == DATA
    assert_nosniff(plain)
    answer = client.get("/me?callback=onData", headers=FROM_ALLOWED_PAGE)
    assert callback_argument(answer, "onData") == DATA
    assert_private(answer)


@pytest.mark.parametrize("page", [FROM_EVIL_PAGE, WITHOUT_REFERER])
@pytest.mark.parametrize(("arrangement", "with_extension"), SETUPS)
def test_referrer_allowlist_still_applies_to_logged_in_users(
    app: Flask,
    arrangement: Callable[[Flask], None],
    with_extension: bool,
    page: dict[str, str],
) -> None:
    client = make_client(app, arrangement, with_extension)
    client.post("/login")
    response = client.get("/me?callback=onData", headers=page)
    assert_refused(response, 403, "referrer_not_allowed")
    assert_private(response)


@pytest.mark.node
@pytest.mark.parametrize(("arrangement", "with_extension"), SETUPS)
def test_logged_in_answer_runs_the_callback_with_the_data(
    app: Flask,
    node: NodeRunner,
    arrangement: Callable[[Flask], None],
    with_extension: bool,
) -> None:
    client = make_client(app, arrangement, with_extension)
    client.post("/login")
    answer = client.get("/me?callback=app.onData", headers=FROM_ALLOWED_PAGE)
    assert run_in_node(node, answer, "app.onData") == DATA


def login_over_enveloped_jsonp(app: Flask) -> None:
    @app.get("/me")
    @login_required
    @jsonp(allowed_referrers=ALLOWED_REFERRERS, envelope=True)
    def me() -> dict[str, str]:
        return DATA


def test_login_required_above_an_enveloped_view_reaches_the_callback(
    app: Flask,
) -> None:
    client = make_client(app, login_over_enveloped_jsonp, with_extension=True)
    response = client.get("/me?callback=onData", headers=FROM_ALLOWED_PAGE)
    argument = callback_argument(response, "onData")
    assert argument["meta"]["status"] == 401
    assert SECRET not in str(argument)
    assert_private(response)
