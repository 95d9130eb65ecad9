"""first_script_on_docker: the real first_script's job for machines without Kubernetes.

The molecule/local scenario puts this file into a real local Airflow. Its one task runs the image
the image stage pushed (by digest, from the run's conf) on the local Docker Engine with the docker
provider's DockerOperator, where the real DAG (dags/first_script.py) uses the
KubernetesPodOperator. Its own dag_id (the scenario's inventory gives it to the dag_run stage as
dag_run_dag_id); the same task_id, so the task's log reads the same.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk import DAG

with DAG(
    dag_id="first_script_on_docker",
    schedule=None,
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
):
    DockerOperator(
        task_id="run_first_script",
        image="{{ dag_run.conf['image'] }}",
        command=["python3", "/app/first-script.py"],
        docker_url="unix://var/run/docker.sock",
        force_pull=True,
        mount_tmp_dir=False,
        auto_remove="success",
        user="1001",
    )
