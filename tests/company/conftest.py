from __future__ import annotations

import pytest
from flask import Flask


@pytest.fixture
def app(app: Flask) -> Flask:
    # Flask-Login and Flask-Limiter keep state in the session or by client.
    app.secret_key = "company-tests"
    return app
