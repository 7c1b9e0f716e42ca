"""Fixtures of the Airflow DAG tests (run them with tests/airflow/run.sh).

The session builds the worker from this checkout, migrates a throwaway SQLite
metadata DB, and lays out the DAG files the tests load, one folder per set: the
committed dags/ and files the worker generates from specs (every flavor and mode).
"""

from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

REPO = pathlib.Path(__file__).resolve().parents[2]
FULL_SPEC = REPO / "internal" / "dagsgen" / "testdata" / "full"
SHOP_SPEC = REPO / "specs" / "shop"
MARKER = ".shoplake-airflow-test-home"

# Airflow reads its configuration on first import: point it at a throwaway home
# before anything imports it, and refuse a home that holds anything else.
if "AIRFLOW_HOME" not in os.environ:
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="airflow-home-")
HOME = pathlib.Path(os.environ["AIRFLOW_HOME"])
if HOME.exists() and any(p.name != MARKER for p in HOME.iterdir()) and not (HOME / MARKER).exists():
    sys.exit(f"tests/airflow: AIRFLOW_HOME={HOME} is not empty; run tests/airflow/run.sh, which makes a fresh one")
HOME.mkdir(parents=True, exist_ok=True)
(HOME / MARKER).touch()
DAGS = pathlib.Path(os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(HOME / "dags")))
os.environ.setdefault("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", f"sqlite:///{HOME / 'airflow.db'}")
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")

# The partition the local end-to-end run processes.
LOCAL_PARTITION = "2026-11-20"


@dataclasses.dataclass
class DagSet:
    """DAG files generated from one spec with one flavor, in their own folder."""

    name: str
    folder: pathlib.Path
    spec_dir: pathlib.Path
    flavor: str  # k8s | local
    pipeline: str
    spec: dict  # pipeline.yaml, parsed
    graph: dict  # worker specs graph --format json
    lake: pathlib.Path | None = None

    @property
    def deploy(self) -> dict:
        return self.spec.get("deploy") or {}

    @property
    def mode(self) -> str:
        return self.deploy.get("mode") or "end_to_end"

    @property
    def gold(self) -> bool:
        return self.deploy.get("gold", True) is not False

    @property
    def suffix(self) -> str:
        return "_local" if self.flavor == "local" else ""


def worker(bin_path, *args, check=True, **kw):
    """Run the worker; return the CompletedProcess (text)."""
    kw.setdefault("capture_output", True)
    proc = subprocess.run([str(bin_path), *map(str, args)], text=True, **kw)
    if check and proc.returncode != 0:
        raise AssertionError(f"worker {' '.join(map(str, args))}: exit {proc.returncode}\n{proc.stderr}")
    return proc


@pytest.fixture(scope="session")
def worker_bin(tmp_path_factory):
    """The worker binary, built from this checkout."""
    out = tmp_path_factory.mktemp("bin") / "worker"
    subprocess.run(["go", "build", "-o", str(out), "./worker"], cwd=REPO, check=True)
    return out


def spec_copy(src: pathlib.Path, dst: pathlib.Path, pipeline: str | None = None, deploy: dict | None = None):
    """Copy a spec folder, renaming the pipeline and adding deploy settings."""
    shutil.copytree(src, dst)
    y = (dst / "pipeline.yaml").read_text()
    if pipeline:
        y, n = re.subn(r"(?m)^pipeline: \w+$", f"pipeline: {pipeline}", y)
        assert n == 1
    for key, value in (deploy or {}).items():
        y, n = re.subn(r"(?m)^deploy:\n", f"deploy:\n  {key}: {value}\n", y)
        assert n == 1
    (dst / "pipeline.yaml").write_text(y)
    return dst


@pytest.fixture(scope="session")
def dag_sets(worker_bin, tmp_path_factory) -> dict[str, DagSet]:
    """Every set of DAG files under test, generated into the Airflow dags folder."""
    import yaml

    specs = tmp_path_factory.mktemp("specs")
    lake = tmp_path_factory.mktemp("lake")
    plans = [
        # name, spec folder, flavor
        ("committed", SHOP_SPEC, "k8s"),
        ("mini", FULL_SPEC, "k8s"),
        ("mini_layered", spec_copy(FULL_SPEC, specs / "mini_layered", "mini_layered", {"mode": "layered"}), "k8s"),
        ("mini_nogold", spec_copy(FULL_SPEC, specs / "mini_nogold", "mini_nogold", {"gold": "false"}), "k8s"),
        ("mini_local", FULL_SPEC, "local"),
        ("mini_layered_local", specs / "mini_layered", "local"),
        ("shop_local", spec_copy(SHOP_SPEC, specs / "shop_layered", None, {"mode": "layered"}), "local"),
    ]
    DAGS.mkdir(parents=True, exist_ok=True)
    sets = {}
    for name, spec_dir, flavor in plans:
        folder = DAGS / name
        if name == "committed":
            # The committed files themselves, not a fresh generation of them.
            shutil.copytree(REPO / "dags", folder, ignore=shutil.ignore_patterns("*.md", "__pycache__"))
        else:
            worker(worker_bin, "--specs", spec_dir, "--lake", lake, "dags", "generate",
                   "--flavor", flavor, "--worker", worker_bin, "--out", folder)
        spec = yaml.safe_load((spec_dir / "pipeline.yaml").read_text())
        graph = json.loads(worker(worker_bin, "--specs", spec_dir, "specs", "graph", "--format", "json").stdout)
        sets[name] = DagSet(name, folder, spec_dir, flavor, spec["pipeline"], spec, graph,
                            lake if name == "shop_local" else None)
    return sets


@pytest.fixture(scope="session")
def airflow_db():
    """A migrated metadata DB."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True)


@pytest.fixture(scope="session")
def dagbag(dag_sets, airflow_db):
    """Every generated DAG, parsed by Airflow and stored in the metadata DB (what the
    scheduler's DAG processor does), so runs can be created for them."""
    from airflow.dag_processing.bundles.manager import DagBundlesManager
    from compat import dag_bag, sync_bag_to_db

    bag = dag_bag(str(DAGS))
    assert bag.import_errors == {}, bag.import_errors
    DagBundlesManager().sync_bundles_to_db()
    sync_bag_to_db(bag, "dags-folder", None)
    return bag
