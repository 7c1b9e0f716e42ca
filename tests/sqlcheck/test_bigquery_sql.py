"""Every gold mart's BigQuery statement is valid BigQuery SQL and means what the
DuckDB statement means.

For each mart and partition D, `worker gold render` prints the statement
`worker gold build` runs, once per warehouse. The BigQuery one must parse with
sqlglot's BigQuery dialect as exactly one statement reading only
project-qualified tables; transpiled to DuckDB and run on the warehouse the
demo built (the file ATTACHed under the project's name, so
`project.silver.orders` resolves), it must give the same columns and the same
rows, as multisets, as the DuckDB statement. The DuckDB statement's rows must
be what `gold build` wrote to the mart's partition D.

Where sqlglot's BigQuery -> DuckDB translation does not keep BigQuery's
documented meaning, BIGQUERY_MEANING rewrites the parsed BigQuery tree into an
equivalent BigQuery tree sqlglot does translate faithfully (test_sqlglot_gaps
shows each gap, so a sqlglot upgrade that closes one says so).
"""

from __future__ import annotations

import collections
import datetime
import decimal
import json
import math
import uuid

import duckdb
import pytest
import sqlglot
from sqlglot import exp
from sqlglot.errors import ErrorLevel

from conftest import PROJECT, worker

LAYERS = {"bronze", "silver", "dims", "enriched", "gold", "ops"}


# --- BigQuery meaning that sqlglot 30.30.0 loses on the way to DuckDB ------------

def _dayofweek(node: exp.Expression) -> exp.Expression:
    """BigQuery's EXTRACT(DAYOFWEEK FROM x) is 1 = Sunday .. 7 = Saturday; sqlglot
    emits DuckDB's EXTRACT(DAYOFWEEK ...), which is 0 = Sunday .. 6 = Saturday.
    Same meaning, translated right: MOD(ISO day of week, 7) + 1."""
    if isinstance(node, exp.Extract) and node.name.upper() == "DAYOFWEEK":
        iso = exp.DayOfWeekIso(this=node.expression.copy())
        return exp.paren(exp.Add(this=exp.Mod(this=iso, expression=exp.Literal.number(7)),
                                 expression=exp.Literal.number(1)))
    return node


def _date_arith(node: exp.Expression) -> exp.Expression:
    """BigQuery's DATE_ADD / DATE_SUB return a DATE; sqlglot emits DuckDB's
    date + INTERVAL, which is a TIMESTAMP. Same meaning: CAST(... AS DATE)."""
    if isinstance(node, (exp.DateAdd, exp.DateSub)) and not isinstance(node.parent, exp.Cast):
        return exp.cast(node.copy(), exp.DataType.build("DATE"))
    return node


BIGQUERY_MEANING = {"EXTRACT(DAYOFWEEK)": _dayofweek, "DATE_ADD/DATE_SUB type": _date_arith}


def with_bigquery_meaning(tree: exp.Expression) -> tuple[exp.Expression, list[str]]:
    applied = []
    for name, fix in BIGQUERY_MEANING.items():
        before = tree.sql(dialect="bigquery")
        tree = tree.transform(fix)
        if tree.sql(dialect="bigquery") != before:
            applied.append(name)
    return tree, applied


# --- comparing results ------------------------------------------------------------

def norm(v):
    """A value as comparable across the two statements."""
    if v is None or isinstance(v, (bool, str, int)):
        return v
    if isinstance(v, (float, decimal.Decimal)):
        f = float(v)
        if math.isnan(f):
            return "NaN"
        r = round(f, 6)
        return 0.0 if r == 0 else r
    if isinstance(v, (datetime.date, datetime.datetime, datetime.time)):
        return v.isoformat()
    if isinstance(v, (datetime.timedelta, uuid.UUID, bytes)):
        return str(v)
    if isinstance(v, (list, tuple)):
        return tuple(norm(x) for x in v)
    if isinstance(v, dict):
        return tuple(sorted((k, norm(x)) for k, x in v.items()))
    raise TypeError(f"no normalisation for {type(v).__name__}: {v!r}")


def sort_key(row):
    return tuple((x is None, type(x).__name__ if not isinstance(x, (int, float)) else "n", x if x is not None else 0)
                 for x in row)


def kind(duck_type) -> str:
    """What a column is, at the level both warehouses agree on."""
    t = str(duck_type).upper()
    if t in ("DATE",):
        return "date"
    if t.startswith("TIMESTAMP"):
        return "timestamp"
    if t in ("BOOLEAN",):
        return "bool"
    if t in ("VARCHAR",):
        return "string"
    if t.startswith(("DECIMAL", "DOUBLE", "FLOAT", "REAL")) or t.endswith("INT") or t in ("BIGINT", "HUGEINT"):
        return "number"
    return t


def run(con: duckdb.DuckDBPyConnection, catalog: str, sql: str):
    con.execute(f'USE "{catalog}"')
    rel = con.execute(sql)
    cols = [(d[0], kind(d[1])) for d in rel.description]
    return cols, rel.fetchall()


