"""The benchmark's report: ratios against the tutorial, as measured and net of dbt's floor,
and the issue's targets at the scale factors they apply to."""

from __future__ import annotations

import pytest

from devtools.benchmark import (
    GIB,
    Measurement,
    StepResult,
    TargetCheck,
    ratio_row,
    target_checks,
    target_row,
)

MIB = 1024**2


def steps(**walls: float) -> dict[str, StepResult]:
    """Steps with one run each of the given wall seconds and 100 MiB."""
    return {key: StepResult(key, [Measurement(wall, 100 * MIB)]) for key, wall in walls.items()}


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip("|").split("|")]


def checks_by_target(results: dict[float, dict[str, StepResult]]) -> dict[str, TargetCheck]:
    return {check.target: check for check in target_checks(results)}


def test_ratios_are_reported_against_the_tutorial_as_measured_and_net_of_the_floor():
    row = cells(ratio_row(10, steps(a=6, b=15, b_run=12, c=7, c_run=6, f=4)))
    assert row[0] == "10"
    assert row[1] == "2.50"  # (b)/(a)
    assert row[2] == "1.17"  # (c)/(a)
    assert row[3] == "1.83"  # (b-f)/(a) = 11/6
    assert row[4] == "0.50"  # (c-f)/(a) = 3/6
    assert row[5] == "0.27"  # (c-f)/(b-f) = 3/11
    assert row[6] == "2.00"  # (b')/(a)
    assert row[7] == "0.50"  # (c')/(b')


def test_ratios_of_skipped_optional_steps_are_left_blank():
    row = cells(ratio_row(10, steps(a=6, b=15, c=7, f=4)))
    assert row[6] == "-"
    assert row[7] == "-"


def test_peak_memory_is_the_projects_not_the_tutorials():
    measured = steps(a=6, b=15, c=7, f=4)
    measured["a"] = StepResult("a", [Measurement(6, 8 * GIB)])
    measured["c"] = StepResult("c", [Measurement(7, GIB // 2)])
    assert cells(ratio_row(30, measured))[8] == "0.50 GiB"


def test_only_the_targets_of_the_measured_scale_factors_are_checked():
    assert target_checks({1.0: steps(a=1, b=2, c=2, f=1)}) == []
    assert set(checks_by_target({10.0: steps(a=10, b=15, c=12, f=6)})) == {
        "sf=10: (c)-(f) <= 1.0 x (a)"
    }
    assert set(checks_by_target({30.0: steps(a=10, b=15, c=5, f=4)})) == {
        "sf=30: (c) <= 0.5 x (a)",
        "sf=30: (b) <= 1.5 x (a)",
        "sf=30: peak memory <= 4 GiB",
    }


def test_targets_at_sf30_are_met_at_their_bounds():
    checks = checks_by_target({30.0: steps(a=40, b=60, c=20, f=6)})
    assert checks["sf=30: (c) <= 0.5 x (a)"].measured == pytest.approx(0.5)
    assert checks["sf=30: (b) <= 1.5 x (a)"].measured == pytest.approx(1.5)
    assert all(check.met for check in checks.values())


def test_targets_at_sf30_are_missed_just_past_their_bounds():
    checks = checks_by_target({30.0: steps(a=40, b=60.1, c=20.1, f=6)})
    assert not checks["sf=30: (c) <= 0.5 x (a)"].met
    assert not checks["sf=30: (b) <= 1.5 x (a)"].met


def test_the_sf10_target_is_net_of_dbts_floor():
    check = checks_by_target({10.0: steps(a=10, b=20, c=16, f=6)})["sf=10: (c)-(f) <= 1.0 x (a)"]
    assert check.measured == pytest.approx(1.0)
    assert check.met
    check = checks_by_target({10.0: steps(a=10, b=20, c=17, f=6)})["sf=10: (c)-(f) <= 1.0 x (a)"]
    assert not check.met


def test_growth_from_sf10_to_sf30_compares_the_nightly_builds_net_of_the_floor():
    growth = "(c)-(f) grows <= 1.3x from sf=10 to sf=30"
    sf10 = steps(a=10, b=20, c=16, f=6)  # (c)-(f) = 10
    assert checks_by_target({10.0: sf10, 30.0: steps(a=30, b=40, c=19, f=6)})[growth].met
    missed = checks_by_target({10.0: sf10, 30.0: steps(a=30, b=40, c=20, f=6)})[growth]
    assert missed.measured == pytest.approx(1.4)
    assert not missed.met


def test_peak_memory_above_4_gib_at_sf30_misses_its_target():
    measured = steps(a=40, b=60, c=20, f=6)
    measured["b"] = StepResult("b", [Measurement(60, 4 * GIB + 1)])
    check = checks_by_target({30.0: measured})["sf=30: peak memory <= 4 GiB"]
    assert not check.met
    assert cells(target_row(check)) == [
        "sf=30: peak memory <= 4 GiB",
        "4.00 GiB",
        "4 GiB",
        "missed",
    ]


def test_a_target_row_says_met_or_missed():
    assert cells(target_row(TargetCheck("sf=30: (c) <= 0.5 x (a)", 0.25, 0.5)))[-1] == "met"
    assert cells(target_row(TargetCheck("sf=30: (c) <= 0.5 x (a)", 0.75, 0.5)))[-1] == "missed"
