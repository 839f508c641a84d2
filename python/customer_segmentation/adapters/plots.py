"""Plots for `make plots`: the elbow curve with silhouette and Davies-Bouldin, and the
segment profiles.

Reads `segment_k_selection` and the current model's rows of `segment_centroids` from the
DuckDB file the project builds, and writes PNGs (Agg backend, no display needed).
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pandas as pd


def plot_k_selection(k_table: pd.DataFrame, chosen_k: int | None, path: Path) -> None:
    """Inertia per k (the elbow) on the left axis, silhouette and Davies-Bouldin on the right."""
    table = k_table.sort_values("k")
    fig, ax = plt.subplots(figsize=(8, 4.5), dpi=110)
    ax.plot(table["k"], table["inertia"], "o-", color="tab:blue", label="inertia (elbow)")
    ax.set_xlabel("k (number of segments)")
    ax.set_ylabel("inertia", color="tab:blue")
    ax.set_xticks(table["k"])
    right = ax.twinx()
    right.plot(table["k"], table["silhouette"], "s--", color="tab:green", label="silhouette")
    right.plot(table["k"], table["davies_bouldin"], "^:", color="tab:red", label="Davies-Bouldin")
    right.set_ylabel("silhouette (higher better) / Davies-Bouldin (lower better)")
    if chosen_k is not None:
        ax.axvline(
            chosen_k,
            color="grey",
            linewidth=1,
            linestyle="--",
            label=f"current model, k={chosen_k}",
        )
    lines = ax.get_legend_handles_labels()
    more = right.get_legend_handles_labels()
    ax.legend(lines[0] + more[0], lines[1] + more[1], loc="center right")
    rows = int(table["training_rows"].iloc[0])
    ax.set_title(f"Choosing k: elbow, silhouette and Davies-Bouldin ({rows:,} customers)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def plot_segment_profiles(centroids: pd.DataFrame, path: Path) -> None:
    """One panel per feature: each segment's centroid, in feature units, labelled by name."""
    features = centroids.sort_values("feature_position")["feature"].drop_duplicates().tolist()
    fig, axes = plt.subplots(1, len(features), figsize=(3.2 * len(features), 4.2), dpi=110)
    segments = centroids.drop_duplicates("segment_id").sort_values("segment_id")
    labels = [
        f"{int(s.segment_id)} {s.segment_name or '(unnamed)'}\n{int(s.segment_size):,} customers"
        for s in segments.itertuples()
    ]
    colors = plt.cm.tab10.colors
    for ax, feature in zip(axes, features, strict=True):
        values = centroids[centroids["feature"] == feature].set_index("segment_id")
        values = values.loc[segments["segment_id"], "centroid_value"]
        ax.barh(range(len(values)), values, color=colors[: len(values)])
        ax.set_yticks(range(len(values)))
        ax.set_yticklabels(labels if ax is axes[0] else [])
        ax.invert_yaxis()
        ax.set_title(feature)
        for y, value in enumerate(values):
            ax.annotate(
                f"{value:.3g}",
                (value, y),
                xytext=(3, 0),
                textcoords="offset points",
                va="center",
                fontsize=8,
            )
        ax.set_xlim(0, values.max() * 1.25 or 1)
    run = int(centroids["run_id"].iloc[0])
    fig.suptitle(f"Segment profiles: centroid of each feature per segment (run {run})")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def read_plot_tables(database: Path, schema: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The k-selection sweep and the current model's centroids from the DuckDB file; raises
    duckdb.CatalogException when a table is missing."""
    with duckdb.connect(str(database), read_only=True) as con:
        k_table = con.execute(f'select * from "{schema}".segment_k_selection').df()
        centroids = con.execute(
            f'select * from "{schema}".segment_centroids where is_current = 1'
        ).df()
    return k_table, centroids


def write_plots(k_table: pd.DataFrame, centroids: pd.DataFrame, out: Path) -> list[Path]:
    """Both PNGs into ``out``; the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    chosen = int(centroids["segment_id"].nunique()) if len(centroids) else None
    paths = [out / "k_selection.png", out / "segment_profiles.png"]
    plot_k_selection(k_table, chosen, paths[0])
    plot_segment_profiles(centroids, paths[1])
    return paths
