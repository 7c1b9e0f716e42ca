"""What the spec implies for the generated DAGs, computed here from the task graph
(`worker specs graph --format json`) and pipeline.yaml, independently of the Go
generator, so the tests compare two readings of DESIGN section 7."""

from __future__ import annotations

LAYERS = ["bronze", "silver", "dims", "enriched", "gold"]
GATES = {"bronze.validate", "silver.validate", "enriched.validate"}
SKIP_ON_4 = {"bronze.validate", "dims.snapshot"}
EMITTERS = {"bronze.validate", "publish", "gold.build"}
PARTITION = "{{ lake_partition(params, dag_run, triggering_asset_events) }}"


def task_id(node_id: str) -> str:
    return node_id.replace(".", "__")


def dags(s) -> dict[str, list[dict]]:
    """dag_id -> the graph nodes it runs, for a DagSet."""
    nodes = [n for n in s.graph["nodes"] if s.gold or n["layer"] != "gold"]
    p, sfx = s.pipeline, s.suffix
    if s.mode == "end_to_end":
        out = {f"{p}_silver_to_gold{sfx}": [n for n in nodes if n["layer"] != "dims"]}
    else:
        out = {f"{p}_{layer}{sfx}": [n for n in nodes if n["layer"] == layer] for layer in LAYERS if layer != "dims"}
    out[f"{p}_dims_refresh{sfx}"] = [n for n in nodes if n["layer"] == "dims"]
    return {k: v for k, v in out.items() if v}


def edges(s, nodes: list[dict]) -> set[tuple[str, str]]:
    ids = {n["id"] for n in nodes}
    return {(e["from"], e["to"]) for e in s.graph["edges"] if e["from"] in ids and e["to"] in ids}


def asset(s, node: dict) -> str | None:
    if node["task"] not in EMITTERS:
        return None
    return f"lake://{s.pipeline}{s.suffix}/{node['layer']}/{node['table']}"


def schedule(s, dag_id: str, nodes: list[dict]) -> tuple[str | None, list[str]]:
    """(cron, assets) that start the DAG."""
    layer = nodes[0]["layer"]
    spec_cron = s.spec.get("schedule") or None
    if s.mode == "end_to_end" and layer != "dims":
        return spec_cron, []
    cron = (s.deploy.get("schedules") or {}).get(layer)
    if cron:
        return cron, []
    ids = {n["id"] for n in nodes}
    by_id = {n["id"]: n for n in s.graph["nodes"]}
    assets = sorted(
        {
            asset(s, by_id[e["from"]])
            for e in s.graph["edges"]
            if e["to"] in ids and e["from"] not in ids and by_id[e["from"]]["layer"] != "dims"
        }
    )
    if assets:
        return None, assets
    return spec_cron, []


def command(node: dict, bronze_wait: str) -> list[str]:
    """The worker command line of a node, after the global flags (DESIGN section 5)."""
    t, table, p = node["task"], node["table"], ["--partition", PARTITION]
    return {
        "bronze.validate": ["bronze", "validate", "--table", table, *p, "--wait", bronze_wait],
        "silver.build": ["silver", "build", "--table", table, *p],
        "silver.validate": ["silver", "validate", "--table", table, *p],
        "publish": ["publish", "--layer", node["layer"], "--table", table, *p],
        "dims.snapshot": ["dims", "snapshot", "--dim", table, *p, "--if-stale"],
        "enriched.build": ["enriched", "build", "--transform", table, *p],
        "enriched.validate": ["enriched", "validate", "--transform", table, *p],
        "gold.load": ["gold", "load", "--table", table, *p],
        "gold.build": ["gold", "build", "--mart", table, *p],
    }[t]


def pod(s, node: dict) -> dict:
    """cpu, memory, retries and pool of a k8s task: built-in defaults, deploy, then
    deploy.tables; gates never retry."""
    d = s.deploy
    memory = {"silver.build": "2Gi", "silver.validate": "2Gi", "enriched.build": "6Gi", "enriched.validate": "6Gi"}
    out = {
        "cpu": "1",
        "memory": memory.get(node["task"], "1Gi"),
        "retries": d.get("retries", 2),
        "pool": d.get("pool") or "default_pool",
    }
    out.update({k: v for k, v in (d.get("resources") or {}).items()})
    table = node["table"].split(".")[-1] if node["task"] == "gold.load" else node["table"]
    over = (d.get("tables") or {}).get(table) or {}
    out.update(over.get("resources") or {})
    if "retries" in over:
        out["retries"] = over["retries"]
    if over.get("pool"):
        out["pool"] = over["pool"]
    if node["task"] in GATES:
        out["retries"] = 0
    return out
