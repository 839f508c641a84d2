"""The campaign lists are right or the build fails: an opt-out matches whatever whitespace,
control or format characters its address carries; an unknown segment or a send list that
would be empty stops the build before anything is published; a published snapshot of the
history is never deleted or changed."""

from __future__ import annotations

import shutil
import unicodedata
from pathlib import Path

import duckdb
import pandas as pd
import pytest
import sqlfluff
import sqlglot
from conftest import DbtProject, error_messages
from published import assert_checksums_unchanged, relation_checksums
from sqlglot import exp
from sqlserver_fake import invoke_sqlserver

pytestmark = pytest.mark.e2e

# What a build publishes for a campaign, and the screening every one of them reads.
CAMPAIGN_RELATIONS = (
    "int_campaign_recipients_screened",
    "customer_campaign_emails",
    "campaign_holdout",
    "campaign_list_exclusions",
    "campaign_list_history",
)
# Python's own reading of "whitespace, control or format character", in the Basic
# Multilingual Plane: what normalized_email must remove on every target.
REMOVED_CATEGORIES = {"Zs", "Zl", "Zp", "Cc", "Cf"}
REMOVED = [chr(c) for c in range(0x10000) if unicodedata.category(chr(c)) in REMOVED_CATEGORIES]
# How opt-out addresses arrive from forms, spreadsheets and copy-paste.
HOSTILE_VARIANTS = {
    "trailing tab": lambda a: a + "\t",
    "trailing no-break space": lambda a: a + "\u00a0",
    "leading zero-width space": lambda a: "\u200b" + a,
    "trailing CRLF": lambda a: a + "\r\n",
    "upper case": lambda a: a.upper(),
    "leading newline": lambda a: "\n" + a,
    "ideographic space and NEL": lambda a: "\u3000" + a + "\u0085",
    "byte-order mark inside": lambda a: a[:3] + "\ufeff" + a[3:],
}
# Variants whose extra characters all sit around the address: what the SQL guard must catch.
AROUND_THE_ADDRESS = [name for name in HOSTILE_VARIANTS if name != "byte-order mark inside"]


def python_normalised(address: str) -> str:
    """The address without any whitespace, control or format character, lower-cased: an
    implementation that shares nothing with the macro normalized_email."""
    kept = (ch for ch in address if unicodedata.category(ch) not in REMOVED_CATEGORIES)
    return "".join(kept).lower()


@pytest.fixture(scope="module")
def published(small_source_db: Path, tmp_path_factory: pytest.TempPathFactory) -> DbtProject:
    """The project built once with the defaults: lists and one history snapshot published.
    Read-only: each test works on its own copy."""
    workdir = tmp_path_factory.mktemp("lists_published")
    database = workdir / "segmentation.duckdb"
    shutil.copyfile(small_source_db, database)
    project = DbtProject(database=database, workdir=workdir)
    result = project.invoke("build")
    assert result.success, error_messages(result)
    return project


def copy_of(project: DbtProject, tmp_path: Path) -> DbtProject:
    database = tmp_path / "segmentation.duckdb"
    shutil.copyfile(project.database, database)
    return DbtProject(database=database, workdir=tmp_path)


def campaign_checksums(project: DbtProject) -> dict:
    checksums = {
        name: digest
        for name, digest in relation_checksums(project.database).items()
        if name.split(".")[-1] in CAMPAIGN_RELATIONS
    }
    assert len(checksums) == len(CAMPAIGN_RELATIONS), sorted(checksums)
    return checksums


def opt_out(project: DbtProject, rows: list[tuple[int | None, str | None]]) -> None:
    """Append opt-outs to the loaded seed, as the mailer's unsubscribe feed would; the builds
    below exclude the seed so that `dbt seed` does not reload the CSV over them."""
    with duckdb.connect(str(project.database)) as con:
        con.executemany(
            "insert into main.email_opt_outs values (?, ?, date '2026-01-01', 'unsubscribe_link')",
            rows,
        )


