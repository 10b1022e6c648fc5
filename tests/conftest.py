from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from flask_jsonp import JSONP
from tests.node import NodeRunner
from tests.tools import require_executable


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)
    app.config["TESTING"] = True
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(params=["extension", "decorator-alone"])
def mode(request: pytest.FixtureRequest) -> str:
    """Each guarantee with :class:`~flask_jsonp.JSONP` set up on the app, and
    with the decorator alone.
    """
    return str(request.param)


def in_mode(app: Flask, mode: str) -> Flask:
    """``app`` answering errors as in production, with the extension set up
    in ``"extension"`` mode.
    """
    app.config["TESTING"] = False
    app.config["PROPAGATE_EXCEPTIONS"] = False
    if mode == "extension":
        JSONP(app)
    return app


@pytest.fixture(scope="session")
def node_runner() -> Iterator[NodeRunner]:
    runner = NodeRunner(require_executable("node"))
    yield runner
    runner.close()


@pytest.fixture
def node(node_runner: NodeRunner) -> NodeRunner:
    """Node.js, to execute the scripts the server answers."""
    return node_runner
