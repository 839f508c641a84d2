"""The campaign lists are right or the build fails: an opt-out matches whatever whitespace,
control or format characters its address carries; an unknown segment or a send list that
would be empty stops the build before anything is published; a published snapshot of the
history only grows with changes, and says who was on which list on which day."""

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
    "cluster_email_coverage",
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
    """The project built once with the defaults: lists published, their history opened.
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
    """Every customer on the send list, the holdout or an open row of the history."""
    return project.query(
        """
        select 'send' as list, c_customer_sk, c_email_address from main.customer_campaign_emails
        union all
        select 'holdout', c_customer_sk, c_email_address from main.campaign_holdout
        union all
        select 'history', c_customer_sk, c_email_address from main.campaign_list_history
        where valid_to is null
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
    # Each customer is on the send list and in an open row of the history.
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


HISTORY_KEY = ["campaign_name", "list_name", "c_customer_sk"]
HISTORY_VALUES = ["cluster", "c_email_address", "model_run_id"]


def history(project: DbtProject) -> pd.DataFrame:
    return project.query(
        "select * from main.campaign_list_history "
        "order by campaign_name, list_name, c_customer_sk, valid_from"
    )


def published_lists(project: DbtProject) -> pd.DataFrame:
    """What the build published, one row per (campaign, list, customer), with the model run
    the screening recorded: what the history must hold open."""
    return project.query(
        """
        select l.campaign_name, l.list_name, l.c_customer_sk, l.cluster, l.c_email_address,
            s.model_run_id
        from (
            select campaign_name, 'send' as list_name, c_customer_sk, cluster, c_email_address
            from main.customer_campaign_emails
            union all
            select campaign_name, 'holdout', c_customer_sk, cluster, c_email_address
            from main.campaign_holdout
        ) as l
        inner join main.int_campaign_recipients_screened as s on l.c_customer_sk = s.customer_sk
        """
    )


def rows(frame: pd.DataFrame, columns: list[str]) -> set[tuple]:
    return set(frame[columns].itertuples(index=False, name=None))


def test_a_rebuild_with_identical_lists_adds_nothing_to_the_history(published, tmp_path):
    project = copy_of(published, tmp_path)
    before = relation_checksums(project.database)["main.campaign_list_history"]

    result = project.invoke("build")
    assert result.success, error_messages(result)
    assert relation_checksums(project.database)["main.campaign_list_history"] == before


def test_a_same_day_rebuild_with_changed_lists_closes_the_leavers_rows_and_keeps_the_rest(
    published, tmp_path
):
    project = copy_of(published, tmp_path)
    earlier = history(project)
    leaving = int(earlier.loc[earlier["list_name"] == "send", "c_customer_sk"].min())
    opt_out(project, [(leaving, None)])

    result = project.invoke("build", "--exclude", "email_opt_outs")
    assert result.success, error_messages(result)
    after = history(project)
    # Nothing added: the change is one closed row, on the same day as it was opened.
    assert len(after) == len(earlier)
    (closed,) = after[after["valid_to"].notna()].itertuples()
    assert (closed.c_customer_sk, closed.list_name) == (leaving, "send")
    assert closed.valid_to.date() == closed.valid_from.date()
    unchanged = after[after["c_customer_sk"] != leaving].reset_index(drop=True)
    pd.testing.assert_frame_equal(
        unchanged, earlier[earlier["c_customer_sk"] != leaving].reset_index(drop=True)
    )
    columns = HISTORY_KEY + HISTORY_VALUES
    assert rows(after[after["valid_to"].isna()], columns) == rows(published_lists(project), columns)


def test_full_refresh_keeps_every_history_row_and_records_its_retrain(published, tmp_path):
    project = copy_of(published, tmp_path)
    earlier = history(project)

    result = project.invoke("build", "--full-refresh")
    assert result.success, error_messages(result)
    after = history(project)
    # dbt never rebuilds a snapshot: the earlier rows are all there, closed by the retrain
    # that --full-refresh makes (a new run of the registry), beside the new run's rows.
    kept = after[after["model_run_id"] == 1].reset_index(drop=True)
    pd.testing.assert_frame_equal(kept.drop(columns="valid_to"), earlier.drop(columns="valid_to"))
    assert kept["valid_to"].notna().all()
    current = after[after["valid_to"].isna()]
    assert set(current["model_run_id"]) == {2}
    columns = HISTORY_KEY + HISTORY_VALUES
    assert rows(current, columns) == rows(published_lists(project), columns)