def listed(project: DbtProject) -> pd.DataFrame:
    """Every customer on the send list, the holdout or the latest snapshot of the history."""
    return project.query(
        """
        select 'send' as list, c_customer_sk, c_email_address from main.customer_campaign_emails
        union all
        select 'holdout', c_customer_sk, c_email_address from main.campaign_holdout
        union all
        select 'history', c_customer_sk, c_email_address from main.campaign_list_history
        where published_at = (select max(published_at) from main.campaign_list_history)
        """
    )


def statuses(result) -> dict[str, str]:
    return {r.node.name: str(r.status) for r in result.result.results}


# Opt-outs ---------------------------------------------------------------------------------


def test_opted_out_addresses_carrying_whitespace_control_or_format_characters_are_on_no_list(
    published, tmp_path
):
    project = copy_of(published, tmp_path)
    targets = project.query(
        "select c_customer_sk, c_email_address from main.customer_campaign_emails "
        f"order by c_customer_sk limit {len(HOSTILE_VARIANTS)}"
    )
    hostile = [
        variant(address)
        for variant, address in zip(
            HOSTILE_VARIANTS.values(), targets["c_email_address"], strict=True
        )
    ]
    opt_out(project, [(None, address) for address in hostile])

    result = project.invoke("build", "--exclude", "email_opt_outs")
    assert result.success, error_messages(result)
    opted_out = {
        python_normalised(a)
        for a in project.query(
            "select email_address from main.email_opt_outs where email_address is not null"
        )["email_address"]
    }
    assert {python_normalised(a) for a in hostile} <= opted_out
    on_lists = listed(project)
    assert not {python_normalised(a) for a in on_lists["c_email_address"]} & opted_out
    assert not set(targets["c_customer_sk"]) & set(on_lists["c_customer_sk"])
    reasons = project.query(
        "select exclusion_reason from main.int_campaign_recipients_screened where customer_sk in "
        f"({', '.join(map(str, targets['c_customer_sk']))})"
    )
    assert reasons["exclusion_reason"].tolist() == ["opted_out"] * len(HOSTILE_VARIANTS)


def test_the_opt_out_guard_fails_when_an_opted_out_address_is_listed(published, tmp_path):
    # Lists published before these opt-outs arrived: what a normaliser that misses the
    # surrounding characters would publish. The guard test must see each of them.
    project = copy_of(published, tmp_path)
    targets = project.query(
        "select c_email_address from main.customer_campaign_emails "
        f"order by c_customer_sk limit {len(AROUND_THE_ADDRESS)}"
    )["c_email_address"]
    opt_out(
        project,
        [
            (None, HOSTILE_VARIANTS[name](address))
            for name, address in zip(AROUND_THE_ADDRESS, targets, strict=True)
        ],
    )
    result = project.invoke("test", "--select", "assert_no_opted_out_customer_is_listed")
    assert not result.success
    (guard,) = [
        r for r in result.result.results if r.node.name == "assert_no_opted_out_customer_is_listed"
    ]
    # Each customer is on the send list and in the history's latest snapshot.
    assert guard.failures == 2 * len(AROUND_THE_ADDRESS), error_messages(result)


@pytest.fixture(scope="module")
def sqlserver_normaliser(default_sqlserver_env, tmp_path_factory) -> str:
    """normalized_email('email_address') as `dbt compile --target sqlserver` renders it."""
    result = invoke_sqlserver(
        tmp_path_factory.mktemp("normaliser_sqlserver"),
        "compile",
        "--no-introspect",
        "--no-populate-cache",
        "--inline",
        "select {{ normalized_email('email_address') }} as email_key from opt_outs",
    )
    assert result.success, error_messages(result)
    return result.result.results[0].node.compiled_code


