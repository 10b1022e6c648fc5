"""Decorated views keep their signature for type checkers."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

SNIPPET = """
from flask_jsonp import jsonp


@jsonp
def bare(user_id: int) -> dict[str, int]:
    return {"id": user_id}


@jsonp(envelope=True, callback_params=["cb"])
async def with_options(name: str) -> list[str]:
    return [name]


reveal_type(bare)
reveal_type(with_options)
bare(1)
bare("one")
_ = with_options(name=2)
"""


def test_signature_is_kept(tmp_path: Path) -> None:
    api = pytest.importorskip("mypy.api")
    module = tmp_path / "views.py"
    module.write_text(textwrap.dedent(SNIPPET))
    stdout, stderr, status = api.run(
        ["--strict", "--no-incremental", "--show-error-codes", str(module)]
    )
    assert status == 1, stdout + stderr
    # Older mypy versions spell builtins out ("builtins.int").
    plain = stdout.replace("builtins.", "")
    lines = plain.splitlines()
    assert 'Revealed type is "def (user_id: int) -> dict[str, int]"' in plain
    assert (
        'Revealed type is "def (name: str) -> typing.Coroutine[Any, Any, list[str]]"'
        in plain
    )
    errors = [line for line in lines if ": error:" in line]
    assert len(errors) == 2, stdout
    assert '"bare" has incompatible type "str"' in errors[0]
    assert '"name" to "with_options" has incompatible type "int"' in errors[1]
