"""A small evaluator of T-SQL SELECTs parsed by sqlglot: enough of T-SQL's semantics to run
the macro tests of tests/macros/ as `dbt compile --target sqlserver` renders them, with no
server. It knows the functions the `sqlserver__` versions of the macros use and fails on
anything else, so a macro that starts using another function fails loudly instead of
passing untested.

What it models of T-SQL: varchar and nvarchar strings (`NStr`), and HASHBYTES hashing the
bytes of each (code page text or UTF-16LE); binary substrings and their conversion to bigint
(big-endian); `float` as an 8-byte double (sqlglot reads `real` and `float(24)` as `float`
too: `FOUR_BYTE_FLOAT` finds them in the text); LEN ignoring trailing
blanks; LIKE with `%`, `_` and `[...]` classes, case-insensitive unless the text has a
binary (`_BIN2`) collation; NULL propagating through arithmetic and comparisons."""

from __future__ import annotations

import decimal
import hashlib
import re
from typing import Any

from sqlglot import exp

Row = dict[str, Any]
# T-SQL's 4-byte floats, which sqlglot parses as `float` like the 8-byte one.
FOUR_BYTE_FLOAT = re.compile(r"\b(?:real|float\s*\(\s*(?:[1-9]|1[0-9]|2[0-4])\s*\))", re.I)


class NStr(str):
    """An nvarchar value (Unicode), as opposed to a varchar one (a plain str)."""


class UnsupportedError(Exception):
    """The evaluator has no T-SQL semantics for this construct."""


def _name(node: exp.Expression) -> str:
    return node.alias_or_name.lower()


def _number(literal: exp.Literal) -> int | float:
    text = literal.this
    return int(text) if re.fullmatch(r"-?\d+", text) else float(decimal.Decimal(text))


def _like(value: str, pattern: str, case_sensitive: bool) -> bool:
    regex = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "%":
            regex.append(".*")
        elif ch == "_":
            regex.append(".")
        elif ch == "[":
            end = pattern.index("]", i + 1)
            body = pattern[i + 1 : end]
            negate = body.startswith("^")
            body = body[1:] if negate else body
            escaped = "".join(
                c if c == "-" and 0 < k < len(body) - 1 else re.escape(c)
                for k, c in enumerate(body)
            )
            regex.append(f"[{'^' if negate else ''}{escaped}]")
            i = end
        else:
            regex.append(re.escape(ch))
        i += 1
    flags = re.DOTALL | (0 if case_sensitive else re.IGNORECASE)
    return re.fullmatch("".join(regex), value, flags) is not None


def _binary_collation(node: exp.Expression) -> bool:
    while isinstance(node, exp.Paren):
        node = node.this
    return isinstance(node, exp.Collate) and node.expression.name.upper().endswith("_BIN2")


def _cast(value: Any, to: exp.DataType) -> Any:
    if value is None:
        return None
    kind = to.this
    text = to.sql("tsql").upper()
    if kind in (exp.DataType.Type.NVARCHAR, exp.DataType.Type.NCHAR):
        return NStr(value if isinstance(value, str) else _text(value))
    if kind in (exp.DataType.Type.VARCHAR, exp.DataType.Type.CHAR, exp.DataType.Type.TEXT):
        if isinstance(value, str):
            # A varchar holds the code page's characters only (Latin-1 here): others become '?'.
            return "".join(c if ord(c) < 256 else "?" for c in value)
        return _text(value)
    if kind in (exp.DataType.Type.BIGINT, exp.DataType.Type.INT, exp.DataType.Type.SMALLINT):
        if isinstance(value, bytes):
            return int.from_bytes(value, "big")
        return int(value)
    if kind == exp.DataType.Type.BIT:
        return 1 if value else 0
    if kind in (exp.DataType.Type.FLOAT, exp.DataType.Type.DOUBLE):
        return float(value)
    raise UnsupportedError(f"cast to {text}")


def _text(value: Any) -> str:
    return str(value)


