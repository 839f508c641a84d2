"""The fake SQL Server (sqlserver_fake.py) follows what the build tests rely on: procedures
resolve their names when executed, transactions nest as @@TRANCOUNT does, and a failing batch
raises and, with XACT_ABORT ON, rolls its transaction back. Batches sent directly, no dbt."""

from __future__ import annotations

import pytest
from sqlserver_fake import FakeSqlServer, SqlServerError

BEGIN = "BEGIN TRANSACTION"
COMMIT = "IF @@TRANCOUNT > 0 COMMIT TRANSACTION"


def missing(server: FakeSqlServer) -> list[tuple[str, str]]:
    return [(e.action, e.name) for e in server.events if e.missing]


def test_a_procedure_reads_its_tables_when_executed_not_when_created():
    server = FakeSqlServer()
    session = server.open_session()
    server.execute(
        "create or alter procedure dbo.p as begin select * from dbo.t end", None, session
    )
    assert missing(server) == []
    server.execute("exec dbo.p", None, session)
    assert missing(server) == [("read", "dbo.t")]


def test_an_exec_of_a_procedure_never_created_is_missing():
    server = FakeSqlServer()
    server.execute('insert into #rows exec "dbo"."p" @n = 1', None, server.open_session())
    assert missing(server) == [("exec", "dbo.p")]


def test_the_python_of_an_external_script_is_not_read_as_sql():
    server = FakeSqlServer(tables={("dbo", "features"): []})
    server.execute(
        "exec sp_execute_external_script @language = N'Python', "
        "@script = N'from sklearn.cluster import KMeans', "
        "@input_data_1 = N'select * from dbo.features'",
        None,
        server.open_session(),
    )
    assert [(e.action, e.name, e.missing) for e in server.events] == [
        ("read", "dbo.features", False)
    ]


def test_nested_transactions_commit_with_the_outermost_commit():
    server = FakeSqlServer()
    session = server.open_session()
    for sql in (BEGIN, "delete from dbo.t", BEGIN, COMMIT):
        server.execute(sql, None, session)
    delete = server.find("delete from dbo.t")[0]
    assert server.fate(delete) == "open"
    server.execute(COMMIT, None, session)
    assert server.fate(delete) == "commit"
    server.execute("insert into dbo.t values (1)", None, session)
    assert server.fate(server.find("insert into dbo.t")[0]) == "autocommit"


def test_a_session_closed_with_a_transaction_open_rolls_it_back():
    server = FakeSqlServer()
    session = server.open_session()
    server.execute(BEGIN, None, session)
    server.execute("delete from dbo.t", None, session)
    server.close_session(session)
    assert server.fate(server.find("delete from dbo.t")[0]) == "rollback"


@pytest.mark.parametrize(("setting", "fate"), [("ON", "rollback"), ("OFF", "open")])
def test_a_failing_batch_raises_and_with_xact_abort_on_rolls_back_its_transaction(setting, fate):
    server = FakeSqlServer(errors={"exec dbo.p": "Msg 50002: scripts are disabled"})
    session = server.open_session()
    server.execute(f"SET XACT_ABORT {setting};", None, session)
    server.execute(BEGIN, None, session)
    with pytest.raises(SqlServerError, match="Msg 50002: scripts are disabled"):
        server.execute("insert into #rows exec dbo.p", None, session)
    assert server.fate(server.find("exec dbo.p")[0]) == fate


def test_rows_of_empty_tables_are_none_but_an_aggregate_is_one_row():
    server = FakeSqlServer()
    session = server.open_session()
    _, rows = server.execute("select run_id, gate_failures from dbo.r where x = 0", None, session)
    assert rows == []
    _, rows = server.execute("select max(run_id) from dbo.r", None, session)
    assert rows == [(None,)]


def test_an_answer_stands_for_data_the_fake_does_not_hold():
    server = FakeSqlServer(answers={"from dbo.r where ok = 1": [(3,)]})
    session = server.open_session()
    _, rows = server.execute("select max(run_id) from dbo.r where ok = 1", None, session)
    assert rows == [(3,)]