def evaluate_tsql(node: exp.Expression, value: str) -> str | int:
    """The value of the T-SQL string expression for email_address = ``value``: the few
    functions the normaliser may use, with T-SQL's semantics; anything else fails the test."""
    if isinstance(node, exp.Column):
        return value
    if isinstance(node, exp.Cast):
        # A varchar would lose every character outside the code page before anything runs.
        assert node.to.this == exp.DataType.Type.NVARCHAR, f"not Unicode: {node.to.sql('tsql')}"
        return evaluate_tsql(node.this, value)
    if isinstance(node, exp.Collate):
        # The usual collations give NUL and zero-width characters no weight: REPLACE and
        # TRANSLATE find them only under a binary one.
        assert node.expression.name.upper().endswith("_BIN2"), node.sql("tsql")
        return evaluate_tsql(node.this, value)
    if isinstance(node, (exp.Literal, exp.National)):
        return int(node.this) if isinstance(node, exp.Literal) and not node.is_string else node.this
    if isinstance(node, exp.Add):
        return evaluate_tsql(node.this, value) + evaluate_tsql(node.expression, value)
    if isinstance(node, exp.Lower):
        return evaluate_tsql(node.this, value).lower()
    if isinstance(node, exp.Replace):
        old = evaluate_tsql(node.expression, value)
        new = evaluate_tsql(node.args["replacement"], value)
        return evaluate_tsql(node.this, value).replace(old, new)
    if isinstance(node, exp.Translate):
        source, target = (evaluate_tsql(node.args[k], value) for k in ("from_", "to"))
        assert len(source) == len(target), "TRANSLATE needs arguments of equal length"
        return evaluate_tsql(node.this, value).translate(str.maketrans(source, target))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "nchar":
        return chr(evaluate_tsql(node.expressions[0], value))
    if isinstance(node, exp.Repeat):
        return evaluate_tsql(node.this, value) * evaluate_tsql(node.args["times"], value)
    raise AssertionError(f"no T-SQL semantics here for {node.sql('tsql')}")


def test_the_tsql_normaliser_parses_and_removes_every_whitespace_control_or_format_character(
    sqlserver_normaliser,
):
    sqlfluff.parse(sqlserver_normaliser, dialect="tsql")
    select = sqlglot.parse_one(sqlserver_normaliser, read="tsql")
    (expression,) = [e.unalias() for e in select.expressions]
    address = "Ann.Lee+news_1-x@Example.com"
    assert evaluate_tsql(expression, address) == "ann.lee+news_1-x@example.com"
    kept_wrongly = [
        f"U+{ord(ch):04X}"
        for ch in REMOVED
        for placed in (ch + address, address + ch, address[:3] + ch + address[3:])
        if evaluate_tsql(expression, placed) != python_normalised(placed)
    ]
    assert not kept_wrongly, f"T-SQL normalized_email keeps {sorted(set(kept_wrongly))}"


def test_the_duckdb_normaliser_removes_the_same_characters(tmp_path):
    project = DbtProject(database=tmp_path / "empty.duckdb", workdir=tmp_path)
    result = project.invoke(
        "compile", "--inline", "select {{ normalized_email('email_address') }} from opt_outs"
    )
    assert result.success, error_messages(result)
    rendered = result.result.results[0].node.compiled_code
    address = "Ann.Lee+news_1-x@Example.com"
    cases = [address] + [
        placed for ch in REMOVED for placed in (ch + address, address + ch, address[:3] + ch)
    ]
    with duckdb.connect() as con:
        con.execute("create table opt_outs (email_address varchar)")
        con.executemany("insert into opt_outs values (?)", [(case,) for case in cases])
        actual = [row[0] for row in con.execute(rendered).fetchall()]
    expected = [python_normalised(case) for case in cases]
    assert actual == expected


# Unknown segments and empty lists ---------------------------------------------------------


