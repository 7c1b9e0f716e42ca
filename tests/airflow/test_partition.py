"""The partition a task's command line gets, rendered by the real Airflow for every
kind of run (DESIGN section 7): scheduled, manual with and without a logical date,
backfill, a rerun of one partition with the param, and asset-triggered runs, whose
partition comes from the asset events the upstream publish tasks emitted."""

from __future__ import annotations

import datetime
import types

import pytest

import harness
from harness import UTC

E2E = "shop_silver_to_gold"
DIMS = "shop_dims_refresh"


def at(*a):
    return datetime.datetime(*a, tzinfo=UTC)


@pytest.fixture
def rendered(monkeypatch):
    """Operators record what they would run instead of running it: a pod's rendered
    arguments, a bash task's rendered command and environment."""
    from airflow.providers.cncf.kubernetes.operators.pod import KubernetesPodOperator
    from airflow.providers.standard.operators.bash import BashOperator

    seen = {}

    def pod(self, context):
        seen[(context["dag_run"].run_id, self.task_id)] = list(self.arguments)

    def bash(self, context):
        seen[(context["dag_run"].run_id, self.task_id)] = {"command": self.bash_command, "env": dict(self.env)}

    monkeypatch.setattr(KubernetesPodOperator, "execute", pod)
    monkeypatch.setattr(BashOperator, "execute", bash)
    return seen


def run(dagbag, rendered, dag_id, task_id, run_type, **kw):
    """Create a run, run one task of it; return (run_id, what the task got)."""
    run_id = harness.create_run(dag_id, run_type, **kw)
    result = harness.run_task(dagbag.get_dag(dag_id), run_id, task_id)
    assert result.ti.state == "success", f"{dag_id}.{task_id} in {run_id}: {result.ti.state}"
    return run_id, rendered[(run_id, task_id)]


def partition_of(args):
    return args[args.index("--partition") + 1]


def interval_after(dag, start, end):
    """The next interval the DAG's timetable schedules after [start, end)."""
    from airflow.timetables.base import DataInterval, TimeRestriction

    info = dag.timetable.next_dagrun_info(
        last_automated_data_interval=DataInterval(start, end),
        restriction=TimeRestriction(earliest=dag.start_date, latest=None, catchup=True),
    )
    return info


def test_scheduled_run_processes_the_day_that_ended(dagbag, rendered):
    from airflow.utils.types import DagRunType

    dag = dagbag.get_dag(E2E)
    info = interval_after(dag, at(2026, 11, 19, 3), at(2026, 11, 20, 3))
    # The 03:00 run of 2026-11-21 covers the interval that just ended.
    assert (info.run_after, info.data_interval.start, info.data_interval.end) == (
        at(2026, 11, 21, 3), at(2026, 11, 20, 3), at(2026, 11, 21, 3))
    run_id, args = run(dagbag, rendered, E2E, "bronze__validate__orders", DagRunType.SCHEDULED,
                       run_after=info.run_after, logical_date=info.logical_date, data_interval=info.data_interval)
    assert args == ["--run-id", run_id, "bronze", "validate", "--table", "orders",
                    "--partition", "2026-11-20", "--wait", "2h"]


def test_manual_run_without_logical_date(dagbag, rendered):
    from airflow.utils.types import DagRunType

    _, args = run(dagbag, rendered, E2E, "silver__build__orders", DagRunType.MANUAL,
                  run_after=at(2026, 11, 22, 10, 30))
    assert partition_of(args) == "2026-11-21"


def test_manual_run_with_logical_date(dagbag, rendered):
    """What the UI's trigger form does by default: a logical date, and the data
    interval the timetable infers for it (the last complete one)."""
    from airflow.utils.types import DagRunType

    dag = dagbag.get_dag(E2E)
    logical = at(2026, 11, 22, 10, 30)
    interval = dag.timetable.infer_manual_data_interval(run_after=logical)
    _, args = run(dagbag, rendered, E2E, "silver__build__orders", DagRunType.MANUAL,
                  run_after=logical, logical_date=logical, data_interval=interval)
    assert partition_of(args) == "2026-11-21"


def test_backfill(dagbag, rendered):
    from airflow.utils.types import DagRunType

    dag = dagbag.get_dag(E2E)
    info = interval_after(dag, at(2026, 10, 4, 3), at(2026, 10, 5, 3))
    _, args = run(dagbag, rendered, E2E, "publish__silver__orders", DagRunType.BACKFILL_JOB,
                  run_after=info.run_after, logical_date=info.logical_date, data_interval=info.data_interval)
    assert partition_of(args) == "2026-10-05"


def test_rerun_of_one_partition_with_the_param(dagbag, rendered):
    from airflow.utils.types import DagRunType

    dag = dagbag.get_dag(E2E)
    logical = at(2026, 11, 23, 11, 45)
    for kw in ({}, {"logical_date": logical, "data_interval": dag.timetable.infer_manual_data_interval(run_after=logical)}):
        _, args = run(dagbag, rendered, E2E, "silver__validate__orders", DagRunType.MANUAL,
                      run_after=logical, conf={"partition": "2026-01-15"}, **kw)
        assert partition_of(args) == "2026-01-15"