def _compare(node: exp.Expression, left: Any, right: Any) -> bool | None:
    if left is None or right is None:
        return None
    if isinstance(left, str) and isinstance(right, str):
        # The default collation compares case-insensitively and ignores trailing blanks.
        left, right = left.rstrip(" ").lower(), right.rstrip(" ").lower()
    operators = {
        exp.EQ: lambda a, b: a == b,
        exp.NEQ: lambda a, b: a != b,
        exp.GT: lambda a, b: a > b,
        exp.GTE: lambda a, b: a >= b,
        exp.LT: lambda a, b: a < b,
        exp.LTE: lambda a, b: a <= b,
    }
    return operators[type(node)](left, right)


def evaluate(node: exp.Expression, row: Row) -> Any:
    """The value of the T-SQL expression ``node`` over ``row`` (column name -> value)."""
    if isinstance(node, exp.Alias | exp.Paren):
        return evaluate(node.this, row)
    if isinstance(node, exp.Column):
        if node.name.lower() not in row:
            raise UnsupportedError(f"column {node.sql('tsql')} not in {sorted(row)}")
        return row[node.name.lower()]
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.National):
        return NStr(node.this)
    if isinstance(node, exp.Literal):
        return node.this if node.is_string else _number(node)
    if isinstance(node, exp.Neg):
        value = evaluate(node.this, row)
        return None if value is None else -value
    if isinstance(node, exp.Cast | exp.Convert):
        target = node.to if isinstance(node, exp.Cast) else node.this
        source = node.this if isinstance(node, exp.Cast) else node.expression
        return _cast(evaluate(source, row), target)
    if isinstance(node, exp.Collate):
        return evaluate(node.this, row)
    if isinstance(node, exp.Add | exp.Sub | exp.Mul | exp.Div | exp.Mod):
        left, right = evaluate(node.this, row), evaluate(node.expression, row)
        if left is None or right is None:
            return None
        if isinstance(node, exp.Add):
            if isinstance(left, str) != isinstance(right, str):
                raise UnsupportedError(f"implicit conversion in {node.sql('tsql')}")
            total = left + right
            return NStr(total) if isinstance(left, NStr) or isinstance(right, NStr) else total
        if isinstance(node, exp.Sub):
            return left - right
        if isinstance(node, exp.Mul):
            return left * right
        if right == 0:
            raise ZeroDivisionError(node.sql("tsql"))
        if isinstance(node, exp.Div):
            if isinstance(left, int) and isinstance(right, int):
                return int(left / right)
            return left / right
        return left - right * int(left / right)
    if isinstance(node, exp.Coalesce):
        for part in [node.this, *node.expressions]:
            value = evaluate(part, row)
            if value is not None:
                return value
        return None
    if isinstance(node, exp.Nullif):
        value = evaluate(node.this, row)
        return None if value == evaluate(node.expression, row) else value
    if isinstance(node, exp.Round):
        value = evaluate(node.this, row)
        return None if value is None else round(value, evaluate(node.args["decimals"], row))
    if isinstance(node, exp.Lower):
        value = evaluate(node.this, row)
        return None if value is None else type(value)(value.lower())
    if isinstance(node, exp.Length):
        value = evaluate(node.this, row)
        return None if value is None else len(value.rstrip(" "))
    if isinstance(node, exp.Replace):
        value, old = evaluate(node.this, row), evaluate(node.expression, row)
        new = evaluate(node.args["replacement"], row)
        return type(value)(value.replace(old, new))
    if isinstance(node, exp.Translate):
        source, target = (evaluate(node.args[k], row) for k in ("from_", "to"))
        if len(source) != len(target):
            raise AssertionError("TRANSLATE needs arguments of equal length")
        value = evaluate(node.this, row)
        return type(value)(value.translate(str.maketrans(source, target)))
    if isinstance(node, exp.Repeat):
        value = evaluate(node.this, row)
        return type(value)(value * evaluate(node.args["times"], row))
    if isinstance(node, exp.Anonymous) and node.name.lower() == "nchar":
        return NStr(chr(evaluate(node.expressions[0], row)))
    if isinstance(node, exp.Concat):
        parts = [evaluate(part, row) for part in node.expressions]
        text = "".join("" if part is None else str(part) for part in parts)
        return NStr(text) if any(isinstance(part, NStr) for part in parts) else text
    if isinstance(node, exp.MD5):
        # HASHBYTES('MD5', x): the digest of x's bytes, a varbinary.
        value = evaluate(node.this, row)
        if value is None:
            return None
        data = value.encode("utf-16-le") if isinstance(value, NStr) else value.encode("latin-1")
        return hashlib.md5(data).digest()
    if isinstance(node, exp.Substring):
        value = evaluate(node.this, row)
        start, length = evaluate(node.args["start"], row), evaluate(node.args["length"], row)
        return value[start - 1 : start - 1 + length]
    if isinstance(node, exp.Like):
        value, pattern = evaluate(node.this, row), evaluate(node.expression, row)
        if value is None or pattern is None:
            return None
        matched = _like(value, pattern, case_sensitive=_binary_collation(node.this))
        return not matched if node.args.get("negate") else matched
    if isinstance(node, exp.Is):
        return evaluate(node.this, row) is None
    if isinstance(node, exp.Not):
        value = evaluate(node.this, row)
        return None if value is None else not value
    if isinstance(node, exp.And | exp.Or):
        left, right = evaluate(node.this, row), evaluate(node.expression, row)
        if isinstance(node, exp.And):
            return False if False in (left, right) else (None if None in (left, right) else True)
        return True if True in (left, right) else (None if None in (left, right) else False)
    if isinstance(node, exp.EQ | exp.NEQ | exp.GT | exp.GTE | exp.LT | exp.LTE):
        return _compare(node, evaluate(node.this, row), evaluate(node.expression, row))
    if isinstance(node, exp.Case):
        operand = node.this
        for branch in node.args["ifs"]:
            if operand is not None:
                matched = _compare(exp.EQ(), evaluate(operand, row), evaluate(branch.this, row))
            else:
                matched = evaluate(branch.this, row)
            if matched:
                return evaluate(branch.args["true"], row)
        default = node.args.get("default")
        return None if default is None else evaluate(default, row)
    raise UnsupportedError(f"no T-SQL semantics here for {type(node).__name__}: {node.sql('tsql')}")


