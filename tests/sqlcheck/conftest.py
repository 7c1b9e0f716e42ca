"""Fixtures of the BigQuery SQL check (run it with tests/sqlcheck/run.sh).

The session builds the worker from this checkout and makes one lake per domain
with every gold mart built in its DuckDB warehouse: the shop demo (two days) and
dbt's jaffle_shop (imported from specs/jaffle_shop/seeds). Tests are generated per
domain, gold mart (the gold.build nodes of `worker specs graph --format json`)
and partition.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import json
import os
import pathlib
import shutil
import subprocess
import tempfile

import duckdb
import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
SEEDS = REPO / "specs" / "jaffle_shop" / "seeds"

# The BigQuery project the statements are rendered for: a real-looking one, with
# the hyphens project ids usually have, so the quoting is exercised too.
PROJECT = "shoplake-sqlcheck"

_tmp = pathlib.Path(tempfile.mkdtemp(prefix="shoplake-sqlcheck-"))
atexit.register(shutil.rmtree, _tmp, True)


@dataclasses.dataclass(frozen=True)
class Domain:
    name: str
    spec_dir: pathlib.Path
    partitions: tuple[str, ...]


SHOP = Domain("shop", REPO / "specs" / "shop", ("2026-11-20", "2026-11-21"))
JAFFLE = Domain("jaffle_shop", REPO / "specs" / "jaffle_shop", ("2018-04-09",))
DOMAINS = (SHOP, JAFFLE)


@dataclasses.dataclass(frozen=True)
class Case:
    domain: Domain
    mart: str
    partition: str

    @property
    def id(self) -> str:
        return f"{self.domain.name}-{self.mart}-{self.partition}"


@functools.cache
def worker_bin() -> pathlib.Path:
    """The worker, built from this checkout (once; collection needs it)."""
    out = _tmp / "bin" / "worker"
    subprocess.run(["go", "build", "-o", str(out), "./worker"], cwd=REPO, check=True)
    return out


def worker(*args, check: bool = True) -> subprocess.CompletedProcess:
    """Run the worker with JSON logs; fail with its stderr on a non-zero exit."""
    proc = subprocess.run([str(worker_bin()), "--log-format", "json", *map(str, args)],
                          capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"worker {' '.join(map(str, args))}: exit {proc.returncode}\n{proc.stderr[-4000:]}")
    return proc


@functools.cache
def marts(domain: Domain) -> tuple[str, ...]:
    graph = json.loads(worker("--specs", domain.spec_dir, "specs", "graph", "--format", "json").stdout)
    return tuple(sorted(n["table"] for n in graph["nodes"] if n["task"] == "gold.build"))


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        cases = [Case(d, m, p) for d in DOMAINS for m in marts(d) for p in d.partitions]
        metafunc.parametrize("case", cases, ids=[c.id for c in cases])


def _shop_lake() -> pathlib.Path:
    lake = _tmp / "shop"
    worker("--specs", SHOP.spec_dir, "--lake", lake, "demo",
           "--days", len(SHOP.partitions), "--start", SHOP.partitions[0], "--scale", "0.001")
    return lake


def _jaffle_lake() -> pathlib.Path:
    lake = _tmp / "jaffle_shop"
    if not SEEDS.is_dir():
        raise AssertionError(f"jaffle_shop CSVs not found under {SEEDS}")
    (d,) = JAFFLE.partitions
    w = ("--specs", JAFFLE.spec_dir, "--lake", lake)
    for t in ("customers", "orders", "payments"):
        worker(*w, "bronze", "import", "--table", t, "--partition", d, SEEDS / f"raw_{t}.csv")
    proc = worker(*w, "run", "--partition", d)
    assert "FAILED" not in proc.stdout, proc.stdout
    return lake


_LAKES = {SHOP.name: _shop_lake, JAFFLE.name: _jaffle_lake}


@pytest.fixture(scope="session")
def lakes():
    """Domain name -> its lake, made on first use."""
    made: dict[str, pathlib.Path] = {}

    def get(domain: Domain) -> pathlib.Path:
        if domain.name not in made:
            made[domain.name] = _LAKES[domain.name]()
        return made[domain.name]

    return get


@pytest.fixture(scope="session")
def duckdb_versions_agree():
    """The Python duckdb is the DuckDB release the worker links (so it reads its files)."""
    lake = _tmp / "version-probe"
    out = worker("--lake", lake, "sql", "--format", "json", "SELECT version() AS v").stdout
    go = json.loads(out)[0]["v"].lstrip("v")
    assert go == duckdb.__version__, (
        f"the worker links DuckDB {go}, tests/sqlcheck/requirements.txt pins duckdb=={duckdb.__version__}: "
        "pin the same release")
