"""What differs between the Airflow releases the DAG tests run on (run.sh: 3.1 and the
newest 3.x), so each test imports one name and works on both."""

from __future__ import annotations

import inspect

try:
    # Airflow 3.3 moved the DagBag to the DAG processor (the old path warns, then goes).
    from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db
except ImportError:
    from airflow.models.dagbag import DagBag, sync_bag_to_db

from airflow.timetables.simple import AssetTriggeredTimetable as _CoreAssetTimetable

try:
    # 3.3: a DAG scheduled on assets keeps the Task SDK's own timetable class.
    from airflow.sdk.definitions.timetables.assets import AssetTriggeredTimetable as _SDKAssetTimetable
except ImportError:
    _SDKAssetTimetable = _CoreAssetTimetable

__all__ = ["ASSET_TIMETABLES", "DagBag", "dag_bag", "sync_bag_to_db"]

# The timetable classes of a DAG scheduled on assets, on any supported release.
ASSET_TIMETABLES = (_CoreAssetTimetable, _SDKAssetTimetable)

# 3.3 dropped include_examples (examples follow [core] load_examples, off in run.sh).
_TAKES_INCLUDE_EXAMPLES = "include_examples" in inspect.signature(DagBag.__init__).parameters


def dag_bag(dag_folder, **kw) -> DagBag:
    """A DagBag of dag_folder without Airflow's example DAGs, on any supported release."""
    if _TAKES_INCLUDE_EXAMPLES:
        kw.setdefault("include_examples", False)
    return DagBag(dag_folder, **kw)