def multiset_diff(a, b, limit=5):
    ca = collections.Counter(tuple(norm(x) for x in r) for r in a)
    cb = collections.Counter(tuple(norm(x) for x in r) for r in b)
    only_a, only_b = sorted((ca - cb).elements(), key=sort_key), sorted((cb - ca).elements(), key=sort_key)
    return only_a[:limit], only_b[:limit], sum((ca - cb).values()), sum((cb - ca).values())


# --- the check ----------------------------------------------------------------------

def render(case, dialect: str) -> str:
    return worker("--specs", case.domain.spec_dir, "--bq-project", PROJECT, "gold", "render",
                  "--mart", case.mart, "--partition", case.partition, "--dialect", dialect).stdout


def ctes(tree: exp.Expression) -> set[str]:
    return {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}


def test_mart(case, lakes, duckdb_versions_agree):
    lake = lakes(case.domain)
    bq, dk = render(case, "bigquery"), render(case, "duckdb")

    statements = [s for s in sqlglot.parse(bq, read="bigquery") if s is not None]
    assert len(statements) == 1, f"{len(statements)} statements in the BigQuery rendering:\n{bq}"
    tree = sqlglot.parse_one(bq, read="bigquery")
    assert isinstance(tree, exp.Query), f"not a query: {type(tree).__name__}"

    local = ctes(tree)
    for t in tree.find_all(exp.Table):
        if not t.db and t.name.lower() in local:
            continue
        assert (t.catalog, t.db in LAYERS) == (PROJECT, True), f"table {t.sql('bigquery')} is not `{PROJECT}.<layer>.<table>`"

    plain = sqlglot.transpile(bq, read="bigquery", write="duckdb", unsupported_level=ErrorLevel.RAISE)
    assert len(plain) == 1
    tree, applied = with_bigquery_meaning(tree)
    transpiled = tree.sql(dialect="duckdb", unsupported_level=ErrorLevel.RAISE, pretty=True)

    con = duckdb.connect(":memory:")
    try:
        con.execute(f"ATTACH '{lake / 'warehouse.duckdb'}' AS \"{PROJECT}\" (READ_ONLY)")
        # The transpiled statement runs in the empty in-memory catalog: only
        # project-qualified names resolve. The DuckDB one runs in the warehouse's.
        bq_cols, bq_rows = run(con, "memory", transpiled)
        dk_cols, dk_rows = run(con, PROJECT, dk)

        note = f"\ncorrections of sqlglot applied: {applied or 'none'}\n--- transpiled:\n{transpiled}\n--- duckdb:\n{dk}"
        assert bq_cols == dk_cols, f"columns differ:\n  bigquery->duckdb {bq_cols}\n  duckdb           {dk_cols}{note}"
        only_bq, only_dk, n_bq, n_dk = multiset_diff(bq_rows, dk_rows)
        assert not (n_bq or n_dk), (
            f"rows differ: {n_bq} only in the transpiled BigQuery result, {n_dk} only in DuckDB's "
            f"(of {len(bq_rows)} / {len(dk_rows)})\n  e.g. bigquery->duckdb: {only_bq}\n  e.g. duckdb:           {only_dk}{note}")

        # The DuckDB statement is the one gold build ran: its rows are the mart's partition D.
        audits = sorted(lake.glob(f"_audit/dt={case.partition}/*/gold.build.{case.mart}.json"))
        assert audits, f"no gold.build audit of {case.mart} {case.partition} in {lake}"
        rec = json.loads(audits[-1].read_text())
        assert rec["status"] == "success", rec
        assert rec["rows_out"] == len(dk_rows), f"gold build wrote {rec['rows_out']} rows, the rendering gives {len(dk_rows)}"
        cols = ", ".join(f'"{c}"' for c, _ in dk_cols)
        missing = con.execute(f'SELECT count(*) FROM (({dk}) EXCEPT ALL SELECT {cols} FROM "gold"."{case.mart}")').fetchone()[0]
        assert missing == 0, f"{missing} rows of the rendering are not in gold.{case.mart}"
    finally:
        con.close()


# --- the gaps BIGQUERY_MEANING bridges ------------------------------------------------

# (BigQuery statement, what BigQuery documents it returns)
GAPS = {
    "EXTRACT(DAYOFWEEK)": ("SELECT EXTRACT(DAYOFWEEK FROM DATE '2026-11-22')", 1),  # a Sunday
    "DATE_ADD/DATE_SUB type": ("SELECT DATE_ADD(DATE '2026-11-22', INTERVAL -1 DAY)", datetime.date(2026, 11, 21)),
}


@pytest.mark.parametrize("gap", sorted(GAPS))
def test_sqlglot_gaps(gap):
    """Each correction is still needed with the pinned sqlglot, and is right."""
    sql, want = GAPS[gap]
    plain = duckdb.sql(sqlglot.transpile(sql, read="bigquery", write="duckdb")[0]).fetchone()[0]
    fixed_tree, applied = with_bigquery_meaning(sqlglot.parse_one(sql, read="bigquery"))
    fixed = duckdb.sql(fixed_tree.sql(dialect="duckdb")).fetchone()[0]
    assert applied == [gap]
    assert (type(fixed), fixed) == (type(want), want), f"corrected: {fixed!r}, BigQuery gives {want!r}"
    assert (type(plain), plain) != (type(want), want), (
        f"sqlglot {sqlglot.__version__} now translates {gap} faithfully ({plain!r}): drop its correction")
