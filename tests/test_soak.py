"""A short ``make soak``: gunicorn under wrk's request mix for a few seconds, so
that the soak's expectations cannot drift from what the package answers.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.tools import missing_tool
from tests.tools import require_executable

#: Long enough for every kind of request of the mix to be sent many times.
SECONDS = 3


@pytest.mark.load
def test_a_short_soak_passes_its_bounds(capsys: pytest.CaptureFixture[str]) -> None:
    require_executable("wrk")
    for module in ("gunicorn", "psutil"):
        if importlib.util.find_spec(module) is None:
            missing_tool(f"{module} is not installed (the bench dependency group)")
    # Imported here: the benchmarks need the bench group, which the matrix lacks.
    from benchmarks import soak

    status = soak.main(["--duration", str(SECONDS), "--warmup", "1"])
    output = capsys.readouterr()
    assert status == 0, output.out + output.err
    assert output.out.rstrip().endswith("PASS")