def rows(query: exp.Expression, ctes: dict[str, exp.Expression]) -> list[Row]:
    """The rows of a SELECT (or UNION ALL of SELECTs) without WHERE, GROUP BY or joins:
    read from VALUES, from a CTE of ``ctes``, or from nothing."""
    if isinstance(query, exp.Union):
        return rows(query.left, ctes) + rows(query.right, ctes)
    if not isinstance(query, exp.Select):
        raise UnsupportedError(type(query).__name__)
    if query.args.get("joins") or query.args.get("group"):
        raise UnsupportedError("joins and aggregates")
    source = query.args.get("from") or query.args.get("from_")
    if source is None:
        inputs: list[Row] = [{}]
    elif isinstance(source.this, exp.Values):
        values = source.this
        columns = [c.name.lower() for c in values.args["alias"].columns]
        inputs = [
            dict(zip(columns, (evaluate(v, {}) for v in row.expressions), strict=True))
            for row in values.expressions
        ]
    elif isinstance(source.this, exp.Table) and source.this.name.lower() in ctes:
        inputs = rows(ctes[source.this.name.lower()], ctes)
    else:
        raise UnsupportedError(f"reading from {source.sql('tsql')}")
    result = []
    for row in inputs:
        projected: Row = {}
        for projection in query.expressions:
            if isinstance(projection, exp.Star):
                projected.update(row)
            else:
                projected[_name(projection)] = evaluate(projection, row)
        result.append(projected)
    return result


def ctes_of(statement: exp.Expression) -> dict[str, exp.Expression]:
    """The CTEs of a statement by lower-case name."""
    with_ = statement.args.get("with") or statement.args.get("with_")
    return {cte.alias.lower(): cte.this for cte in (with_.expressions if with_ else [])}
