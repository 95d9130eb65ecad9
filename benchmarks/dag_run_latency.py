"""Detection latency, HTTP requests and the API server's CPU per run of dag_run's wait, against a baseline that
polls every 5 s (issue 28: a run's end seen within 0.10 s median and 0.30 s worst, with no more requests per run and
no more CPU on the API server while it waits).

Detection latency = the moment the wait returns minus the run's end_date as Airflow records it. API server CPU = the
user and system time of the API server's processes (its process group) from the trigger to the wait's return: with
the test Airflow that server also answers the task's own calls (the execution API), alike for every method.
Starts its own Airflow 3.3.2 (the test-support part), runs a DAG whose one task takes --task-seconds N times with each
method, interleaved so all see the same machine load, and prints median and worst figures and ratios to dag_run's
default (poll_interval 0.5 s, the server's check interval on the /wait stream).

    .venv/bin/python benchmarks/dag_run_latency.py --runs 10 [--intervals 0.5 0.25 0.1]
"""

from __future__ import annotations

import argparse
import os
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
    def one(**context):
        import time
        time.sleep(float(context["dag_run"].conf.get("seconds", 0)))
        print("done")
    one()

bench()
'''
BASELINE_INTERVAL = 5.0


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def group_cpu_seconds(pgid):
    """User and system CPU seconds of every live process in process group ``pgid``."""
    ticks = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended while we looked
        if int(fields[2]) == pgid:
            ticks += int(fields[11]) + int(fields[12])
    return ticks / CLOCK_TICKS


def params(run_id, interval, seconds):
    return dict(dag_id=DAG_ID, run_id=run_id, conf={"seconds": seconds}, note=None, logical_date=None, unpause=False,
                wait=True, wait_timeout=300, dag_wait_timeout=60, poll_interval=interval, success_states=["success"],
                failure_states=["failed"], log_tasks=[], log_tail=20, rerun_failed=False)


def end_time(run):
    return datetime.fromisoformat(run["end_date"].replace("Z", "+00:00")).timestamp()


def with_module(airflow, api_group, run_id, interval, seconds):
    client = AirflowClient(airflow.url, username=airflow.admin, password=airflow.admin_password)
    cpu = group_cpu_seconds(api_group)
    result = DagRunner(client, params(run_id, interval, seconds)).run()
    returned = time.time()
    return returned - end_time(result["run"]), client.requests_sent, group_cpu_seconds(api_group) - cpu


def with_baseline(airflow, api_group, run_id, seconds):
    """Trigger, then GET the run every 5 s: what a hand-written loop or a 5 s poke_interval does."""
    client = AirflowClient(airflow.url, username=airflow.admin, password=airflow.admin_password).connect()
    cpu = group_cpu_seconds(api_group)
    client.trigger(DAG_ID, {"dag_run_id": run_id, "logical_date": None, "conf": {"seconds": seconds}})
    while True:
        time.sleep(BASELINE_INTERVAL)
        run = client.get_run(DAG_ID, run_id)
        if run["state"] in ("success", "failed"):
            return time.time() - end_time(run), client.requests_sent, group_cpu_seconds(api_group) - cpu


def report(name, samples, reference=None):
    latencies = [latency for latency, _count, _cpu in samples]
    requests = [count for _latency, count, _cpu in samples]
    cpu = statistics.median(used for _latency, _count, used in samples)
    latency = statistics.median(latencies)
    ratios = (f"   ratios to dag_run's default: latency {latency / reference[0]:.2f}, API CPU {cpu / reference[1]:.2f}"
              if reference else "")
    print(f"{name:<30} median latency {latency:6.3f} s   worst {max(latencies):6.3f} s   "
          f"requests/run median {statistics.median(requests):3.0f} max {max(requests):3d}   "
          f"API server CPU/run median {cpu * 1000:5.0f} ms{ratios}")
    return latency, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--task-seconds", type=float, default=5.0, help="how long the DAG's one task takes")
    parser.add_argument("--intervals", type=float, nargs="+", default=[0.5, 0.25, 0.1],
                        help="dag_run poll_intervals to measure; the first is the reference")
    args = parser.parse_args()

    airflow = Airflow(ensure_airflow_venv())
    try:
        airflow.write_dag(DAG_ID + ".py", DAG)
        airflow.reserialize()
        api_group = airflow.process_group(airflow.api_server)
        module = {interval: [] for interval in args.intervals}
        baseline = []
        for index in range(args.runs):
            for interval in args.intervals:
                module[interval].append(with_module(airflow, api_group, f"module-{interval}-{index}", interval,
                                                    args.task_seconds))
            baseline.append(with_baseline(airflow, api_group, f"baseline-{index}", args.task_seconds))
        print(f"Airflow {airflow.get('/api/v2/version')['version']}, {args.runs} runs of a one-task DAG "
              f"({args.task_seconds:g} s) each, interleaved")
        reference = None
        for interval in args.intervals:
            figures = report(f"dag_run /wait every {interval:g} s", module[interval], reference)
            reference = reference or figures
        report(f"baseline: GET every {BASELINE_INTERVAL:g} s", baseline, reference)
    finally:
        airflow.stop()


if __name__ == "__main__":
    main()