def fresh_history(published: list[pd.DataFrame]) -> set[tuple]:
    """SCD type 2 of a sequence of published lists, computed from scratch: each (key, values)
    version with the build that opened it and the one that closed it (None: still open)."""
    versions: dict[tuple, tuple] = {}
    opened: dict[tuple, int] = {}
    closed: set[tuple] = set()
    for build, lists in enumerate(published):
        now = {row[:3]: row[3:] for row in rows(lists, HISTORY_KEY + HISTORY_VALUES)}
        for key in list(versions):
            if now.get(key) != versions[key]:
                closed.add((*key, *versions.pop(key), opened.pop(key), build))
        for key, values in now.items():
            if key not in versions:
                versions[key], opened[key] = values, build
    return closed | {(*key, *values, opened[key], None) for key, values in versions.items()}


def test_the_history_after_changes_equals_a_fresh_history_of_the_same_lists(published, tmp_path):
    project = copy_of(published, tmp_path)
    send = project.query(
        "select c_customer_sk from main.customer_campaign_emails order by 1 limit 2"
    )["c_customer_sk"]
    builds = [
        lambda: None,  # the published build
        lambda: opt_out(project, [(int(key), None) for key in send]),  # two leave
        lambda: None,  # an identical rebuild
        lambda: None,  # a larger holdout moves customers from send to holdout
    ]
    build_vars = ["", "", "", "{holdout_share: 0.3}"]
    lists, build_of_time = [], {}
    for build, (change, variables) in enumerate(zip(builds, build_vars, strict=True)):
        if build:
            change()
            args = ["--vars", variables] if variables else []
            result = project.invoke("build", "--exclude", "email_opt_outs", *args)
            assert result.success, error_messages(result)
        lists.append(published_lists(project))
        recorded = history(project)
        for time in pd.concat([recorded["valid_from"], recorded["valid_to"]]).dropna():
            build_of_time.setdefault(time, build)

    recorded = history(project)
    incremental = {
        (
            *row[:6],
            build_of_time[row[6]],
            None if pd.isna(row[7]) else build_of_time[row[7]],
        )
        for row in recorded[[*HISTORY_KEY, *HISTORY_VALUES, "valid_from", "valid_to"]].itertuples(
            index=False, name=None
        )
    }
    assert incremental == fresh_history(lists)
    # It grew with the changes only: the identical rebuild (build 2) stamped nothing.
    assert sorted(set(build_of_time.values())) == [0, 1, 3]
    assert len(recorded) < 2 * len(lists[0])


def on_day(project: DbtProject, day: str, campaign: str = "default") -> pd.DataFrame:
    """analyses/campaign_list_on_day.sql compiled for the day and campaign, run on DuckDB."""
    result = project.invoke(
        "compile",
        "--select",
        "campaign_list_on_day",
        "--vars",
        f"{{list_day: '{day}', campaign_name: {campaign}}}",
    )
    assert result.success, error_messages(result)
    (node,) = [r.node for r in result.result.results if r.node.name == "campaign_list_on_day"]
    return project.query(node.compiled_code)


def test_who_was_on_a_list_on_a_day_and_from_which_run_over_a_retrain(published, tmp_path):
    project = copy_of(published, tmp_path)
    first = published_lists(project)
    # The first build as if it ran the day before: its rows opened yesterday.
    with duckdb.connect(str(project.database)) as con:
        con.execute(
            "update main.campaign_list_history set valid_from = valid_from - interval 1 day, "
            "dbt_updated_at = dbt_updated_at - interval 1 day"
        )
    result = project.invoke("build", "--vars", "{retrain: true}")
    assert result.success, error_messages(result)
    second = published_lists(project)
    assert set(first["model_run_id"]) == {1} and set(second["model_run_id"]) == {2}
    recorded = history(project)
    yesterday = recorded["valid_from"].min().date()
    today = recorded["valid_from"].max().date()
    assert yesterday < today

    columns = HISTORY_KEY + HISTORY_VALUES
    assert rows(on_day(project, str(yesterday)), columns) == rows(first, columns)
    # Today: run 1's lists until the retrain closed them, then run 2's.
    assert rows(on_day(project, str(today)), columns) == rows(first, columns) | rows(
        second, columns
    )
    assert on_day(project, str(yesterday - pd.Timedelta(days=1))).empty
    assert on_day(project, str(today), campaign="spring-2027").empty
