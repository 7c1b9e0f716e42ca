"""The local flavor end to end: `airflow dags test` runs the layered DAGs of the
reference spec in order, each task running the worker binary built from this
checkout over a lake of generated data.

Bronze and silver (the commands the worker has today) must succeed. The later
layers run when the worker has their commands and are checked the same way; until
then their test says which command is missing."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

import harness
from conftest import LOCAL_PARTITION, worker

LAYERS = ["bronze", "silver", "dims_refresh", "enriched", "gold"]
COMMAND = {"bronze": "bronze", "silver": "silver", "dims_refresh": "dims", "enriched": "enriched", "gold": "gold"}


def has_command(worker_bin, cmd):
    return worker(worker_bin, cmd, "--help", check=False).returncode == 0


@pytest.fixture(scope="session")
def local_runs(worker_bin, dag_sets, dagbag):
    """Run the layered local DAGs in order for one partition; return
    {layer: (dag_id, run_id, task states, output)}, or the reason a layer did not run."""
    s = dag_sets["shop_local"]
    worker(worker_bin, "--lake", s.lake, "--specs", s.spec_dir, "generate",
           "--days", "1", "--start", LOCAL_PARTITION, "--scale", "0.001")
    out = {}
    for layer in LAYERS:
        dag_id = f"shop_{layer}_local"
        if dag_id not in dagbag.dag_ids:
            out[layer] = f"the spec has no {layer} tasks"
            continue
        if not has_command(worker_bin, COMMAND[layer]):
            out[layer] = f"the worker has no `{COMMAND[layer]}` command yet"
            continue
        proc = subprocess.run(
            [sys.executable, "-m", "airflow", "dags", "test", dag_id, "--conf",
             json.dumps({"partition": LOCAL_PARTITION})],
            capture_output=True, text=True,  # no timeout: a slow machine is not a failure
        )
        run_id = latest_run(dag_id)
        out[layer] = (dag_id, run_id, harness.task_states(dag_id, run_id), proc.stdout + proc.stderr)
    return out


def latest_run(dag_id):
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session

    with create_session() as session:
        dr = session.query(DagRun).filter_by(dag_id=dag_id).order_by(DagRun.id.desc()).first()
        assert dr is not None, f"airflow dags test left no run of {dag_id}"
        return dr.run_id


def check_layer(local_runs, layer):
    got = local_runs[layer]
    if isinstance(got, str):
        pytest.skip(got)
    dag_id, run_id, states, output = got
    bad = {t: st for t, st in states.items() if st not in ("success", "skipped")}
    assert states and not bad, f"{dag_id} {run_id}: {bad}\n{output[-6000:]}"
    return dag_id, states


def test_bronze_and_silver(local_runs, dag_sets):
    s = dag_sets["shop_local"]
    for layer in ("bronze", "silver"):
        dag_id, states = check_layer(local_runs, layer)
        assert set(states.values()) == {"success"}, states
    tables = [n["table"] for n in s.graph["nodes"] if n["task"] == "publish" and n["layer"] == "silver"]
    assert len(tables) == 8
    for t in tables:
        # committed: the partition's commit point exists
        manifest = s.lake / "silver" / t / f"ingestion_dt={LOCAL_PARTITION}" / "_MANIFEST.json"
        assert manifest.exists(), manifest
        # the publish task's asset event carries the partition, for the layers after it
        events = harness.asset_events(f"lake://shop_local/silver/{t}")
        assert events and events[-1][1] == {"partition": LOCAL_PARTITION}, (t, events)
    for t in [n["table"] for n in s.graph["nodes"] if n["task"] == "bronze.validate"]:
        assert harness.asset_events(f"lake://shop_local/bronze/{t}")[-1][1] == {"partition": LOCAL_PARTITION}


def test_dims_refresh(local_runs):
    check_layer(local_runs, "dims_refresh")


def test_enriched(local_runs):
    check_layer(local_runs, "enriched")


def test_gold(local_runs):
    check_layer(local_runs, "gold")
