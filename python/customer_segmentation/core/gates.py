"""The quality gates a training run must pass before it may become the current model."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class GateThresholds:
    """The thresholds of the gates: the vars `min_segment_share`, `min_silhouette` and
    `max_davies_bouldin` (validated by the Jinja layer, macros/vars/validated_var.sql)."""

    # Every segment holds at least this share of the training customers.
    min_segment_share: float = 0.02
    # Mean silhouette on the sample, -1 to 1.
    min_silhouette: float = 0.25
    # Davies-Bouldin index, 0 is best.
    max_davies_bouldin: float = 1.5


def gate_failures(
    sizes: dict[int, int],
    silhouette_value: float | None,
    db_value: float | None,
    thresholds: GateThresholds,
    named_segments: set[int] | None,
    relabelled: int,
) -> list[str]:
    """Why a run fails its quality gates, one reason per gate ([] when it passes): a segment
    below `min_segment_share`, silhouette or Davies-Bouldin outside their bounds (undefined
    with one segment), a segment id without a name in the `segments` seed (None: not
    checked), or customers whose segment the stored centroids do not reproduce."""
    failures = []
    total = sum(sizes.values())
    small = [
        f"{segment} ({size / total:.2%})"
        for segment, size in sorted(sizes.items())
        if size / total < thresholds.min_segment_share
    ]
    if small:
        failures.append(
            f"segments below min_segment_share={thresholds.min_segment_share:g}: "
            + ", ".join(small)
        )
    if silhouette_value is None or db_value is None:
        failures.append("one segment: silhouette and Davies-Bouldin need k >= 2")
    else:
        if silhouette_value < thresholds.min_silhouette:
            failures.append(
                f"silhouette {silhouette_value:.4f} < min_silhouette={thresholds.min_silhouette:g}"
            )
        if db_value > thresholds.max_davies_bouldin:
            failures.append(
                f"Davies-Bouldin {db_value:.4f} > "
                f"max_davies_bouldin={thresholds.max_davies_bouldin:g}"
            )
    if named_segments is not None:
        unnamed = sorted(set(sizes) - set(named_segments))
        if unnamed:
            failures.append(
                "segment ids without a name in the segments seed: "
                + ", ".join(str(s) for s in unnamed)
            )
    if relabelled:
        failures.append(
            f"{relabelled} customers get another segment from the stored centroids than "
            "from the fitted model"
        )
    return failures
