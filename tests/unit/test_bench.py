"""Tests of the benchmark runner's report (figures only, never timed asserts)."""

from __future__ import annotations

import pytest

from smartfactory_lib import bench


def test_quick_runs_judge_no_target() -> None:
    """Check a quick run keeps its figures but judges no target it was not set for."""
    measurements = bench.run(["simulate"], quick=True)

    assert len(measurements) == 2
    assert all(m.value > 0 and m.baseline_value for m in measurements)
    assert all(m.target and m.target.endswith("(full run only)") for m in measurements)
    assert all(m.target_met is None for m in measurements)


def test_unknown_benchmark_is_named() -> None:
    """Check an unknown benchmark fails with the allowed names and the value."""
    with pytest.raises(ValueError, match="benchmark must be one of .* got 'disk'"):
        bench.run(["disk"])
