"""The benchmark's report: ratios against the targets, as measured and net of dbt's floor."""

from __future__ import annotations

from devtools.benchmark import Measurement, StepResult, ratio_row

MIB = 1024**2


def steps(**walls: float) -> dict[str, StepResult]:
    """Steps with one run each of the given wall seconds and 100 MiB."""
    return {key: StepResult(key, [Measurement(wall, 100 * MIB)]) for key, wall in walls.items()}


def cells(row: str) -> list[str]:
    return [cell.strip() for cell in row.strip("|").split("|")]


def test_ratios_are_reported_as_measured_and_net_of_the_dbt_floor():
    row = cells(ratio_row(10, steps(a=6, b=15, b_run=12, c=7, c_run=6, f=4)))
    assert row[0] == "10"
    assert row[1] == "2.50"  # (b)/(a)
    assert row[2] == "missed"
    assert row[3] == "0.47"  # (c)/(b)
    assert row[4] == "missed"
    assert row[7] == "1.83"  # (b-f)/(a) = 11/6
    assert row[8] == "0.27"  # (c-f)/(b-f) = 3/11
    assert row[9] == "2.00"  # (b')/(a)
    assert row[10] == "0.50"  # (c')/(b')


def test_targets_are_met_at_their_bounds_and_memory_below_4_gib():
    row = cells(ratio_row(1, steps(a=10, b=15, b_run=12, c=3, c_run=2, f=1)))
    assert row[2] == "met"
    assert row[4] == "met"
    assert row[5] == "0.10 GiB"
    assert row[6] == "met"


def test_peak_memory_of_4_gib_or_more_misses_its_target():
    measured = steps(a=10, b=12, b_run=12, c=2, c_run=2, f=1)
    measured["b"] = StepResult("b", [Measurement(12, 4 * 1024 * MIB)])
    assert cells(ratio_row(10, measured))[6] == "missed"
