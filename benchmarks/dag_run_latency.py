"""Detection latency and HTTP requests per run of dag_run's wait, against a baseline that polls every 5 s.

Detection latency = the moment the wait returns minus the run's end_date as Airflow records it.
Starts its own Airflow 3.3.2 (the test-support part), runs a one-task DAG N times with each method,
interleaved so both see the same machine load, and prints median and worst figures.

    .venv/bin/python benchmarks/dag_run_latency.py --runs 10
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "collections")]

from ansible_collections.airflow_k8s.platform.plugins.module_utils.airflow_api import AirflowClient  # noqa: E402
from ansible_collections.airflow_k8s.platform.plugins.module_utils.dag_runner import DagRunner  # noqa: E402
from tests.support.airflow import Airflow, ensure_airflow_venv  # noqa: E402

DAG_ID = "bench_one_task"
DAG = f'''
from datetime import datetime
from airflow.sdk import dag, task

@dag(dag_id="{DAG_ID}", schedule=None, start_date=datetime(2026, 1, 1), catchup=False,
     is_paused_upon_creation=False)
def bench():
    @task
    def one():
        print("done")
    one()

bench()
'''
BASELINE_INTERVAL = 5.0


def params(run_id):
    return dict(dag_id=DAG_ID, run_id=run_id, conf=None, note=None, logical_date=None, unpause=False, wait=True,
                wait_timeout=300, dag_wait_timeout=60, poll_interval=0.5, success_states=["success"],
                failure_states=["failed"], log_tasks=[], log_tail=20)


def end_time(run):
    return datetime.fromisoformat(run["end_date"].replace("Z", "+00:00")).timestamp()


def with_module(airflow, run_id):
    client = AirflowClient(airflow.url, username=airflow.admin, password=airflow.admin_password)
    result = DagRunner(client, params(run_id)).run()
    returned = time.time()
    return returned - end_time(result["run"]), client.requests_sent


def with_baseline(airflow, run_id):
    """Trigger, then GET the run every 5 s: what a hand-written loop or a 5 s poke_interval does."""
    client = AirflowClient(airflow.url, username=airflow.admin, password=airflow.admin_password).connect()
    client.trigger(DAG_ID, {"dag_run_id": run_id, "logical_date": None, "conf": {}})
    while True:
        time.sleep(BASELINE_INTERVAL)
        run = client.get_run(DAG_ID, run_id)
        if run["state"] in ("success", "failed"):
            return time.time() - end_time(run), client.requests_sent


def report(name, samples):
    latencies = [latency for latency, _count in samples]
    requests = [count for _latency, count in samples]
    print(f"{name:<24} median latency {statistics.median(latencies):6.3f} s   worst {max(latencies):6.3f} s   "
          f"requests/run median {statistics.median(requests):4.0f}  max {max(requests)}")
    return statistics.median(latencies)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()

    airflow = Airflow(ensure_airflow_venv())
    try:
        airflow.write_dag(DAG_ID + ".py", DAG)
        airflow.reserialize()
        module, baseline = [], []
        for index in range(args.runs):
            module.append(with_module(airflow, f"module-{index}"))
            baseline.append(with_baseline(airflow, f"baseline-{index}"))
        print(f"Airflow {airflow.get('/api/v2/version')['version']}, {args.runs} runs of a one-task DAG each")
        ours = report("dag_run (/wait stream)", module)
        theirs = report("baseline (poll every 5s)", baseline)
        print(f"median latency ratio dag_run/baseline: {ours / theirs:.3f}")
    finally:
        airflow.stop()


if __name__ == "__main__":
    main()
