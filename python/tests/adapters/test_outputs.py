"""`make run`'s listing of the outputs: the models the manifest's exposures read."""

from __future__ import annotations

import json

import duckdb

from customer_segmentation.adapters.outputs import outputs_from_manifest, summary
from customer_segmentation.cli.outputs import main


def model(name: str, alias: str | None = None, tags: tuple[str, ...] = ()) -> dict:
    return {
        "name": name,
        "alias": alias or name,
        "description": f"what {name}\n  holds",
        "tags": list(tags),
        "resource_type": "model",
    }


def write_manifest(path) -> None:
    nodes = {
        "model.p.customer_clusters": model("customer_clusters", alias="py_customer_clusters"),
        "model.p.customer_campaign_emails": model("customer_campaign_emails"),
        "model.p.segment_k_selection": model("segment_k_selection", tags=("on_demand",)),
        "model.p.int_customer_orders": model("int_customer_orders"),
        "seed.p.segments": {"name": "segments", "resource_type": "seed"},
        "snapshot.p.campaign_list_history": {
            **model("campaign_list_history"),
            "resource_type": "snapshot",
        },
    }
    exposures = {
        "exposure.p.bi_dashboard": {
            "name": "bi_dashboard",
            "depends_on": {"nodes": ["model.p.customer_clusters", "seed.p.segments"]},
        },
        "exposure.p.mailer": {
            "name": "mailer",
            "depends_on": {
                "nodes": [
                    "model.p.customer_campaign_emails",
                    "model.p.customer_clusters",
                    "snapshot.p.campaign_list_history",
                ]
            },
        },
        "exposure.p.tutorial_apps": {
            "name": "tutorial_apps",
            "depends_on": {"nodes": ["model.p.segment_k_selection"]},
        },
    }
    path.write_text(json.dumps({"nodes": nodes, "exposures": exposures}))


def test_outputs_are_the_models_and_snapshots_the_exposures_read_under_their_relation_names(
    tmp_path,
):
    manifest = tmp_path / "manifest.json"
    write_manifest(manifest)
    outputs = outputs_from_manifest(manifest)
    assert [o.relation for o in outputs] == [
        "campaign_list_history",
        "customer_campaign_emails",
        "py_customer_clusters",
        "segment_k_selection",
    ]
    clusters = outputs[2]
    assert clusters.model == "customer_clusters"
    assert clusters.exposures == ("bi_dashboard", "mailer")
    assert clusters.description == "what customer_clusters holds"
    assert [o.on_demand for o in outputs] == [False, False, False, True]


def test_listing_counts_rows_says_what_builds_on_demand_tables_and_flags_missing_ones(
    tmp_path, capsys
):
    manifest = tmp_path / "manifest.json"
    write_manifest(manifest)
    database = tmp_path / "out.duckdb"
    with duckdb.connect(str(database)) as con:
        con.execute("create table main.py_customer_clusters as select 1 as Customer")
    assert main(["--database", str(database), "--manifest", str(manifest)]) == 0
    lines = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()[1:-1]}
    assert "1 rows" in lines["py_customer_clusters"]
    assert "what customer_clusters holds" in lines["py_customer_clusters"]
    assert "on demand: `make plots` builds it" in lines["segment_k_selection"]
    assert "MISSING" in lines["customer_campaign_emails"]
    assert "int_customer_orders" not in lines


def test_a_missing_manifest_says_to_build_first(tmp_path, capsys):
    database = tmp_path / "out.duckdb"
    duckdb.connect(str(database)).close()
    missing = tmp_path / "target" / "manifest.json"
    assert main(["--database", str(database), "--manifest", str(missing)]) == 1
    assert "run `make build` first" in capsys.readouterr().err


def test_a_listing_line_shows_the_first_sentence_of_the_description_cut_at_a_word():
    text = "Per cluster: customers. With more detail. And more."
    assert summary(text) == "Per cluster: customers"
    long = "One row per customer " + "with a very long explanation " * 6 + "end. Second."
    line = summary(long, width=60)
    assert len(line) <= 60 and line.endswith("…") and line.startswith("One row per customer")
    assert not line[:-1].endswith(" ")