def test_an_unknown_campaign_segment_stops_the_build_naming_it_and_the_known_ones(
    published, tmp_path
):
    project = copy_of(published, tmp_path)
    before = campaign_checksums(project)
    known = project.query(
        "select distinct segment_id from main.int_segment_centroids_current order by 1"
    )["segment_id"].tolist()
    assert 99 not in known

    result = project.invoke("build", "--vars", "{campaign_segments: [99]}")
    assert not result.success
    message = error_messages(result)
    assert "unknown segment(s): 99 (not a segment of the current model)" in message
    assert f"Known segments: {', '.join(map(str, known))}." in message
    status = statuses(result)
    assert status["int_campaign_recipients_screened"] == "error"
    for model in CAMPAIGN_RELATIONS[1:]:
        assert status[model] == "skipped", model
    assert_checksums_unchanged(before, campaign_checksums(project))


def test_a_campaign_whose_send_list_would_be_empty_fails_naming_it(published, tmp_path):
    project = copy_of(published, tmp_path)
    segment, customers = project.query(
        "select cluster, list(Customer) as customers from main.py_customer_clusters "
        "group by cluster order by count(*) limit 1"
    ).iloc[0]
    opt_out(project, [(int(key), None) for key in customers])
    before = campaign_checksums(project)

    result = project.invoke(
        "build",
        "--exclude",
        "email_opt_outs",
        "--vars",
        f"{{campaign_segments: [{segment}], campaign_name: spring-2027}}",
    )
    assert not result.success
    assert (
        f"campaign spring-2027: the send list would be empty (every customer of segments "
        f"{segment} is excluded or held out)" in error_messages(result)
    )
    status = statuses(result)
    assert status["int_campaign_recipients_screened"] == "error"
    for model in CAMPAIGN_RELATIONS[1:]:
        assert status[model] == "skipped", model
    assert_checksums_unchanged(before, campaign_checksums(project))


# History ----------------------------------------------------------------------------------


def history(project: DbtProject) -> pd.DataFrame:
    return project.query(
        "select * from main.campaign_list_history order by snapshot_id, c_customer_sk"
    )


def test_a_rebuild_with_identical_lists_adds_no_snapshot(published, tmp_path):
    project = copy_of(published, tmp_path)
    before = relation_checksums(project.database)["main.campaign_list_history"]

    result = project.invoke("build")
    assert result.success, error_messages(result)
    assert relation_checksums(project.database)["main.campaign_list_history"] == before


def test_a_same_day_rebuild_with_changed_lists_keeps_the_earlier_snapshot_and_adds_one(
    published, tmp_path
):
    project = copy_of(published, tmp_path)
    earlier = history(project)
    (earlier_id,) = earlier["snapshot_id"].unique()
    leaving = int(earlier.loc[earlier["list_name"] == "send", "c_customer_sk"].min())
    opt_out(project, [(leaving, None)])

    result = project.invoke("build", "--exclude", "email_opt_outs")
    assert result.success, error_messages(result)
    after = history(project)
    kept = after[after["snapshot_id"] == earlier_id].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, earlier)
    added = after[after["snapshot_id"] != earlier_id]
    assert added["snapshot_id"].nunique() == 1
    assert set(added["snapshot_date"]) == set(earlier["snapshot_date"])
    assert added["published_at"].min() > earlier["published_at"].max()
    lists = project.query(
        "select c_customer_sk, 'send' as list_name from main.customer_campaign_emails "
        "union all select c_customer_sk, 'holdout' from main.campaign_holdout"
    )
    assert sorted(zip(added["c_customer_sk"], added["list_name"], strict=True)) == sorted(
        zip(lists["c_customer_sk"], lists["list_name"], strict=True)
    )
    assert leaving not in set(added["c_customer_sk"])


def test_full_refresh_keeps_every_published_snapshot(published, tmp_path):
    project = copy_of(published, tmp_path)
    earlier = history(project)

    result = project.invoke("build", "--full-refresh")
    assert result.success, error_messages(result)
    after = history(project)
    kept = after[after["snapshot_id"].isin(earlier["snapshot_id"])].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept, earlier)
