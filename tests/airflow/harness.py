"""Run one task of a real DagRun in-process, as Airflow's own `dag.test()` does:
the run is created in the metadata DB the way the scheduler creates it (run type,
logical date, data interval, consumed asset events), then the task runner renders
the task's templates and executes it through the Execution API, in-process."""

from __future__ import annotations

import datetime

UTC = datetime.timezone.utc


def create_run(dag_id, run_type, *, run_after, logical_date=None, data_interval=None, conf=None,
               asset_event_ids=()):
    """Create a running DagRun of dag_id; return its run_id."""
    from sqlalchemy import select

    from airflow.models.asset import AssetEvent
    from airflow.models.dagbag import DBDagBag
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from airflow.utils.state import DagRunState
    from airflow.utils.types import DagRunTriggeredByType

    with create_session() as session:
        sdag = DBDagBag().get_latest_version_of_dag(dag_id, session=session)
        run_id = DagRun.generate_run_id(run_type=run_type, logical_date=logical_date, run_after=run_after)
        dr = sdag.create_dagrun(
            run_id=run_id,
            run_type=run_type,
            logical_date=logical_date,
            data_interval=data_interval,
            run_after=run_after,
            conf=conf,
            triggered_by=DagRunTriggeredByType.TEST,
            state=DagRunState.RUNNING,
            session=session,
        )
        if asset_event_ids:
            events = session.scalars(select(AssetEvent).where(AssetEvent.id.in_(list(asset_event_ids)))).all()
            dr.consumed_asset_events.extend(events)
        return run_id


def run_task(dag, run_id, task_id):
    """Run one task of a run; return the TaskRunResult (its ti has the final state)."""
    from airflow.sdk.api.datamodels._generated import TaskInstance as TaskInstanceSDK
    from airflow.sdk.execution_time.supervisor import run_task_in_process
    from airflow.utils.session import create_session
    from airflow.utils.state import TaskInstanceState

    from airflow.models.dagrun import DagRun

    with create_session() as session:
        dr = session.query(DagRun).filter_by(dag_id=dag.dag_id, run_id=run_id).one()
        ti = dr.get_task_instance(task_id, session=session)
        ti.try_number += 1
        ti.state = TaskInstanceState.QUEUED  # the Execution API starts only queued tasks
        session.flush()
        sdk_ti = TaskInstanceSDK(
            id=ti.id,
            task_id=ti.task_id,
            dag_id=ti.dag_id,
            run_id=ti.run_id,
            try_number=ti.try_number,
            map_index=ti.map_index,
            dag_version_id=ti.dag_version_id,
        )
    return run_task_in_process(ti=sdk_ti, task=dag.get_task(task_id))


def asset_events(uri, source_run_id=None):
    """The asset events of an asset (of one source run): [(id, extra)]."""
    from sqlalchemy import select

    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session

    with create_session() as session:
        q = select(AssetEvent).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(AssetModel.uri == uri)
        if source_run_id:
            q = q.where(AssetEvent.source_run_id == source_run_id)
        return [(e.id, dict(e.extra or {})) for e in session.scalars(q.order_by(AssetEvent.id)).all()]


def task_states(dag_id, run_id):
    """task_id -> state of a run's task instances."""
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session

    with create_session() as session:
        tis = session.query(TaskInstance).filter_by(dag_id=dag_id, run_id=run_id).all()
        return {ti.task_id: (str(ti.state) if ti.state else None) for ti in tis}
