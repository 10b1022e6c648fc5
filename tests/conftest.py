from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

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


@pytest.fixture(scope="session")
def node_runner() -> Iterator[NodeRunner]:
    runner = NodeRunner(require_executable("node"))
    yield runner
    runner.close()


@pytest.fixture
def node(node_runner: NodeRunner) -> NodeRunner:
    """Node.js, to execute the scripts the server answers."""
    return node_runner
