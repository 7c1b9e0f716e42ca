"""Every generated DAG has the tasks, edges, schedule and task settings the spec
implies (expect.py reads the spec's task graph independently of the generator)."""

from __future__ import annotations

import pytest

import expect

SETS = ["committed", "mini", "mini_layered", "mini_nogold", "mini_local", "mini_layered_local", "shop_local"]


def each_dag(dag_sets, dagbag, name):
    s = dag_sets[name]
    for dag_id, nodes in expect.dags(s).items():
        dag = dagbag.get_dag(dag_id)
        assert dag is not None, f"{dag_id} is not in the DagBag"
        yield s, dag, nodes


@pytest.mark.parametrize("name", SETS)
def test_tasks_and_edges(dag_sets, dagbag, name):
    seen = {}
    for s, dag, nodes in each_dag(dag_sets, dagbag, name):
        want = {expect.task_id(n["id"]): n for n in nodes}
        assert set(dag.task_dict) == set(want), dag.dag_id
        got_edges = {(a, b) for a, t in dag.task_dict.items() for b in t.downstream_task_ids}
        want_edges = {(expect.task_id(a), expect.task_id(b)) for a, b in expect.edges(s, nodes)}
        assert got_edges == want_edges, dag.dag_id
        for tid, n in want.items():
            task = dag.task_dict[tid]
            # one TaskGroup per layer, task ids not prefixed by it
            assert task.task_group.group_id == n["layer"], tid
            seen.setdefault(n["id"], []).append(dag.dag_id)
    # Every node of the graph runs in exactly one DAG (gold only when deployed).
    s = dag_sets[name]
    want = {n["id"] for n in s.graph["nodes"] if s.gold or n["layer"] != "gold"}
    assert set(seen) == want
    assert all(len(v) == 1 for v in seen.values()), {k: v for k, v in seen.items() if len(v) > 1}


@pytest.mark.parametrize("name", SETS)
def test_schedules(dag_sets, dagbag, name):
    from airflow.timetables.interval import CronDataIntervalTimetable
    from airflow.timetables.simple import NullTimetable
    from compat import ASSET_TIMETABLES

    for s, dag, nodes in each_dag(dag_sets, dagbag, name):
        cron, assets = expect.schedule(s, dag.dag_id, nodes)
        tt = dag.timetable
        if cron:
            assert isinstance(tt, CronDataIntervalTimetable), (dag.dag_id, tt)
            assert tt._expression == cron and str(tt._timezone) == "UTC"
        elif assets:
            assert isinstance(tt, ASSET_TIMETABLES), (dag.dag_id, tt)
            # all of them (AssetAll): a run needs every upstream table published
            assert type(tt.asset_condition).__name__ == "AssetAll", dag.dag_id
            assert sorted(a.uri for a in tt.asset_condition.objects) == assets, dag.dag_id
        else:
            assert isinstance(tt, NullTimetable), (dag.dag_id, tt)
        assert dag.catchup is False and dag.max_active_runs == 1
        assert "partition" in dag.params


@pytest.mark.parametrize("name", SETS)
def test_task_settings(dag_sets, dagbag, name):
    from airflow.sdk import Asset

    for s, dag, nodes in each_dag(dag_sets, dagbag, name):
        for n in nodes:
            task = dag.task_dict[expect.task_id(n["id"])]
            where = f"{dag.dag_id}.{task.task_id}"
            skip = set(task.skip_on_exit_code or [])
            assert skip == ({4} if n["task"] in expect.SKIP_ON_4 else set()), where
            uri = expect.asset(s, n)
            assert task.outlets == ([Asset(uri)] if uri else []), where
            assert (task._post_execute_hook is not None) == bool(uri), where
            cmd = expect.command(n, s.deploy.get("bronze_wait", "2h"))
            if s.flavor == "k8s":
                check_pod(s, n, task, cmd, where)
            else:
                check_bash(s, n, task, cmd, where)


def check_pod(s, n, task, cmd, where):
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator

    d = s.deploy
    p = expect.pod(s, n)
    assert isinstance(task, KubernetesPodOperator), where
    assert task.cmds == ["worker"], where
    assert task.arguments == ["--run-id", "{{ run_id }}", *cmd], where
    assert task.image == d["image"] and task.namespace == d.get("namespace"), where
    assert task.service_account_name == d.get("service_account"), where
    assert task.do_xcom_push is True and task.get_logs is True, where
    assert task.on_finish_action.value == "delete_succeeded_pod", where
    env = task.env_vars if isinstance(task.env_vars, dict) else {e.name: e.value for e in task.env_vars}
    assert env == {"WORKER_XCOM": "1", **(d.get("env") or {})}, where
    assert [e.config_map_ref.name for e in task.env_from] == [f"{s.pipeline.replace('_', '-')}-worker"], where
    r = task.container_resources
    assert r.requests == r.limits == {"cpu": p["cpu"], "memory": p["memory"]}, where
    assert (task.retries, task.pool) == (p["retries"], p["pool"]), where


def check_bash(s, n, task, cmd, where):
    from airflow.providers.standard.operators.bash import BashOperator

    assert isinstance(task, BashOperator), where
    words = ['"$WORKER"'] + ['"$PARTITION"' if w == expect.PARTITION else w for w in cmd]
    assert task.bash_command == " ".join(words), where
    assert task.retries == 0, where
    assert task.append_env is True, where
    assert task.env["PARTITION"] == expect.PARTITION and task.env["WORKER_RUN_ID"] == "{{ run_id }}", where
    assert task.env["WORKER"] == "{{ params.worker }}" and task.env["WORKER_LAKE"] == "{{ params.lake }}", where