def test_asset_triggered_run_takes_the_partition_of_the_events(dagbag, rendered):
    """The publish tasks' asset events carry the partition they published; the dims
    refresh they trigger processes that partition."""
    from airflow.utils.types import DagRunType

    events = []
    for table in ("customers", "products"):
        run_id, _ = run(dagbag, rendered, E2E, f"publish__silver__{table}", DagRunType.MANUAL,
                        run_after=at(2026, 11, 19, 9), conf={"partition": "2026-11-18"})
        evs = harness.asset_events(f"lake://shop/silver/{table}", source_run_id=run_id)
        assert [extra for _, extra in evs] == [{"partition": "2026-11-18"}]
        events += [i for i, _ in evs]
    # As the scheduler creates asset-triggered runs: no logical date, no interval.
    _, args = run(dagbag, rendered, DIMS, "dims__snapshot__customers", DagRunType.ASSET_TRIGGERED,
                  run_after=at(2026, 11, 19, 9, 5), asset_event_ids=events)
    assert args[2:] == ["dims", "snapshot", "--dim", "customers", "--partition", "2026-11-18", "--if-stale"]


def test_asset_events_of_several_partitions_fail_the_run(dagbag, rendered):
    from airflow.utils.types import DagRunType

    events = []
    for p in ("2026-11-16", "2026-11-17"):
        run_id, _ = run(dagbag, rendered, E2E, "publish__silver__customers", DagRunType.MANUAL,
                        run_after=at(2026, 11, 18, 9), conf={"partition": p})
        events += [i for i, _ in harness.asset_events("lake://shop/silver/customers", source_run_id=run_id)]
    run_id = harness.create_run(DIMS, DagRunType.ASSET_TRIGGERED, run_after=at(2026, 11, 18, 10),
                                asset_event_ids=events)
    result = harness.run_task(dagbag.get_dag(DIMS), run_id, "dims__snapshot__customers")
    assert result.ti.state in ("failed", "up_for_retry")
    assert (run_id, "dims__snapshot__customers") not in rendered


@pytest.mark.parametrize("bad", ["2026-13-01", "20261120", "../x", "2026-11-20; rm -rf /"])
def test_a_bad_partition_param_is_refused(dagbag, bad):
    """Airflow refuses to create the run (the param is a JSON Schema "date"), and the
    partition macro refuses such a value from an asset event (see below)."""
    from airflow.exceptions import ParamValidationError
    from airflow.utils.types import DagRunType

    with pytest.raises(ParamValidationError, match="is not a 'date'"):
        harness.create_run(E2E, DagRunType.MANUAL, run_after=at(2026, 11, 22), conf={"partition": bad})


def test_local_flavor_renders_the_same_partition(dagbag, rendered, worker_bin):
    from airflow.utils.types import DagRunType

    run_id, got = run(dagbag, rendered, "mini_silver_to_gold_local", "bronze__validate__orders", DagRunType.MANUAL,
                      run_after=at(2026, 11, 22, 10), conf={"partition": "2026-11-05"})
    assert got["command"] == '"$WORKER" bronze validate --table orders --partition "$PARTITION" --wait 90m'
    env = got["env"]
    assert env["PARTITION"] == "2026-11-05"
    assert env["WORKER_RUN_ID"] == run_id
    assert env["WORKER"] == str(worker_bin)
    _, got = run(dagbag, rendered, "mini_silver_to_gold_local", "silver__build__orders", DagRunType.MANUAL,
                 run_after=at(2026, 11, 22, 10, 30))
    assert got["env"]["PARTITION"] == "2026-11-21"


def test_lake_partition_messages(dagbag):
    """The partition macro explains what is wrong."""
    lake_partition = dagbag.get_dag(E2E).user_defined_macros["lake_partition"]

    def event(p):
        return types.SimpleNamespace(extra={"partition": p})

    run = types.SimpleNamespace(run_id="r1", data_interval_start=None, run_after=at(2026, 11, 22, 1))
    assert lake_partition({"partition": None}, run, {}) == "2026-11-21"
    assert lake_partition({}, run, {"a": [event("2026-11-02")], "b": [event("2026-11-02")]}) == "2026-11-02"
    with pytest.raises(ValueError, match=r"several partitions \['2026-11-02', '2026-11-03'\].*one run per partition"):
        lake_partition({}, run, {"a": [event("2026-11-02")], "b": [event("2026-11-03")]})
    with pytest.raises(ValueError, match=r"partition '\.\./x' from the asset event .* is not a date"):
        lake_partition({}, run, {"a": [event("../x")]})
    with pytest.raises(ValueError, match=r"from the \"partition\" param is not a date"):
        lake_partition({"partition": "tomorrow"}, run, {})
