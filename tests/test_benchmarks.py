"""A quick ``make bench ARGS="--only inprocess --quick --against ..."``: the
comparison with another revision runs each side's ``flask_jsonp`` in a worker
of its own and prints every scenario for both.

No figure is checked (timing on a shared machine proves nothing): only that the
comparison runs and reports what it measured, so that it cannot rot unseen.
"""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _require_bench_group() -> None:
    # A skip even under CI: the version matrix runs the unit tests without
    # the bench group, by design; `make test` has it.
    for module in ("flask_jsonpify", "flask_orjson", "psutil"):
        if importlib.util.find_spec(module) is None:
            pytest.skip(f"{module} is not installed (the bench dependency group)")


def _require_git_checkout() -> None:
    # An unpacked sdist has no history to check another revision out of.
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the comparison needs another revision")


def test_the_quick_comparison_with_a_revision_reports_every_scenario(
    capsys: pytest.CaptureFixture[str],
) -> None:
    _require_bench_group()
    _require_git_checkout()
    # Imported here: the benchmarks need the bench group, which the matrix lacks.
    from benchmarks import __main__ as bench
    from benchmarks.bench_inprocess import SCENARIOS

    # HEAD: a shallow clone may lack the default revision; the code is the same
    # as this tree's or close to it, which is all a smoke run needs.
    status = bench.main(["--only", "inprocess", "--quick", "--against", "HEAD"])
    output = capsys.readouterr()
    assert status == 0, output.err
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert "In-process, against HEAD:" in output.out
    assert f"{head}: CPU ratio" in output.out
    # The revision's package came from its worktree, not from this tree.
    assert ".bench-cache/worktrees/" in output.err
    table = output.out.split("\n\n")[0]
    for scenario in SCENARIOS:
        line = next(row for row in table.splitlines() if scenario.name in row)
        assert "not measured" not in line, line
        if scenario.target is not None:
            assert f"≥ {scenario.target:.2f}" in line


def test_a_scenario_a_side_cannot_run_is_reported_not_fatal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _require_bench_group()
    _require_git_checkout()
    from benchmarks import bench_inprocess
    from benchmarks.bench_inprocess import Scenario
    from benchmarks.bench_inprocess import Variant

    # A config key no revision knows: the app refuses it, as 0.1 refuses an
    # option added since (JSONP_ETAG).
    unknown = Variant("jsonp", config=(("JSONP_NO_SUCH_OPTION", True),))
    scenarios = (
        Scenario("known", Variant("bare"), Variant("jsonp"), 0.5),
        Scenario("unknown", Variant("jsonp"), unknown, 0.5),
    )
    monkeypatch.setattr(bench_inprocess, "SCENARIOS", scenarios)
    found = bench_inprocess.run(quick=True, against="HEAD")
    assert [row.name for row in found.rows] == ["known"]
    table = found.table()
    unknown_line = next(row for row in table.splitlines() if "| unknown" in row)
    assert unknown_line.count("not measured") == 2
    assert sum("JSONP_NO_SUCH_OPTION" in line for line in found.missing) == 2


def test_a_revalidated_variant_sends_the_etag_it_was_given_and_expects_304() -> None:
    _require_bench_group()
    from flask import Flask
    from flask import jsonify
    from flask import request
    from flask import Response

    from benchmarks.bench_inprocess import make_caller

    app = Flask(__name__)
    etags: list[str | None] = []

    @app.get("/bare/<size>")
    def bare(size: str) -> Response:
        etags.append(request.headers.get("If-None-Match"))
        answer = jsonify(size=size)
        answer.add_etag()
        answer.make_conditional(request)  # in place: 304 on a match
        return answer

    call = make_caller(app, "small", "bare", revalidate=True)
    assert call() == b""  # 304 Not Modified: no body
    first, *revalidated = etags
    assert first is None
    assert revalidated and all(etag and etag.startswith('"') for etag in revalidated)


def test_revalidating_an_answer_without_an_etag_is_refused() -> None:
    _require_bench_group()
    from benchmarks.bench_app import create_app
    from benchmarks.bench_inprocess import make_caller

    with pytest.raises(RuntimeError, match="without an ETag"):
        make_caller(create_app("standard", "plain"), "small", "bare", revalidate=True)
